// A restricted unpickler: the data subset of Python's pickle protocol (numbers, strings, bytes, tuples, lists,
// dicts, the memo), plus GLOBAL/STACK_GLOBAL, REDUCE, BUILD and BINPERSID for the few callables the caller
// allows. Nothing from the file is ever executed: a global is only a name looked up in the caller's allow-list,
// and "calling" it runs the caller's own TypeScript for that name. Any other global, and every opcode that
// builds arbitrary objects (INST, OBJ, NEWOBJ, EXT*), is refused with the name of the global or opcode.
//
// Why our own: no maintained JavaScript pickle reader can be restricted this way (they resolve globals to
// JavaScript classes or emulate them), and the state-dict subset is a page of code.
import { ByteReader } from './binary';

/** A Python tuple (kept apart from lists, which torch's rebuild functions never take). */
export class PyTuple {
  constructor(readonly items: unknown[]) {}
}

/** A Python dict; keys are strings or numbers in the files we read. `attributes` holds what BUILD set. */
export class PyDict {
  readonly entries = new Map<unknown, unknown>();
  attributes?: unknown;
}

/** A global the allow-list admits: its name, and the TypeScript that stands for calling it (if it may be). */
export class PyGlobal {
  constructor(
    readonly name: string,
    readonly call?: (args: unknown[]) => unknown,
  ) {}
}

export interface UnpickleOptions {
  /** `module.name` → what the name stands for; a name not here is refused. */
  globals: ReadonlyMap<string, PyGlobal>;
  /** BINPERSID: the object a persistent id refers to (torch.save's storages). */
  persistentLoad?: (id: unknown) => unknown;
  /** What to call the file in messages. */
  what: string;
}

export class PickleError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'PickleError';
  }
}

/** Every opcode's name, so that a refused one is named in the message. */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** Decodes a pickle under the options' allow-list; returns the object STOP leaves on the stack. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  return new Unpickler(bytes, options).run();
}

class Unpickler {
  private readonly r: ByteReader;
  private readonly stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private pos = 0;

  constructor(
    bytes: Uint8Array,
    private readonly options: UnpickleOptions,
  ) {
    this.r = new ByteReader(bytes, (p) => {
      throw new PickleError(`${options.what}: ${p}`);
    });
  }

  private fail(problem: string): never {
    throw new PickleError(`${this.options.what}, byte ${this.pos}: ${problem}`);
  }

  private pop(): unknown {
    if (this.stack.length === 0 || this.stack.length <= (this.marks.at(-1) ?? -1)) this.fail('the pickle pops an empty stack (corrupt data)');
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0) this.fail('the pickle reads an empty stack (corrupt data)');
    return this.stack[this.stack.length - 1];
  }

  /** The items pushed since the last MARK, which is removed. */
  private popMark(): unknown[] {
    const at = this.marks.pop();
    if (at === undefined) this.fail('the pickle closes a MARK it never opened (corrupt data)');
    return this.stack.splice(at);
  }

  private next8(what: string): number {
    return this.r.u8(this.pos++, what);
  }

  private next16(what: string): number {
    const value = this.r.u16(this.pos, what);
    this.pos += 2;
    return value;
  }

  private next32(what: string): number {
    const value = this.r.u32(this.pos, what);
    this.pos += 4;
    return value;
  }

  private next64(what: string): number {
    const value = this.r.u64(this.pos, what);
    this.pos += 8;
    return value;
  }

  private take(n: number, what: string): Uint8Array {
    const out = this.r.slice(this.pos, n, what);
    this.pos += n;
    return out;
  }

  private line(what: string): string {
    const end = this.r.bytes.indexOf(0x0a, this.pos);
    if (end < 0 || end - this.pos > 1024) this.fail(`${what} is not a line of text (corrupt data)`);
    return new TextDecoder('latin1').decode(this.take(end - this.pos + 1, what).subarray(0, -1));
  }

  private global(module: string, name: string): PyGlobal {
    const allowed = this.options.globals.get(`${module}.${name}`);
    if (!allowed) {
      this.fail(
        `the pickle names the Python global ${module}.${name}, which is not allowed; only ${[...this.options.globals.keys()].join(', ')} are ` +
          '(a state dict holds nothing else). Nothing from the file was run',
      );
    }
    return allowed;
  }

  run(): unknown {
    const { r } = this;
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    const text = (bytes: Uint8Array): string => {
      try {
        return utf8.decode(bytes);
      } catch {
        return this.fail('a string is not valid UTF-8 (corrupt data)');
      }
    };
    for (;;) {
      const at = this.pos;
      const op = this.next8('the pickle (it ends before STOP)');
      switch (op) {
        case 0x80: // PROTO
          if (this.next8('PROTO') > 5) this.fail('unknown pickle protocol');
          break;
        case 0x95: // FRAME: a length hint only
          this.take(8, 'FRAME');
          break;
        case 0x2e: // STOP
          return this.pop();
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP
          this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.stack.push(this.top());
          break;
        case 0x4e: // NONE
          this.stack.push(null);
          break;
        case 0x88: // NEWTRUE
        case 0x89: // NEWFALSE
          this.stack.push(op === 0x88);
          break;
        case 0x4a: // BININT
          this.take(4, 'BININT');
          this.stack.push(r.view.getInt32(at + 1, true));
          break;
        case 0x4b: // BININT1
          this.stack.push(this.next8('BININT1'));
          break;
        case 0x4d: // BININT2
          this.stack.push(this.next16('BININT2'));
          break;
        case 0x8a: // LONG1: a little-endian two's-complement integer of n bytes
          this.stack.push(this.long(this.next8('LONG1')));
          break;
        case 0x47: // BINFLOAT (big-endian)
          this.take(8, 'BINFLOAT');
          this.stack.push(r.view.getFloat64(at + 1, false));
          break;
        case 0x58: // BINUNICODE
          this.stack.push(text(this.take(this.next32('BINUNICODE'), 'a string')));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.stack.push(text(this.take(this.next8('SHORT_BINUNICODE'), 'a string')));
          break;
        case 0x8d: // BINUNICODE8
          this.stack.push(text(this.take(this.next64('BINUNICODE8'), 'a string')));
          break;
        case 0x54: // BINSTRING (Python 2 str, read as latin1)
        case 0x42: // BINBYTES
          this.stack.push(this.bytesOrLatin1(op, this.take(this.next32('a length'), 'bytes')));
          break;
        case 0x55: // SHORT_BINSTRING
        case 0x43: // SHORT_BINBYTES
          this.stack.push(this.bytesOrLatin1(op, this.take(this.next8('a length'), 'bytes')));
          break;
        case 0x29: // EMPTY_TUPLE
          this.stack.push(new PyTuple([]));
          break;
        case 0x74: // TUPLE
          this.stack.push(new PyTuple(this.popMark()));
          break;
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: {
          // TUPLE3
          const items = [...Array(op - 0x84)].map(() => this.pop()).reverse();
          this.stack.push(new PyTuple(items));
          break;
        }
        case 0x5d: // EMPTY_LIST
          this.stack.push([]);
          break;
        case 0x6c: // LIST
          this.stack.push(this.popMark());
          break;
        case 0x61: // APPEND
        case 0x65: {
          // APPENDS
          const items = op === 0x61 ? [this.pop()] : this.popMark();
          const list = this.top();
          if (!Array.isArray(list)) this.fail(`${OPCODE_NAMES[op]} on something that is not a list`);
          list.push(...items);
          break;
        }
        case 0x7d: // EMPTY_DICT
          this.stack.push(new PyDict());
          break;
        case 0x64: // DICT
          this.stack.push(this.setItems(new PyDict(), this.popMark()));
          break;
        case 0x73: // SETITEM
        case 0x75: {
          // SETITEMS
          const items = op === 0x73 ? [this.pop(), this.pop()].reverse() : this.popMark();
          const dict = this.top();
          if (!(dict instanceof PyDict)) this.fail(`${OPCODE_NAMES[op]} on something that is not a dict`);
          this.setItems(dict, items);
          break;
        }
        case 0x71: // BINPUT
          this.memo.set(this.next8('BINPUT'), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.next32('LONG_BINPUT'), this.top());
          break;
        case 0x94: // MEMOIZE
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x68: // BINGET
        case 0x6a: {
          // LONG_BINGET
          const key = op === 0x68 ? this.next8('BINGET') : this.next32('LONG_BINGET');
          if (!this.memo.has(key)) this.fail(`${OPCODE_NAMES[op]} of memo entry ${key}, which was never stored (corrupt data)`);
          this.stack.push(this.memo.get(key));
          break;
        }
        case 0x63: {
          // GLOBAL "module\nname\n"
          const module = this.line('GLOBAL module');
          this.stack.push(this.global(module, this.line('GLOBAL name')));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL without a module and a name');
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x52: {
          // REDUCE: callable(*args), only for an allowed global that has a meaning here
          const args = this.pop();
          const callable = this.pop();
          if (!(callable instanceof PyGlobal) || !callable.call) {
            this.fail(`REDUCE calls ${callable instanceof PyGlobal ? callable.name : 'something that is not an allowed global'}, which is not allowed`);
          }
          if (!(args instanceof PyTuple)) this.fail(`REDUCE of ${callable.name} without an argument tuple`);
          try {
            this.stack.push(callable.call(args.items));
          } catch (e) {
            if (e instanceof PickleError) throw e;
            this.fail(`${callable.name}: ${(e as Error).message}`);
          }
          break;
        }
        case 0x62: {
          // BUILD: only a dict's attributes (an OrderedDict's _metadata), kept aside
          const state = this.pop();
          const target = this.top();
          if (!(target instanceof PyDict)) this.fail('BUILD sets the state of an object, which is not allowed (only a dict\'s attributes are)');
          target.attributes = state;
          break;
        }
        case 0x51: {
          // BINPERSID
          const id = this.pop();
          if (!this.options.persistentLoad) this.fail('BINPERSID (a persistent reference) is not allowed here');
          try {
            this.stack.push(this.options.persistentLoad(id));
          } catch (e) {
            if (e instanceof PickleError) throw e;
            this.fail((e as Error).message);
          }
          break;
        }
        default:
          this.fail(
            `opcode ${OPCODE_NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`} is not allowed: only the data opcodes of a state dict are read, and nothing from the file is run`,
          );
      }
    }
  }

  private long(n: number): number {
    const bytes = this.take(n, 'LONG1');
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    if (n > 0 && bytes[n - 1]! & 0x80) value -= 1n << BigInt(8 * n);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) this.fail(`the integer ${value} is too large`);
    return Number(value);
  }

  private bytesOrLatin1(op: number, bytes: Uint8Array): unknown {
    return op === 0x54 || op === 0x55 ? new TextDecoder('latin1').decode(bytes) : Uint8Array.from(bytes);
  }

  private setItems(dict: PyDict, items: unknown[]): PyDict {
    if (items.length % 2 !== 0) this.fail('a dict with an odd number of keys and values (corrupt data)');
    for (let i = 0; i < items.length; i += 2) dict.entries.set(items[i], items[i + 1]);
    return dict;
  }
}
