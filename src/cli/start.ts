// The `rnn-jacobian` executable (dist/cli.js): a few lines that compile the CLI bundle (dist/cli-main.js, 2.5 MB)
// with V8's code cache (src/engine/codeCache.ts), written at exit so that the functions this run compiled lazily are
// in it too.
import * as path from 'node:path';
import { runBundleWithCodeCache } from '../engine/codeCache';

const { saveCache } = runBundleWithCodeCache(path.join(__dirname, 'cli-main.js'), module, 'cli');
process.once('exit', saveCache);
