// A test-only entry, inert unless the environment asks for it.
//
// @vscode/test-electron downloads a desktop VS Code, which cannot be done on every machine (not on the CI
// machines of this project). There the same extension-host test files run inside code-server instead: when the
// extension host starts with
//   RNN_JACOBIAN_TEST_SUITE=/abs/path/dist/test/host/index.js   (outside the VSIX; never shipped)
//   RNN_JACOBIAN_TEST_RESULT=/abs/path/result.json
// the extension loads that suite after activating, runs it, and writes {passed, failed, failures:[...]} to the
// result path. Without RNN_JACOBIAN_TEST_SUITE this does nothing at all. Configs and data files in the
// workspace are never executed; only a file the person starting the editor named in the environment is.
import { createRequire } from 'node:module';
import { existsSync, writeFileSync } from 'node:fs';

export interface TestFailure {
  title: string;
  error: string;
}

export interface TestReport {
  passed: number;
  failed: number;
  /** Titles of the passed tests, when the suite reports them. */
  passes?: string[];
  failures: TestFailure[];
}

interface SuiteModule {
  runWithReport?: () => Promise<TestReport>;
  run?: () => Promise<void>;
}

export function startTestSuiteIfRequested(log: (line: string) => void): void {
  const suitePath = process.env.RNN_JACOBIAN_TEST_SUITE;
  if (!suitePath) return;
  const resultPath = process.env.RNN_JACOBIAN_TEST_RESULT;
  if (!resultPath) {
    log('RNN_JACOBIAN_TEST_SUITE is set but RNN_JACOBIAN_TEST_RESULT is not: the host test suite is NOT run');
    return;
  }
  // A window reload restarts the extension host; the suite runs once per result file.
  if (existsSync(resultPath)) {
    log(`host test suite: ${resultPath} exists already; not running the suite again`);
    return;
  }
  // After activate() has returned, so that the tests see the extension active with its exports.
  setTimeout(() => void runSuite(suitePath, resultPath, log), 0);
}

async function runSuite(suitePath: string, resultPath: string, log: (line: string) => void): Promise<void> {
  log(`host test suite: running ${suitePath}`);
  let report: TestReport;
  try {
    const suite = createRequire(__filename)(suitePath) as SuiteModule;
    if (typeof suite.runWithReport === 'function') {
      report = await suite.runWithReport();
    } else if (typeof suite.run === 'function') {
      await suite.run();
      report = { passed: 1, failed: 0, failures: [] };
    } else {
      throw new Error(`${suitePath} exports neither runWithReport() nor run()`);
    }
  } catch (error) {
    const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
    report = { passed: 0, failed: 1, failures: [{ title: `host test suite ${suitePath} could not run`, error: text }] };
  }
  writeFileSync(resultPath, `${JSON.stringify(report, null, 2)}\n`);
  log(`host test suite: ${report.passed} passed, ${report.failed} failed; result in ${resultPath}`);
}
