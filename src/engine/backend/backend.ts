// Backend choice: native TensorFlow (tfjs-node), WebAssembly, or plain JS (cpu). Nothing is loaded at module
// load: each backend's code is imported when it is chosen, so a run that does not need tfjs-node (~0.5 s to
// load) or the wasm binary never pays for them. `auto` picks the backend with the least estimated time for the
// run's work, counting the load of a backend not loaded yet, and says which and why. An explicit choice that
// cannot load is an error, never a silent fallback: a user who asked for `tensorflow` never gets numbers from
// another backend unawares.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleDirectories } from '../bundleDirectories';
import { bundledInstance, type Tf, useTfInstance } from './tf';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;

export class BackendUnavailableError extends Error {}

export interface BackendChoice {
  name: BackendName;
  /** One line for the log and stderr: which backend and why. */
  reason: string;
}

/**
 * The one-off cost of loading each backend into a fresh process, and its rate on the engine's float32 work
 * (matmuls and the element-wise products of structured Jacobians), measured with the CLI on W2 (seed relu, n 512,
 * T 64, batch 4: ~0.67 GFLOP by estimateFlops) and W1 (BENCHMARKS.md, "Backend choice"). Only their ratios
 * matter. With these, a fresh process takes cpu below ~50 MFLOP, wasm up to ~1.8 GFLOP and tensorflow above;
 * a process that has tensorflow loaded already (the extension's warm engine) keeps it.
 */
export const BACKEND_COSTS: Record<BackendName, { loadMs: number; gflops: number }> = {
  cpu: { loadMs: 15, gflops: 0.8 },
  wasm: { loadMs: 60, gflops: 3 },
  tensorflow: { loadMs: 450, gflops: 9 },
};

const loaded = new Set<BackendName>();
let active: BackendName | undefined;
let tfjsNodeError: string | undefined;
let tfjsNode: Tf | undefined;

/** Where tfjs-node may be found besides normal resolution (the extension passes its setting here). */
function tfjsNodeCandidates(): string[] {
  const extra = process.env.RNN_JACOBIAN_TFJS_NODE;
  return ['@tensorflow/tfjs-node', ...(extra ? [extra] : [])];
}

/** TF_NUM_INTRAOP_THREADS as the user gave it (undefined: not set), before this process set its default. */
const userIntraOpThreads = process.env.TF_NUM_INTRAOP_THREADS;

/**
 * TensorFlow's intra-op thread pool (one per process), unless the user set TF_NUM_INTRAOP_THREADS: half the cores.
 * TensorFlow's default (one per core) splits every op over all cores, and the engine's ops are many and small
 * (Krylov steps over [rows, n] blocks), where the splitting costs more than it saves; and LSC issues ops from a
 * second thread of its own (thread/secondThread.ts), which uses the other half. Measured on this 2-core machine only
 * (a pool of one thread against two): an LSC step of the LSTM n 128 525 → 400 ms, W6 with spectra 3.50 → 2.95 s,
 * N2048 unchanged; with a pool of one, each op runs on the thread that issued it. Read by TensorFlow when its
 * context is created, from the process environment, which is why it is set there (and so seen by the worker thread;
 * `childEnvironment` leaves it out for other programs).
 */
function defaultIntraOpThreads(): void {
  if (userIntraOpThreads === undefined) process.env.TF_NUM_INTRAOP_THREADS = String(Math.max(1, Math.floor(os.availableParallelism() / 2)));
}

/** The environment as the user gave it, for other programs this process starts (a Python reference, say). */
export function childEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (userIntraOpThreads === undefined) delete env.TF_NUM_INTRAOP_THREADS;
  return env;
}

function loadTfjsNode(): Tf | undefined {
  if (tfjsNode) return tfjsNode;
  // libtensorflow logs CPU-feature notices to stderr at load; they are noise in a CLI's output.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  defaultIntraOpThreads();
  for (const id of tfjsNodeCandidates()) {
    try {
      // A runtime require: tfjs-node is native and optional, never bundled.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      tfjsNode = require(id) as Tf;
      return tfjsNode;
    } catch (e) {
      tfjsNodeError = `${id}: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return undefined;
}

/** Directory holding the tfjs-backend-wasm binaries: beside the bundle, or in node_modules during tests. */
function wasmDirectory(): string | undefined {
  const candidates = bundleDirectories(3);
  try {
    candidates.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')));
  } catch {
    // not resolvable from a bundle; the bundle dir candidates cover that case
  }
  return candidates.find((d) => fs.existsSync(path.join(d, 'tfjs-backend-wasm.wasm')));
}

async function activateWasm(): Promise<boolean> {
  const dir = wasmDirectory();
  if (!dir) return false;
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  if (!loaded.has('wasm')) setWasmPaths(dir + path.sep);
  useTfInstance(bundledInstance());
  try {
    return await bundledInstance().setBackend('wasm');
  } catch {
    return false;
  }
}

async function activateCpu(): Promise<boolean> {
  await import('@tensorflow/tfjs-backend-cpu');
  useTfInstance(bundledInstance());
  return bundledInstance().setBackend('cpu');
}

async function activateTensorflow(): Promise<boolean> {
  const native = loadTfjsNode();
  if (!native) return false;
  useTfInstance(native);
  return (await native.setBackend('tensorflow')) && native.getBackend() === 'tensorflow';
}

/** Makes `name` the backend every engine op runs on, loading it first if needed. False when it cannot load. */
async function activate(name: BackendName): Promise<boolean> {
  // PROD silences tfjs's console banners (the CLI's stdout is a table people read) and debug checks.
  bundledInstance().env().set('PROD', true);
  if (active === name) return true;
  const ok = name === 'tensorflow' ? await activateTensorflow() : name === 'wasm' ? await activateWasm() : await activateCpu();
  if (ok) {
    loaded.add(name);
    active = name;
  }
  return ok;
}

/** Estimated milliseconds for `flops` of engine work on `name`, counting its load unless it is in `loadedNow`. */
export function estimatedMs(name: BackendName, flops: number, loadedNow: ReadonlySet<BackendName> = loaded): number {
  const cost = BACKEND_COSTS[name];
  return (loadedNow.has(name) ? 0 : cost.loadMs) + flops / (cost.gflops * 1e6);
}

/** The backends in the order `auto` tries them for `flops` of work (Infinity: unknown, fastest rate first). */
export function rankBackends(flops: number, loadedNow: ReadonlySet<BackendName> = loaded): BackendName[] {
  const names = Object.keys(BACKEND_COSTS) as BackendName[];
  return Number.isFinite(flops)
    ? names.sort((a, b) => estimatedMs(a, flops, loadedNow) - estimatedMs(b, flops, loadedNow))
    : names.sort((a, b) => BACKEND_COSTS[b].gflops - BACKEND_COSTS[a].gflops);
}

function unavailable(name: BackendName): BackendUnavailableError {
  if (name === 'tensorflow') {
    return new BackendUnavailableError(
      `the tensorflow backend (@tensorflow/tfjs-node) did not load: ${tfjsNodeError ?? 'unknown reason'}. ` +
        'Run `bash scripts/setup-tfjs-node.sh`, or choose --backend wasm|cpu.',
    );
  }
  return new BackendUnavailableError(`the ${name} backend did not load${name === 'wasm' ? ' (tfjs-backend-wasm.wasm not found)' : ''}`);
}

/**
 * Chooses and activates the backend for a run of about `flops` floating-point operations of tensor work
 * (Infinity when unknown: then the fastest that loads). Runs in one process may use different backends: the
 * engine holds no tensor between runs.
 */
export async function selectBackend(preference: BackendPreference, flops = Infinity): Promise<BackendChoice> {
  if (preference !== 'auto') {
    if (!(await activate(preference))) throw unavailable(preference);
    return { name: preference, reason: `backend ${preference}: asked for` };
  }
  const ranked = rankBackends(flops);
  const estimate = (n: BackendName) => `${n} ${formatMs(estimatedMs(n, flops))}${loaded.has(n) ? '' : ' incl. load'}`;
  const why = Number.isFinite(flops)
    ? `~${formatFlops(flops)} of tensor work; estimated ${ranked.map(estimate).join(', ')}`
    : 'work unknown: the fastest that loads';
  const skipped: string[] = [];
  for (const name of ranked) {
    if (await activate(name)) {
      return { name, reason: `backend ${name} (auto: ${why}${skipped.length ? `; ${skipped.join(', ')} did not load` : ''})` };
    }
    skipped.push(name);
  }
  throw new BackendUnavailableError('no backend loaded');
}

/** The backend `selectBackend` will try first, known before any loads (to start work that needs it meanwhile). */
export function firstChoice(preference: BackendPreference, flops = Infinity): BackendName {
  return preference === 'auto' ? rankBackends(flops)[0] : preference;
}

/** Activates a backend as `selectBackend` does, with the work unknown; returns its name. */
export async function initBackend(preference: BackendPreference = 'auto'): Promise<BackendName> {
  return (await selectBackend(preference)).name;
}

/** The backend every engine op runs on now, if one was chosen. */
export function activeBackend(): BackendName | undefined {
  return active;
}

/** Why tfjs-node did not load, for logs. */
export function tfjsNodeLoadError(): string | undefined {
  return tfjsNodeError;
}

/** For tests that run every backend in one process. */
export async function switchBackendForTests(name: BackendName): Promise<boolean> {
  return activate(name);
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function formatFlops(flops: number): string {
  return flops >= 1e9 ? `${(flops / 1e9).toFixed(1)} GFLOP` : `${(flops / 1e6).toFixed(1)} MFLOP`;
}
