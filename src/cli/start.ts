// The `rnn-jacobian` executable (dist/cli.js): a few lines that compile the CLI bundle (dist/cli-main.js, 2.5 MB)
// with V8's code cache. Without it every start parses and compiles the whole bundle again (~35 ms quiet, 160 ms
// on a loaded machine); with it V8 reuses the compiled code, including the functions the last run compiled
// lazily. The cache lives in $RNN_JACOBIAN_CACHE/v8 (default ~/.cache/rnn-jacobian-lab/v8), keyed by the bundle's
// size and mtime and Node's version; V8 itself rejects a cache that does not fit (then it is rewritten). Writing
// it is best effort: a read-only home only means no cache. Node ≥ 22 has module.enableCompileCache; Node 20 not.
import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

const bundle = path.join(__dirname, 'cli-main.js');
const source = fs.readFileSync(bundle, 'utf8');
const stat = fs.statSync(bundle);
// A plain name, not a hash: loading node:crypto for it cost ~4 ms of every start.
const key = `${stat.size}-${Math.round(stat.mtimeMs)}-${process.version}-${process.arch}`.replace(/[^\w.-]/g, '_');
const cacheDir = path.join(process.env.RNN_JACOBIAN_CACHE || path.join(os.homedir(), '.cache', 'rnn-jacobian-lab'), 'v8');
const cacheFile = path.join(cacheDir, `cli-${key}.bin`);

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
if (!cached || script.cachedDataRejected) {
  // At exit, so that the functions this run compiled lazily are in the cache too.
  process.once('exit', () => {
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      // best effort
    }
  });
}
const cliModule = new Module(bundle, module);
cliModule.filename = bundle;
const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
run.call(cliModule.exports, cliModule.exports, createRequire(bundle), cliModule, bundle, __dirname);
