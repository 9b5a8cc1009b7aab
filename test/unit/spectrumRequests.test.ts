// The panel's on-demand spectra (webview/spectrumRequests.ts): one request per matrix on screen that the arrays
// lack, replies cached per (run, pair, step, b), replies for another run or an unknown request dropped, and the
// Jacobians-not-kept case said instead of asked.
import { strict as assert } from 'node:assert';
import type { PairArrays, Report } from '../../src/engine/run/report';
import type { HostToWebview, PanelState, WebviewToHost } from '../../src/protocol/messages';
import type { Snapshot } from '../../webview/store';
import { SpectrumRequests } from '../../webview/spectrumRequests';

type Reply = Extract<HostToWebview, { type: 'spectrum' }>;
type Request = Extract<WebviewToHost, { type: 'spectrum' }>;

const n = 3;
const report = {
  batchSize: 2,
  jacobians: [{ of: 'h@t', wrt: 'h@t-1', outDim: n, inDim: n, steps: [{ t: 1 }, { t: 2 }, { t: 3 }] }],
} as unknown as Report;
const kept: PairArrays[] = [{ jacobians: new Float32Array(3 * 2 * n * n) }];

function snapshot(at: Partial<PanelState>, pairs: PairArrays[] = kept): Snapshot {
  return { file: '/w/a', report, pairs, selection: { pairIndex: 0, stepIndex: 0, batchIndex: 0, ...at } };
}

function setup(runId: number | undefined): { requests: SpectrumRequests; sent: Request[] } {
  const sent: Request[] = [];
  const requests = new SpectrumRequests((m) => sent.push(m as Request));
  requests.setRun(runId);
  return { requests, sent };
}

function reply(request: Request, sigma: number): Reply {
  return { ...request, outcome: { ok: true, spectrum: { singularValues: new Float64Array([sigma, 1]), eigenRe: new Float64Array([sigma]), eigenIm: new Float64Array([0]) } } };
}

describe('webview on-demand spectra', () => {
  it('asks once for the matrix on screen, shows computing, then the reply', () => {
    const { requests, sent } = setup(7);
    assert.deepEqual(requests.need(snapshot({ stepIndex: 2, batchIndex: 1 })), { state: 'computing' });
    assert.deepEqual(requests.need(snapshot({ stepIndex: 2, batchIndex: 1 })), { state: 'computing' });
    assert.equal(sent.length, 1);
    assert.deepEqual({ ...sent[0], requestId: 0 }, { type: 'spectrum', requestId: 0, runId: 7, pair: 0, step: 2, b: 1 });
    assert.equal(requests.receive(reply(sent[0], 5)), true);
    const shown = requests.need(snapshot({ stepIndex: 2, batchIndex: 1 }));
    assert.equal(shown?.state === 'ready' && shown.spectrum.singularValues[0], 5);
    assert.equal(sent.length, 1, 'a cached spectrum is not asked for again');
  });

  it('caches per (pair, step, b): other steps are asked for, earlier ones come from the cache', () => {
    const { requests, sent } = setup(7);
    for (const step of [0, 1, 0, 2, 1]) {
      const before = sent.length;
      requests.need(snapshot({ stepIndex: step }));
      if (sent.length > before) assert.equal(requests.receive(reply(sent.at(-1)!, 10 + step)), true);
    }
    assert.deepEqual(sent.map((m) => m.step), [0, 1, 2]);
    for (const step of [0, 1, 2]) {
      const s = requests.need(snapshot({ stepIndex: step }));
      assert.equal(s?.state === 'ready' && s.spectrum.singularValues[0], 10 + step);
    }
  });

  it('drops a reply for a superseded run, a request it did not make, or a second reply', () => {
    const { requests, sent } = setup(7);
    requests.need(snapshot({ stepIndex: 1 }));
    const old = sent[0];
    requests.setRun(8);
    assert.equal(requests.receive(reply(old, 3)), false, 'a reply for run 7 after run 8 arrived');
    requests.need(snapshot({ stepIndex: 1 }));
    const mine = sent[1];
    assert.equal(mine.runId, 8);
    assert.equal(requests.receive({ ...reply(mine, 3), requestId: mine.requestId + 100 }), false, 'an unknown request id');
    assert.equal(requests.receive({ ...reply(mine, 3), step: 0 }), false, 'a reply naming another matrix than asked');
    assert.equal(requests.receive(reply(mine, 3)), true);
    assert.equal(requests.receive(reply(mine, 3)), false, 'a second reply to the same request');
  });

  it('keeps one request in flight: a selection made meanwhile is computing, and asked for once the reply is in', () => {
    const { requests, sent } = setup(7);
    requests.need(snapshot({ stepIndex: 0 }));
    for (const step of [1, 2, 1]) assert.deepEqual(requests.need(snapshot({ stepIndex: step })), { state: 'computing' });
    assert.equal(sent.length, 1, 'requests were sent while one was in flight');
    // The reply for step 0 arrives while step 1 is on screen: cached (not drawn), and step 1 is asked for now.
    assert.equal(requests.receive(reply(sent[0], 4)), true);
    assert.equal(requests.need(snapshot({ stepIndex: 1 }))?.state, 'computing');
    assert.deepEqual(sent.map((m) => m.step), [0, 1]);
    const back = requests.need(snapshot({ stepIndex: 0 }));
    assert.equal(back?.state === 'ready' && back.spectrum.singularValues[0], 4);
  });

  it('shows a failed request as unavailable with its message, and does not ask again', () => {
    const { requests, sent } = setup(7);
    requests.need(snapshot({}));
    assert.equal(requests.receive({ ...sent[0], outcome: { ok: false, message: 'the engine process exited' } }), true);
    const s = requests.need(snapshot({}));
    assert.equal(s?.state, 'unavailable');
    assert.match(s?.state === 'unavailable' ? s.message : '', /could not be computed: the engine process exited/);
    assert.equal(sent.length, 1);
  });

  it('says so instead of asking when the Jacobians were not kept, or when no engine holds the run', () => {
    const { requests, sent } = setup(7);
    const s = requests.need(snapshot({}, [{}]));
    assert.match(s?.state === 'unavailable' ? s.message : '', /were not kept/);
    const none = setup(undefined);
    assert.equal(none.requests.need(snapshot({}))?.state, 'unavailable');
    assert.equal(sent.length + none.sent.length, 0);
  });

  it('asks nothing when the arrays hold the spectrum; a square pair with singular values only still needs its eigenvalues', () => {
    const { requests, sent } = setup(7);
    const sv = new Float32Array(3 * 2 * n);
    const full = [{ ...kept[0], singularValues: sv, eigenvaluesRe: sv, eigenvaluesIm: sv }];
    assert.equal(requests.need(snapshot({}, full)), undefined);
    assert.equal(sent.length, 0);
    assert.equal(requests.need(snapshot({}, [{ ...kept[0], singularValues: sv }]))?.state, 'computing');
    assert.equal(sent.length, 1);
  });
});
