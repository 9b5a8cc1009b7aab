// The protocol's guards (src/protocol/messages.ts): every well-formed message passes, every field a receiver
// reads is checked, and generated junk (fast-check) is rejected without throwing. Seeded: a failure prints the
// seed and the path to replay it.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  isEngineToHost, isHostToEngine, isHostToWebview, isWebviewToHost,
  type ControlSummary, type EngineToHost, type HostToEngine, type HostToWebview, type WebviewToHost,
} from '../../src/protocol/messages';
import type { Report } from '../../src/engine/run/report';

const SEED = Number(process.env.RNN_JACOBIAN_FUZZ_SEED ?? 20260412);

const issue = { file: '/w/a.jacobian.json', path: 'units', message: 'must be ≥ 1', line: 3, column: 12, offset: 40, length: 2 };
const report: Report = {
  schemaVersion: 1, config: '/w/a.jacobian.json', cell: 'seed', units: 2, inputDim: 1, activation: 'relu', timeSteps: 1,
  batchSize: 1, seed: 4, backend: 'cpu', backendReason: 'backend cpu: asked for', method: 'structured',
  diagnostics: ['varTimesFanIn'],
  timings: { buildMs: 1, rolloutMs: 2, jacobianMs: 3, diagnosticsMs: 0, totalMs: 6 },
  jacobians: [{
    of: 'h@t', wrt: 'h@t-1', path: 'jacobians[0]', outDim: 2, inDim: 2, method: 'structured', expected: null,
    // A diverging network's statistics are legitimately infinite: they pass.
    steps: [{ t: 1, mean: [0.1], varTimesFanIn: [Infinity], frobenius: [NaN], spectralNorm: [1.5] }],
  }],
};
const pairs = [{ jacobians: new Float32Array(4), singularValues: new Float32Array(2) }];

const controlQuantity = { label: '∂(h,c)@t/∂(h,c)@t-1', target: 0.5, before: 0.88 };
const controlStep = { step: 3, loss: 0.01, medians: [0.61], seconds: 0.2 };
const controlSummary: ControlSummary = {
  kind: 'stabilize', backend: 'cpu', stop: 'converged', steps: 80, bestStep: 80, msPerStep: 20.5, quantities: [{ ...controlQuantity, after: 0.51 }],
};
const controlFiles = { dir: '/w/a.stabilized', files: ['weights.npz', 'manifest.json'], config: '/w/a.stabilized/a.stabilized.jacobian.json' };

const hostToEngine: HostToEngine[] = [
  { type: 'run', runId: 1, file: '/w/a.jacobian.json', text: '{}', options: { backend: 'auto', keepJacobiansMB: 256 } },
  { type: 'run', runId: 2, file: '/w/a.jacobian.json', text: '{}', options: { backend: 'wasm', maxMemoryMB: 10, keepJacobiansMB: 0 } },
  { type: 'save', requestId: 3, runId: 1, dir: '/w/out' },
  { type: 'warm', requestId: 4, backend: 'tensorflow' },
  { type: 'spectrum', requestId: 5, runId: 1, pair: 0, step: 3, b: 1 },
  { type: 'control', runId: 6, kind: 'stabilize', file: '/w/a.jacobian.json', text: '{}', options: { backend: 'auto' } },
  { type: 'control', runId: 6, kind: 'floss', file: '/w/a.jacobian.json', text: '{}', options: { backend: 'cpu' } },
  { type: 'controlCancel', runId: 6 },
  { type: 'controlExport', requestId: 7, runId: 6, dir: '/w/a.stabilized', force: false },
  { type: 'controlCompare', requestId: 8, runId: 6 },
];
const spectrum = { singularValues: new Float64Array([2, 1]), eigenRe: new Float64Array([1.5, -1]), eigenIm: new Float64Array([0, 0]) };
const engineToHost: EngineToHost[] = [
  { type: 'ready', pid: 123 },
  { type: 'warmed', requestId: 4, backend: 'cpu', reason: 'asked for', ms: 12.5 },
  { type: 'progress', runId: 1, progress: { stage: 'rollout', step: 2, total: 4 } },
  { type: 'log', line: 'backend cpu' },
  { type: 'result', runId: 1, result: { report, pairs } },
  { type: 'invalid', runId: 1, kind: 'config', issues: [issue] },
  { type: 'failed', runId: 1, message: 'boom' },
  { type: 'failed', runId: 1, message: 'boom', stack: 'Error: boom\n    at x' },
  { type: 'saved', requestId: 3, runId: 1, dir: '/w/out', files: ['manifest.json'] },
  { type: 'saveFailed', requestId: 3, runId: 1, message: 'read-only' },
  { type: 'spectrum', requestId: 5, runId: 1, outcome: { ok: true, spectrum } },
  { type: 'spectrum', requestId: 5, runId: 1, outcome: { ok: true, spectrum: { singularValues: new Float64Array(3) } } },
  { type: 'spectrum', requestId: 5, runId: 1, outcome: { ok: false, message: 'not kept' } },
  { type: 'controlStarted', runId: 6, quantities: [controlQuantity] },
  { type: 'controlProgress', runId: 6, step: controlStep },
  { type: 'controlResult', runId: 6, summary: controlSummary },
  { type: 'controlInvalid', runId: 6, kind: 'config', issues: [issue] },
  { type: 'controlFailed', runId: 6, message: 'boom' },
  { type: 'controlExported', requestId: 7, runId: 6, outcome: { ok: true, files: controlFiles } },
  { type: 'controlExported', requestId: 7, runId: 6, outcome: { ok: false, message: 'exists' } },
  { type: 'controlCompared', requestId: 8, runId: 6, outcome: { ok: true, before: { report, pairs }, after: { report, pairs } } },
  { type: 'controlCompared', requestId: 8, runId: 6, outcome: { ok: false, message: 'no weights' } },
];
const hostToWebview: HostToWebview[] = [
  { type: 'running', file: '/w/a' },
  { type: 'running', file: '/w/a', progress: { stage: 'jacobians', step: 1, total: 1 } },
  { type: 'result', file: '/w/a', report, pairs },
  { type: 'result', file: '/w/a', report, pairs, runId: 7 },
  { type: 'spectrum', requestId: 2, runId: 7, pair: 0, step: 1, b: 0, outcome: { ok: true, spectrum } },
  { type: 'spectrum', requestId: 2, runId: 7, pair: 0, step: 1, b: 0, outcome: { ok: false, message: 'superseded' } },
  { type: 'invalid', file: '/w/a', issues: [issue], kind: 'memory' },
  { type: 'failed', file: '/w/a', message: 'x' },
  { type: 'cancelled', file: '/w/a' },
  { type: 'exported', what: 'npy', path: '/w/out' },
  { type: 'control', state: { id: 1, kind: 'stabilize', file: '/w/a', phase: 'running', quantities: [controlQuantity], history: [controlStep] } },
  {
    type: 'control',
    state: {
      id: 1, kind: 'floss', file: '/w/a', phase: 'done', message: 'ok', quantities: [controlQuantity], history: [], summary: controlSummary,
      files: controlFiles, comparison: { ok: true, before: { report, pairs }, after: { report, pairs } },
    },
  },
];
const webviewToHost: WebviewToHost[] = [
  { type: 'ready' }, { type: 'rerun' },
  { type: 'export', what: 'png', dataUrl: 'data:image/png;base64,AA==' },
  { type: 'export', what: 'csv', csv: 'a,b\n' },
  { type: 'export', what: 'json' }, { type: 'export', what: 'npy' },
  { type: 'spectrum', requestId: 1, runId: 7, pair: 0, step: 2, b: 0 },
  { type: 'openControlFile', path: '/w/a.stabilized/a.stabilized.jacobian.json' },
];

/** Fields a message may leave out, per channel, as `type.field`. */
const OPTIONAL: Record<string, string[]> = {
  'host → engine': ['run.maxMemoryMB'],
  'engine → host': ['failed.stack', 'controlFailed.stack'],
  'host → webview': ['running.progress', 'invalid.kind', 'result.runId'],
  'webview → host': [],
};

const channels = [
  { name: 'host → engine', guard: isHostToEngine, valid: hostToEngine as object[] },
  { name: 'engine → host', guard: isEngineToHost, valid: engineToHost as object[] },
  { name: 'host → webview', guard: isHostToWebview, valid: hostToWebview as object[] },
  { name: 'webview → host', guard: isWebviewToHost, valid: webviewToHost as object[] },
];

/** Every way of breaking one field of `message`: removed, or replaced by a value of another kind. */
function brokenVariants(message: Record<string, unknown>): { what: string; value: unknown }[] {
  const wrong: unknown[] = [undefined, null, 'x', -1, 1.5, true, [], {}, new Float64Array(1)];
  const out: { what: string; value: unknown }[] = [];
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : ArrayBuffer.isView(v) ? 'typed' : typeof v);
  for (const key of Object.keys(message)) {
    // A value of another kind; for the tag, also another string; for ids, a negative or fractional number.
    const others = wrong.filter((w) => kind(w) !== kind(message[key]) || (key === 'type' && w === 'x') || (/Id$|^pid$/.test(key) && typeof w === 'number'));
    for (const replacement of others) {
      const value = { ...message, [key]: replacement };
      if (replacement === undefined) delete (value as Record<string, unknown>)[key];
      out.push({ what: `${key} = ${replacement === undefined ? '(absent)' : JSON.stringify(replacement) ?? String(replacement)}`, value });
    }
  }
  return out;
}

describe('protocol guards (src/protocol/messages.ts)', () => {
  for (const { name, guard, valid } of channels) {
    describe(name, () => {
      it('accepts every well-formed message', () => {
        for (const message of valid) assert.ok(guard(message), `rejected ${JSON.stringify(message)}`);
      });

      it('rejects a message with a required field missing or of the wrong kind', () => {
        let rejected = 0;
        for (const message of valid) {
          for (const { what, value } of brokenVariants(message as Record<string, unknown>)) {
            const optionalField = what.endsWith('= (absent)') && OPTIONAL[name].includes(`${(message as { type: string }).type}.${what.split(' ')[0]}`);
            if (optionalField) {
              assert.ok(guard(value), `${(message as { type: string }).type} with ${what} is well-formed but was rejected`);
              continue;
            }
            if (guard(value)) {
              assert.fail(`${name}: accepted ${(message as { type: string }).type} with ${what}`);
            }
            rejected++;
          }
        }
        assert.ok(rejected > valid.length * 5, `only ${rejected} broken variants were tried`);
      });

      it('rejects generated junk without throwing (fast-check)', () => {
        const junk = fc.oneof(
          fc.anything({ withTypedArray: true, withMap: true, withSet: true, withNullPrototype: true, maxDepth: 4 }),
          // Objects that look like messages: a real type with random fields.
          fc.record({ type: fc.constantFrom(...valid.map((m) => (m as { type: string }).type), '__proto__', 'constructor', 'toString') }, { requiredKeys: ['type'] })
            .chain((base) => fc.dictionary(fc.string(), fc.anything({ maxDepth: 2 })).map((extra) => ({ ...extra, ...base }))),
        );
        fc.assert(
          fc.property(junk, (value) => {
            const verdict = guard(value);
            // Whatever it says, it says it without throwing, and a yes is a message a receiver can use.
            if (verdict) assert.ok(valid.some((m) => (m as { type: string }).type === (value as { type: string }).type));
          }),
          { seed: SEED, numRuns: 2000 },
        );
      });
    });
  }

  it('rejects a deep fault: a non-number in a step statistic, a Float64Array where float32 travels', () => {
    const badStep = structuredClone(report) as unknown as { jacobians: { steps: { mean: unknown[] }[] }[] };
    badStep.jacobians[0].steps[0].mean = ['0.1'];
    assert.equal(isEngineToHost({ type: 'result', runId: 1, result: { report: badStep, pairs } }), false);
    assert.equal(isHostToWebview({ type: 'result', file: '/w/a', report, pairs: [{ jacobians: new Float64Array(4) }] }), false);
    assert.equal(isEngineToHost({ type: 'progress', runId: 1, progress: { stage: 'diagnostics', step: 0, total: 1 } }), false);
  });

  it('rejects a spectrum reply whose outcome is malformed: float32 values, ok without spectrum, failure without message', () => {
    const reply = (outcome: unknown) => ({ type: 'spectrum', requestId: 1, runId: 1, outcome });
    assert.equal(isEngineToHost(reply({ ok: true, spectrum: { singularValues: new Float32Array(2) } })), false);
    assert.equal(isEngineToHost(reply({ ok: true, spectrum: { singularValues: new Float64Array(2), eigenRe: [1, 2] } })), false);
    assert.equal(isEngineToHost(reply({ ok: true, message: 'x' })), false);
    assert.equal(isEngineToHost(reply({ ok: false })), false);
    assert.equal(isEngineToHost(reply({ ok: 'yes', spectrum })), false);
    assert.equal(isHostToWebview({ ...reply({ ok: false, message: 'x' }), pair: 0, step: -1, b: 0 }), false);
    assert.equal(isWebviewToHost({ type: 'spectrum', requestId: 1, runId: 1, pair: 0, step: 0.5, b: 0 }), false);
  });
});
