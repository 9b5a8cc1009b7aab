// Where files shipped beside the bundle are found (the wasm binaries, h5wasm, the second thread's worker): dist/
// holds every entry bundle with them, and the test and bench bundles sit below it (dist/test/unit, dist/bench).
import * as path from 'node:path';

/** The running bundle's folder and the `up` folders above it, nearest first. */
export function bundleDirectories(up: number): string[] {
  return Array.from({ length: up + 1 }, (_, i) => path.join(__dirname, ...Array<string>(i).fill('..')));
}
