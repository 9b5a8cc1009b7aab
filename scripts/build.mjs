// Bundles every entry point with esbuild. Type checking is separate (`npm run typecheck`):
// esbuild only strips types, which keeps the build fast and the check strict.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compileSchema } from './compile-schema.mjs';
import { compileWasm } from './compile-wasm.mjs';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const production = process.argv.includes('--production');

// Native or optional modules are resolved at run time, never bundled:
// tfjs-node carries a native binding and may be absent; vscode is provided by the host.
// node-fetch (with whatwg-url and tr46, 380 KB of the CLI bundle) is what tfjs-core requires for fetch only when
// the platform has no global fetch; Node ≥ 18 and VS Code's Electron have one, so it is never loaded.
const nodeExternals = ['vscode', '@tensorflow/tfjs-node', 'playwright-core', 'mocha', 'node-fetch'];

function listTests(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const common = {
  bundle: true,
  // ESM entry points first: tfjs registers its kernels through side-effect imports that are only
  // listed (and so only kept by the bundler) for its ESM files.
  mainFields: ['module', 'main'],
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
  // The small float64 kernels (src/engine/wasm/linalg.ts) import their WebAssembly as bytes, inlined in the bundle.
  loader: { '.wasm': 'binary' },
};

const nodeEntries = {
  // dist/cli.js is the executable: it compiles dist/cli-main.js with V8's code cache (src/cli/start.ts).
  cli: 'src/cli/start.ts',
  'cli-main': 'src/cli/main.ts',
  extension: 'src/extension/extension.ts',
  engineWorker: 'src/extension/engineWorker.ts',
  // The engine's second thread (src/engine/thread/secondThread.ts): LSC's eigenpairs, half of a chunk's Krylov spectra;
  // found beside the bundle that starts it.
  threadWorker: 'src/engine/thread/worker.ts',
  // The second thread's entry: compiles threadWorker.js with V8's code cache (src/engine/thread/start.ts).
  threadStart: 'src/engine/thread/start.ts',
};
// The config schema's validators are generated code, compiled here rather than when a process starts.
compileSchema();
// The small float64 kernels, AssemblyScript → WebAssembly (scripts/compile-wasm.mjs), imported by the bundles below.
await compileWasm();
const builds = [];
for (const [name, entry] of Object.entries(nodeEntries)) {
  if (!existsSync(join(root, entry))) continue;
  builds.push(esbuild.build({
    ...common,
    entryPoints: [join(root, entry)],
    outfile: join(dist, `${name}.js`),
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: nodeExternals,
    banner: name === 'cli' ? { js: '#!/usr/bin/env node' } : undefined,
    // Every CLI process reads and loads this bundle before its first line runs: minified it is half the bytes
    // (2.9 → 1.2 MB, ~8 ms of a ~140 ms seed-example process). The source map keeps stack traces readable. NO_MINIFY=1 keeps
    // the names readable for a --cpu-prof.
    ...(name === 'cli-main' ? { minify: !process.env.NO_MINIFY } : {}),
  }));
}
if (existsSync(join(root, 'webview/main.ts'))) {
  builds.push(esbuild.build({
    ...common,
    entryPoints: [join(root, 'webview/main.ts')],
    outfile: join(dist, 'webview/main.js'),
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
  }));
}
// Unit tests: one bundle of every test file, so that mocha's one process holds one copy of tfjs-core and its
// backends (a bundle per file registered every kernel again, once per file: a thousand warnings per run).
// The production build (`npm run package`) makes only what the VSIX ships; test bundles stay as they are.
const unitTests = production ? [] : listTests(join(root, 'test/unit')).sort();
if (unitTests.length) {
  rmSync(join(dist, 'test/unit'), { recursive: true, force: true });
  builds.push(esbuild.build({
    ...common,
    stdin: {
      contents: unitTests.map((f) => `import './${relative(root, f).replace(/\\/g, '/')}';`).join('\n'),
      resolveDir: root,
      sourcefile: 'test/unit/all.test.ts',
      loader: 'ts',
    },
    outfile: join(dist, 'test/unit/all.test.js'),
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: nodeExternals,
  }));
}
// Host-suite, e2e and bench entries: one bundle per file (the host suite loads its test files by glob).
const testEntries = production
  ? []
  : [...listTests(join(root, 'test/host')), ...['test/host/index.ts', 'test/e2e/e2e.ts', 'bench/bench.ts', 'bench/series.ts'].map((f) => join(root, f))];
for (const file of testEntries) {
  if (!existsSync(file)) continue;
  const rel = relative(root, file).replace(/\.ts$/, '.js');
  builds.push(esbuild.build({
    ...common,
    entryPoints: [file],
    outfile: join(dist, rel),
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: nodeExternals,
  }));
}
await Promise.all(builds);

// The HDF5 reader (h5wasm: ESM with its WebAssembly inlined, 4 MB) is imported at run time from beside the
// bundle (src/engine/params/formats/hdf5.ts), so that the bundles stay small and the VSIX carries one copy.
const h5wasmDir = join(root, 'node_modules/h5wasm/dist/node');
if (existsSync(h5wasmDir)) {
  const out = join(dist, 'h5wasm');
  mkdirSync(out, { recursive: true });
  for (const f of ['hdf5_hl.js', 'hdf5_util.js']) cpSync(join(h5wasmDir, f), join(out, f));
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', description: 'h5wasm (node build), copied by scripts/build.mjs' }) + '\n');
}

// The wasm backend loads its binaries from beside the bundle at run time. Not the threaded one: in Node the backend
// reports no thread support (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE) and never loads it.
const wasmDir = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
mkdirSync(dist, { recursive: true });
rmSync(join(dist, 'tfjs-backend-wasm-threaded-simd.wasm'), { force: true });
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) {
  if (existsSync(join(wasmDir, f))) cpSync(join(wasmDir, f), join(dist, f));
}
