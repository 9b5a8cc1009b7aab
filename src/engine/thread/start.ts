// The second thread's entry (dist/threadStart.js, what thread/secondThread.ts starts): compiles the worker bundle
// (dist/threadWorker.js, which holds TensorFlow.js and the engine) with V8's code cache (src/engine/codeCache.ts).
// A worker thread may be ended without an exit event, so the worker saves the cache itself after its first job.
import * as path from 'node:path';
import { runBundleWithCodeCache, SAVE_CODE_CACHE } from '../codeCache';

const { saveCache } = runBundleWithCodeCache(path.join(__dirname, 'threadWorker.js'), module, 'thread');
(globalThis as Record<symbol, unknown>)[SAVE_CODE_CACHE] = saveCache;
