// The HDF5 reader: h5wasm (the HDF5 C library compiled to WebAssembly, maintained by NIST). It starts
// asynchronously (WebAssembly instantiation), so runs load it first (`loadHdf5`, awaited by analyze) and the
// readers, which are synchronous, take the loaded module (`hdf5Module`).
//
// It stays outside the bundles (4 MB, and ESM with top-level await): the VSIX carries a copy in dist/h5wasm/
// (scripts/build.mjs), found beside the bundle; in the repository it is node_modules/h5wasm.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WeightsFileError } from './binary';
import { bundleDirectories } from '../../bundleDirectories';

/** The part of h5wasm's API the readers use. */
export interface H5Module {
  ready: Promise<{ activate_throwing_error_handler(): number }>;
  File: new (path: string, mode: 'r') => H5Group & { close(): unknown };
}

export interface H5Entity {
  path: string;
  type: string;
  attrs: Record<string, { value: unknown; json_value: unknown }>;
}

export interface H5Group extends H5Entity {
  keys(): string[];
  get(name: string): H5Entity | null;
}

export interface H5Dataset extends H5Entity {
  shape: number[] | null;
  dtype: unknown;
  metadata: { type: number; size: number; littleEndian: boolean };
  value: unknown;
}

/** import() through the CLI's starter where it offers one (src/cli/start.ts says why), else directly. */
function importModule(specifier: string): Promise<unknown> {
  const viaStarter = (globalThis as Record<symbol, unknown>)[Symbol.for('rnnJacobian.import')];
  return typeof viaStarter === 'function' ? (viaStarter as (s: string) => Promise<unknown>)(specifier) : import(specifier);
}

let loaded: H5Module | undefined;
let loading: Promise<H5Module> | undefined;

function candidates(): string[] {
  const beside = bundleDirectories(1).map((d) => join(d, 'h5wasm', 'hdf5_hl.js')).filter((f) => existsSync(f));
  return [...beside.map((f) => pathToFileURL(f).href), 'h5wasm/node'];
}

/** Loads h5wasm once; later calls return the same module. */
export function loadHdf5(): Promise<H5Module> {
  loading ??= (async () => {
    const errors: string[] = [];
    for (const specifier of candidates()) {
      try {
        const module = (await importModule(specifier)) as H5Module;
        // HDF5 prints its error stack to stderr by default (a dozen HDF5-DIAG lines per failure, before our own
        // message); h5wasm's throwing handler (H5Eset_auto2) puts that text into the thrown Error instead.
        (await module.ready).activate_throwing_error_handler();
        loaded = module;
        return module;
      } catch (e) {
        errors.push(`${specifier}: ${(e as Error).message}`);
      }
    }
    loading = undefined;
    throw new Error(`the HDF5 reader (h5wasm) did not load: ${errors.join('; ')}`);
  })();
  return loading;
}

/** The loaded module, or undefined before `loadHdf5` has finished. */
export function hdf5Module(): H5Module | undefined {
  return loaded;
}

/**
 * Opens HDF5 bytes (already read from the user's file, so bounded by its real size) from a private temporary
 * folder, runs `body` on the root group, and removes the copy whatever happens. h5wasm's node build (NODERAWFS)
 * opens real paths: its file system is the disk's, so the copy must go where this user may write (not "/").
 */
export function withHdf5<T>(h5: H5Module, bytes: Uint8Array, body: (root: H5Group) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-jacobian-h5-'));
  try {
    const path = join(dir, 'weights.h5');
    writeFileSync(path, bytes);
    const file = new h5.File(path, 'r');
    try {
      return body(file);
    } finally {
      file.close();
    }
  } catch (e) {
    const cause = e instanceof Error && !(e instanceof WeightsFileError) ? hdf5Cause(e.message) : undefined;
    throw cause ? new Error(cause) : e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The innermost error of the first HDF5 error stack in `text`: its frames run from the API call ("#000 … H5Fopen():
 * unable to synchronously open file") down to what went wrong ("#006 … H5F__super_read(): truncated file: eof =
 * 300, …"); the outer ones only repeat "unable to open". Undefined when `text` holds no HDF5 error stack.
 */
export function hdf5Cause(text: string): string | undefined {
  const firstStack = text.split(/HDF5-DIAG:/)[1] ?? '';
  const frames = [...firstStack.matchAll(/#\d+: .* in (\w+)\(\): (.+)/g)];
  const innermost = frames[frames.length - 1];
  return innermost ? `${innermost[2].trim()}, from HDF5's ${innermost[1]}` : undefined;
}

export const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function looksLikeHdf5(head: Uint8Array): boolean {
  return HDF5_MAGIC.every((b, i) => head[i] === b);
}
