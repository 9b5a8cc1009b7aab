// Runs a CommonJS bundle compiled with V8's code cache: the executables' few lines (src/cli/start.ts → dist/cli.js,
// src/engine/thread/start.ts → dist/threadStart.js) call this for their bundle. Without it every start parses and
// compiles the whole bundle again (the CLI's 2.5 MB: ~35 ms quiet, 160 ms on a loaded machine; the second thread's:
// ~100 ms, beside the main thread's own start); with it V8 reuses the compiled code, including the functions the
// last run compiled lazily. The cache lives in $RNN_JACOBIAN_CACHE/v8 (default ~/.cache/rnn-jacobian-lab/v8), keyed
// by the bundle's size and mtime and Node's version; V8 itself rejects a cache that does not fit (then it is
// rewritten). Writing it is best effort: a read-only home only means no cache. Node ≥ 22 has
// module.enableCompileCache; Node 20 not.
import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

/**
 * Loads `bundle` as the module `parent` would require it, compiled from the cache named `name`-<key> where there is
 * a usable one. Returns `saveCache`, which writes the cache where there was none (or V8 rejected it), once: call it
 * when the bundle has done its first work, so that what it compiled lazily is in the cache too.
 */
export function runBundleWithCodeCache(bundle: string, parent: Module, name: string): { saveCache(): void } {
  const source = fs.readFileSync(bundle, 'utf8');
  const stat = fs.statSync(bundle);
  // A plain name, not a hash: loading node:crypto for it cost ~4 ms of every start.
  const key = `${stat.size}-${Math.round(stat.mtimeMs)}-${process.version}-${process.arch}`.replace(/[^\w.-]/g, '_');
  const cacheDir = path.join(process.env.RNN_JACOBIAN_CACHE || path.join(os.homedir(), '.cache', 'rnn-jacobian-lab'), 'v8');
  const cacheFile = path.join(cacheDir, `${name}-${key}.bin`);
  let cached: Buffer | undefined;
  try {
    cached = fs.readFileSync(cacheFile);
  } catch {
    // no cache yet
  }
  // import() inside a vm.Script needs a loader, and on Node 20 a script compiled from cachedData loses the one given
  // (importModuleDynamically), so the bundle's import() would throw "A dynamic import callback was not specified".
  // This module is an ordinary one, whose import() works: the bundle imports through it (src/engine/params/formats/hdf5.ts).
  (globalThis as Record<symbol, unknown>)[Symbol.for('rnnJacobian.import')] = (specifier: string) => import(specifier);
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData: cached });
  let pending = !cached || script.cachedDataRejected === true;
  const saveCache = () => {
    if (!pending) return;
    pending = false;
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      // best effort
    }
  };
  const loaded = new Module(bundle, parent);
  loaded.filename = bundle;
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  run.call(loaded.exports, loaded.exports, createRequire(bundle), loaded, bundle, path.dirname(bundle));
  return { saveCache };
}

/** Where a bundle run by runBundleWithCodeCache finds its saveCache (undefined when it was loaded otherwise). */
export const SAVE_CODE_CACHE = Symbol.for('rnnJacobian.saveCodeCache');
