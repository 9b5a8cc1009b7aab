// Backend choice: native TensorFlow (tfjs-node) when it loads, else WebAssembly, else plain JS (cpu).
// The preference 'auto' walks that list; an explicit choice that cannot load is an error, not a
// silent fallback, so a user who asked for `tensorflow` never gets numbers from another backend unawares.
import * as path from 'node:path';
import * as fs from 'node:fs';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { bundledInstance, type Tf, useTfInstance } from './tf';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;

export class BackendUnavailableError extends Error {}

let chosen: BackendName | undefined;
let tfjsNodeError: string | undefined;

/** Where tfjs-node may be found besides normal resolution (the extension passes its setting here). */
function tfjsNodeCandidates(): string[] {
  const extra = process.env.RNN_JACOBIAN_TFJS_NODE;
  return ['@tensorflow/tfjs-node', ...(extra ? [extra] : [])];
}

function loadTfjsNode(): Tf | undefined {
  // libtensorflow logs CPU-feature notices to stderr at load; they are noise in a CLI's output.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  for (const id of tfjsNodeCandidates()) {
    try {
      // A runtime require: tfjs-node is native and optional, never bundled.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(id) as Tf;
    } catch (e) {
      tfjsNodeError = `${id}: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return undefined;
}

/** Directory holding the tfjs-backend-wasm binaries: beside the bundle, or in node_modules during tests. */
function wasmDirectory(): string | undefined {
  const candidates = [__dirname, path.join(__dirname, '..'), path.join(__dirname, '../..'), path.join(__dirname, '../../..')];
  try {
    candidates.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')));
  } catch {
    // not resolvable from a bundle; the bundle dir candidates cover that case
  }
  return candidates.find((d) => fs.existsSync(path.join(d, 'tfjs-backend-wasm.wasm')));
}

async function tryWasm(): Promise<boolean> {
  const dir = wasmDirectory();
  if (!dir) return false;
  setWasmPaths(dir + path.sep);
  const t = bundledInstance();
  try {
    return await t.setBackend('wasm');
  } catch {
    return false;
  }
}

/**
 * Selects the backend once per process and returns its name. Later calls return the same choice
 * (tfjs backends are process-wide); asking for a different one later is an error.
 */
export async function initBackend(preference: BackendPreference = 'auto'): Promise<BackendName> {
  // PROD silences tfjs's console banners (the CLI's stdout is a table people read) and debug checks.
  bundledInstance().env().set('PROD', true);
  if (chosen) {
    if (preference !== 'auto' && preference !== chosen) {
      throw new BackendUnavailableError(`backend ${chosen} is already active in this process; cannot switch to ${preference}`);
    }
    return chosen;
  }
  if (preference === 'tensorflow' || preference === 'auto') {
    const native = loadTfjsNode();
    if (native && native.getBackend() === 'tensorflow') {
      useTfInstance(native);
      chosen = 'tensorflow';
      return chosen;
    }
    if (preference === 'tensorflow') {
      throw new BackendUnavailableError(
        `the tensorflow backend (@tensorflow/tfjs-node) did not load: ${tfjsNodeError ?? 'unknown reason'}. ` +
          'Run `bash scripts/setup-tfjs-node.sh`, or choose --backend wasm|cpu.',
      );
    }
  }
  if (preference === 'wasm' || preference === 'auto') {
    if (await tryWasm()) {
      chosen = 'wasm';
      return chosen;
    }
    if (preference === 'wasm') throw new BackendUnavailableError('the wasm backend did not load (tfjs-backend-wasm.wasm not found)');
  }
  await bundledInstance().setBackend('cpu');
  chosen = 'cpu';
  return chosen;
}

/** Why tfjs-node did not load, for logs. */
export function tfjsNodeLoadError(): string | undefined {
  return tfjsNodeError;
}

/** For tests that run every backend in one process: switch freely (tests only). */
export async function switchBackendForTests(name: BackendName): Promise<boolean> {
  if (name === 'tensorflow') {
    const native = loadTfjsNode();
    if (!native) return false;
    useTfInstance(native);
    await native.setBackend('tensorflow');
    chosen = name;
    return true;
  }
  useTfInstance(bundledInstance());
  const ok = name === 'wasm' ? await tryWasm() : await bundledInstance().setBackend('cpu');
  if (ok) chosen = name;
  return ok;
}
