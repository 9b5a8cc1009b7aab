// Compiles the small float64 kernels (wasm/linalg.ts, AssemblyScript) to WebAssembly at build time, for
// src/engine/wasm/linalg.ts, which esbuild inlines into every bundle that uses them (its binary loader).
// Output: src/engine/wasm/generated/linalg.wasm (git-ignored). Skipped when the output is newer than the source.
import asc from 'assemblyscript/asc';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const source = join(root, 'wasm/linalg.ts');
const out = join(root, 'src/engine/wasm/generated/linalg.wasm');

export async function compileWasm() {
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return;
  mkdirSync(join(out, '..'), { recursive: true });
  // stub runtime: the kernels never allocate (the wrapper lays out every buffer); no abort import: nothing asserts.
  const { error, stderr } = await asc.main([source, '--outFile', out, '--optimizeLevel', '3', '--runtime', 'stub', '--noAssert', '--use', 'abort=']);
  if (error) throw new Error(`AssemblyScript: ${error.message}\n${stderr.toString()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await compileWasm();
