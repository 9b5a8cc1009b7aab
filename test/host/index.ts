// Entry of the extension-host test suite, bundled to dist/test/host/index.js.
//  - @vscode/test-electron (scripts/test-electron.mjs) calls run() inside a downloaded desktop VS Code;
//  - here, where VS Code cannot be downloaded, test/e2e/e2e.ts starts code-server with
//    RNN_JACOBIAN_TEST_SUITE pointing at this file and the extension's test hook (src/extension/testHook.ts)
//    calls runWithReport() inside code-server's extension host.
// Both run the same test files: every dist/test/host/**/*.test.js next to this bundle.
import Mocha from 'mocha';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface TestReport {
  passed: number;
  failed: number;
  /** Full titles of the tests that passed, in order. */
  passes: string[];
  failures: { title: string; error: string }[];
}

function testFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...testFiles(path));
    else if (name.endsWith('.test.js')) files.push(path);
  }
  return files;
}

export function runWithReport(): Promise<TestReport> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 180_000, reporter: 'spec' });
  const files = testFiles(__dirname);
  if (files.length === 0) {
    return Promise.resolve({ passed: 0, failed: 1, passes: [], failures: [{ title: 'host test suite', error: `no *.test.js files under ${__dirname}: was test/host built?` }] });
  }
  for (const file of files) mocha.addFile(file);
  return new Promise<TestReport>((resolve, reject) => {
    const report: TestReport = { passed: 0, failed: 0, passes: [], failures: [] };
    try {
      const runner = mocha.run(() => resolve(report));
      runner.on('pass', (test) => {
        report.passed++;
        report.passes.push(test.fullTitle());
      });
      runner.on('fail', (test, error: unknown) => {
        report.failed++;
        const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
        report.failures.push({ title: test.fullTitle(), error: text });
      });
    } catch (error) {
      reject(error);
    }
  });
}

/** What @vscode/test-electron expects: resolves when every test passed, rejects otherwise. */
export async function run(): Promise<void> {
  const report = await runWithReport();
  console.log(`${report.passed} passed, ${report.failed} failed`);
  if (report.failed > 0 || report.passed === 0) {
    throw new Error(`${report.failed} host test(s) failed:\n${report.failures.map((f) => `  ${f.title}: ${f.error.split('\n')[0]}`).join('\n')}`);
  }
}
