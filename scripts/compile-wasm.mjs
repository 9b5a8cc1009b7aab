// Compiles the engine's AssemblyScript kernels to WebAssembly at build time, for the wrappers in src/engine/wasm/,
// which esbuild inlines into every bundle that uses them (its binary loader):
//   wasm/linalg.ts → src/engine/wasm/generated/linalg.wasm   the small float64 problems (src/engine/wasm/linalg.ts)
//   wasm/krylov.ts → src/engine/wasm/generated/krylov.wasm   the Krylov bases, float32 SIMD (src/engine/spectra/rowBasis.ts)
// The outputs are git-ignored. Each is skipped when it is newer than its source.
import asc from 'assemblyscript/asc';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// Both use 128-bit SIMD: in every Node and Electron the extension supports (V8 ≥ 9.1).
const MODULES = ['linalg', 'krylov'];

export async function compileWasm() {
  for (const name of MODULES) {
    const source = join(root, `wasm/${name}.ts`);
    const out = join(root, `src/engine/wasm/generated/${name}.wasm`);
    if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) continue;
    mkdirSync(join(out, '..'), { recursive: true });
    // stub runtime: the kernels never allocate (the wrappers lay out every buffer); no abort import: nothing asserts.
    const args = [source, '--outFile', out, '--optimizeLevel', '3', '--runtime', 'stub', '--noAssert', '--use', 'abort=', '--enable', 'simd'];
    const { error, stderr } = await asc.main(args);
    if (error) throw new Error(`AssemblyScript (wasm/${name}.ts): ${error.message}\n${stderr.toString()}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await compileWasm();
