// Runs the extension-host test suite (test/host, bundled to dist/test/host/) in a desktop VS Code that
// @vscode/test-electron downloads. That download needs the network: on machines without it (the CI
// machines of this project) this script fails loudly, and the same suite runs inside code-server instead
// (`npm run test:host`, through the extension's RNN_JACOBIAN_TEST_SUITE hook).
//
//   npm run test:electron          (builds first)
import { runTests } from '@vscode/test-electron';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const suite = join(root, 'dist', 'test', 'host', 'index.js');
// The same VS Code as code-server 4.100.3, and within engines.vscode.
const version = process.env.RNN_JACOBIAN_VSCODE_VERSION ?? '1.100.3';

function loud(message) {
  const bar = '*'.repeat(78);
  console.error(`\n${bar}\n${message}\n${bar}\n`);
}

if (!existsSync(suite) || !existsSync(join(root, 'dist', 'extension.js'))) {
  loud(`test:electron: ${suite} or dist/extension.js is missing; run \`node scripts/build.mjs\` first.`);
  process.exit(1);
}

// A workspace holding a config, so the extension activates the way it does for a user.
const workspace = mkdtempSync(join(tmpdir(), 'jl-electron-'));
cpSync(join(root, 'examples'), join(workspace, 'examples'), { recursive: true });

let failed = false;
try {
  await runTests({
    version,
    extensionDevelopmentPath: root,
    extensionTestsPath: suite,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  });
} catch (error) {
  failed = true;
  const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
  if (/download|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo|fetch failed|socket|certificate|status code/i.test(text)) {
    loud(
      `test:electron could NOT download VS Code ${version}: ${text.split('\n')[0]}\n` +
        'This machine cannot reach the VS Code download servers, so NO host test ran here.\n' +
        'Run the same suite inside code-server instead: `npm run test:host` (or `npm test`).',
    );
  } else {
    loud(`test:electron: the extension-host suite failed in VS Code ${version}:\n${text}`);
  }
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
