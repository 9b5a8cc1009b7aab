// Pure helpers of the webview: colour map, slicing, limits, formatting, CSV, state, panel HTML.
import assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import type { PairReport, Report } from '../../src/engine/run/report';
import { makeNonce, panelCsp, panelHtml } from '../../src/extension/panelHtml';
import {
  LUT_SIZE, NEUTRAL, NON_FINITE, RDBU_STOPS, buildLut, colorize, divergingColor, lutIndex, packRgba, packedLut,
} from '../../webview/colormap';
import {
  FLOAT32_EPS, baseName, flatIndex, formatNumber, indexTicks, matrixAt, maxAbs, numericalRank, sharedLimit, summarize,
  symmetricLimit, toFloat32, unflatIndex, vectorAt, type JacDims,
} from '../../webview/data';
import { clampState, restoreState } from '../../webview/state';
import { buildCsv, CSV_COLUMNS, deviation, stepRows } from '../../webview/table';

function rgbAt(lut: Uint8ClampedArray, k: number): number[] {
  return [lut[4 * k], lut[4 * k + 1], lut[4 * k + 2]];
}

describe('webview colour map', () => {
  const lut = buildLut();

  it('maps 0 to the neutral colour and ±limit to the two ends', () => {
    assert.equal(LUT_SIZE % 2, 1);
    const mid = (LUT_SIZE - 1) / 2;
    assert.equal(lutIndex(0, 3.7), mid);
    assert.deepEqual(rgbAt(lut, lutIndex(0, 3.7)), [...NEUTRAL]);
    assert.deepEqual(rgbAt(lut, lutIndex(3.7, 3.7)), [...RDBU_STOPS[RDBU_STOPS.length - 1]]);
    assert.deepEqual(rgbAt(lut, lutIndex(-3.7, 3.7)), [...RDBU_STOPS[0]]);
    assert.deepEqual([...divergingColor(0)], [...NEUTRAL]);
  });

  it('is blue below 0 and red above, and clamps beyond the limits', () => {
    const neg = divergingColor(-0.6);
    const pos = divergingColor(0.6);
    assert.ok(neg[2] > neg[0], `negative should be blue: ${neg}`);
    assert.ok(pos[0] > pos[2], `positive should be red: ${pos}`);
    assert.equal(lutIndex(10, 1), LUT_SIZE - 1);
    assert.equal(lutIndex(-10, 1), 0);
    assert.equal(lutIndex(1, 0), (LUT_SIZE - 1) / 2, 'a zero limit maps everything to neutral');
  });

  it('gets lighter towards 0 on both sides (a diverging map)', () => {
    const lum = (c: readonly number[]) => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    const mid = (LUT_SIZE - 1) / 2;
    for (let k = 1; k <= mid; k++) {
      assert.ok(lum(rgbAt(lut, k)) >= lum(rgbAt(lut, k - 1)) - 1e-9, `luminance dips at ${k}`);
      assert.ok(lum(rgbAt(lut, LUT_SIZE - 1 - k)) >= lum(rgbAt(lut, LUT_SIZE - k)) - 1e-9, `luminance dips at ${LUT_SIZE - 1 - k}`);
    }
  });

  it('colorize writes the LUT colour of every entry, and a separate colour for non-finite values', () => {
    const packed = packedLut(lut);
    const values = new Float32Array([0, 2, -2, 1, NaN, Infinity, -Infinity, 5]);
    const pixels = new Uint32Array(values.length);
    colorize(values, 2, pixels, packed);
    const bytes = new Uint8Array(pixels.buffer);
    const px = (p: number) => [bytes[4 * p], bytes[4 * p + 1], bytes[4 * p + 2], bytes[4 * p + 3]];
    assert.deepEqual(px(0), [...NEUTRAL, 255]);
    assert.deepEqual(px(1), [...RDBU_STOPS[10], 255]);
    assert.deepEqual(px(2), [...RDBU_STOPS[0], 255]);
    assert.deepEqual(px(3), [...rgbAt(lut, lutIndex(1, 2)), 255]);
    for (const p of [4, 5, 6]) assert.deepEqual(px(p), [...NON_FINITE, 255]);
    assert.deepEqual(px(7), [...RDBU_STOPS[10], 255], 'clamped');
  });

  it('colorize agrees with lutIndex (Math.round) on random values', () => {
    const packed = packedLut(lut);
    const values = new Float32Array(5000);
    let seed = 12345;
    for (let p = 0; p < values.length; p++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      values[p] = (seed / 2 ** 31) * 3 - 1.5; // some beyond ±1.2
    }
    const pixels = new Uint32Array(values.length);
    colorize(values, 1.2, pixels, packed);
    for (let p = 0; p < values.length; p++) assert.equal(pixels[p], packed[lutIndex(values[p], 1.2)], `entry ${p} = ${values[p]}`);
  });

  it('packRgba matches the byte order of ImageData', () => {
    const w = new Uint32Array([packRgba(1, 2, 3, 4)]);
    assert.deepEqual([...new Uint8Array(w.buffer)], [1, 2, 3, 4]);
  });
});

describe('webview slicing', () => {
  const d: JacDims = { steps: 3, batch: 2, rows: 4, cols: 5 };
  // J[k,b,i,j] = 1000k + 100b + 10i + j, filled by nested loops (an index independent of flatIndex).
  const data = new Float32Array(d.steps * d.batch * d.rows * d.cols);
  {
    let p = 0;
    for (let k = 0; k < d.steps; k++)
      for (let b = 0; b < d.batch; b++)
        for (let i = 0; i < d.rows; i++)
          for (let j = 0; j < d.cols; j++) data[p++] = 1000 * k + 100 * b + 10 * i + j;
  }

  it('flatIndex and matrixAt pick J[k, b, i, j]', () => {
    for (let k = 0; k < d.steps; k++)
      for (let b = 0; b < d.batch; b++) {
        const m = matrixAt(data, d, k, b);
        assert.equal(m.length, d.rows * d.cols);
        for (let i = 0; i < d.rows; i++)
          for (let j = 0; j < d.cols; j++) {
            const want = 1000 * k + 100 * b + 10 * i + j;
            assert.equal(data[flatIndex(d, k, b, i, j)], want);
            assert.equal(m[i * d.cols + j], want);
          }
      }
  });

  it('matrixAt is a view, and refuses indices out of range', () => {
    const m = matrixAt(data, d, 2, 1);
    assert.equal(m.buffer, data.buffer);
    assert.throws(() => matrixAt(data, d, 3, 0), RangeError);
    assert.throws(() => matrixAt(data, d, 0, 2), RangeError);
    assert.throws(() => matrixAt(data.subarray(0, 10), d, 0, 0), RangeError);
  });

  it('unflatIndex inverts flatIndex', () => {
    for (let p = 0; p < data.length; p += 7) {
      const { k, b, i, j } = unflatIndex(d, p);
      assert.equal(flatIndex(d, k, b, i, j), p);
      assert.equal(data[p], 1000 * k + 100 * b + 10 * i + j);
    }
  });

  it('vectorAt picks the [steps, B, n] vector of step k and batch b', () => {
    const n = 3;
    const v = new Float32Array(4 * 2 * n).map((_, p) => p);
    assert.deepEqual([...vectorAt(v, 4, 2, 0, 0)], [0, 1, 2]);
    assert.deepEqual([...vectorAt(v, 4, 2, 2, 1)], [15, 16, 17]);
    assert.throws(() => vectorAt(v, 4, 2, 4, 0), RangeError);
  });
});

describe('webview limits and numbers', () => {
  it('symmetric limit is max |J| over finite entries; an all-zero matrix gets ±1', () => {
    assert.equal(symmetricLimit(new Float32Array([0.5, -2, 1])), 2);
    assert.equal(symmetricLimit(new Float32Array([NaN, -3, Infinity])), 3);
    assert.equal(symmetricLimit(new Float32Array(4)), 1);
    assert.equal(maxAbs([]), 0);
  });

  it('shared limit runs over every step of the batch element', () => {
    const d: JacDims = { steps: 2, batch: 2, rows: 1, cols: 2 };
    const data = new Float32Array([1, -1, 9, 9, -4, 0, 7, 7]); // [k0b0, k0b1, k1b0, k1b1]
    assert.equal(sharedLimit(data, d, 0), 4);
    assert.equal(sharedLimit(data, d, 1), 9);
  });

  it('summarize gives mean, min and max over the batch', () => {
    assert.deepEqual(summarize([1, 2, 6]), { mean: 3, min: 1, max: 6 });
    assert.ok(Number.isNaN(summarize(undefined).mean));
  });

  it('formatNumber keeps at least 4 significant digits and stays parseable', () => {
    for (const v of [0.4987654, 1.0001234, 123.456789, -0.00123456, 1.23456e-7, 98765432.1, -3.14159e12]) {
      const s = formatNumber(v);
      const parsed = Number(s);
      assert.ok(Number.isFinite(parsed), `${s} parses`);
      assert.ok(Math.abs(parsed - v) <= Math.abs(v) * 5e-4, `${s} ≈ ${v}`);
      const digits = s.replace(/e.*$/, '').replace(/[^0-9]/g, '').replace(/^0+/, '');
      assert.ok(digits.length >= 4, `${s} has ≥ 4 significant digits`);
    }
    assert.equal(formatNumber(0), '0');
    assert.equal(formatNumber(undefined), '–');
  });

  it('indexTicks starts at 0, ends at n-1 and increases', () => {
    for (const n of [1, 2, 7, 16, 100, 128, 1000, 1024]) {
      const t = indexTicks(n, 6);
      assert.equal(t[0], 0);
      assert.equal(t[t.length - 1], n - 1);
      for (let k = 1; k < t.length; k++) assert.ok(t[k] > t[k - 1], `${n}: ${t}`);
      assert.ok(t.length <= 8, `${n}: ${t}`);
    }
  });

  it('toFloat32 accepts typed arrays, plain arrays and index-keyed objects', () => {
    const f = new Float32Array([1, 2]);
    assert.equal(toFloat32(f), f);
    assert.deepEqual([...toFloat32([1, 2])!], [1, 2]);
    assert.deepEqual([...toFloat32({ 0: 3, 1: 4 })!], [3, 4]);
    assert.deepEqual([...toFloat32(new Float64Array([5]))!], [5]);
    assert.equal(toFloat32(undefined), undefined);
  });

  it('numericalRank counts singular values above σ_max·max(m,n)·ε(float32)', () => {
    const sv = new Float32Array([2, 1, 1e-3, 2 * 100 * FLOAT32_EPS * 0.5, 0]);
    const r = numericalRank(sv, 100);
    assert.equal(r.rank, 3);
    assert.ok(Math.abs(r.tol - 2 * 100 * FLOAT32_EPS) < 1e-12);
    assert.deepEqual(numericalRank(new Float32Array(3), 3), { rank: 0, tol: 0 });
  });

  it('baseName takes the last segment of a path or URI', () => {
    assert.equal(baseName('/a/b/seed-relu.jacobian.json'), 'seed-relu.jacobian.json');
    assert.equal(baseName('C:\\x\\y.json'), 'y.json');
    assert.equal(baseName('plain'), 'plain');
  });
});

function pairFixture(): PairReport {
  return {
    of: 'h@t',
    wrt: 'h@t-1',
    path: 'jacobians[0]',
    outDim: 4,
    inDim: 4,
    method: 'structured',
    expected: { varTimesFanIn: 0.5, formula: 'fan_in·Var(W)·E[relu′(z)²]' },
    steps: [
      { t: 1, mean: [0.01, 0.03], varTimesFanIn: [0.48, 0.52], frobenius: [1.4, 1.6], spectralNorm: [1.1, 1.3], spectralRadius: [0.7, 0.9] },
      { t: 2, mean: [0, 0], varTimesFanIn: [0.6, 0.7], frobenius: [1, 1], spectralRadius: [0.5, 0.5] },
      { t: 3, mean: [-1e-9, 1e-9], varTimesFanIn: [0.123456789, 0.123456789], frobenius: [2, 2] },
    ],
  };
}

describe('webview table and CSV', () => {
  it('stepRows averages each statistic over the batch', () => {
    const rows = stepRows(pairFixture());
    assert.equal(rows.length, 3);
    assert.equal(rows[0].t, 1);
    assert.ok(Math.abs(rows[0].varTimesFanIn - 0.5) < 1e-15);
    assert.equal(rows[0].varTimesFanInMin, 0.48);
    assert.equal(rows[0].varTimesFanInMax, 0.52);
    assert.ok(Math.abs(rows[0].spectralNorm - 1.2) < 1e-15);
    assert.ok(Number.isNaN(rows[1].spectralNorm));
    assert.ok(Math.abs(deviation(rows[1]) - 0.3) < 1e-12);
  });

  it('buildCsv has a header and one row per step with the right numbers', () => {
    const csv = buildCsv(pairFixture());
    assert.ok(csv.endsWith('\n'));
    const lines = csv.trimEnd().split('\n');
    assert.equal(lines.length, 1 + 3);
    const header = lines[0].split(',');
    assert.deepEqual(header.slice(), [...CSV_COLUMNS]);
    const rows = lines.slice(1).map((l) => l.split(','));
    for (const r of rows) assert.equal(r.length, header.length);
    const col = (name: string) => header.indexOf(name);
    assert.deepEqual(rows.map((r) => Number(r[col('t')])), [1, 2, 3]);
    assert.ok(Math.abs(Number(rows[0][col('varTimesFanIn')]) - 0.5) < 1e-15);
    assert.ok(Math.abs(Number(rows[1][col('varTimesFanIn')]) - 0.65) < 1e-15);
    assert.equal(Number(rows[2][col('varTimesFanIn')]), 0.123456789, 'full precision');
    assert.equal(Number(rows[0][col('expected')]), 0.5);
    assert.equal(rows[1][col('spectralNorm')], '', 'absent statistics are empty fields');
    assert.equal(rows[2][col('spectralRadius')], '');
    assert.ok(Math.abs(Number(rows[0][col('spectralRadius')]) - 0.8) < 1e-15);
    assert.equal(Number(rows[2][col('frobenius')]), 2);
    assert.equal(Number(rows[2][col('mean')]), 0);
  });

  it('buildCsv leaves expected empty when there is no prediction', () => {
    const p = { ...pairFixture(), expected: null };
    const lines = buildCsv(p).trimEnd().split('\n');
    assert.equal(lines[1].split(',')[(CSV_COLUMNS as readonly string[]).indexOf('expected')], '');
  });
});

describe('webview state', () => {
  const report = {
    batchSize: 2,
    jacobians: [pairFixture(), { ...pairFixture(), steps: pairFixture().steps.slice(0, 1) }],
  } as unknown as Report;

  it('restoreState tolerates garbage and keeps valid fields', () => {
    assert.deepEqual(restoreState(undefined).pairIndex, 0);
    assert.equal(restoreState({ pairIndex: -1, stepIndex: 2.5, batchIndex: 'x' }).stepIndex, 0);
    const s = restoreState({ file: '/a.json', pairIndex: 1, stepIndex: 2, batchIndex: 1, sharedLimits: true });
    assert.equal(s.file, '/a.json');
    assert.equal(s.pairIndex, 1);
    assert.equal(s.sharedLimits, true);
  });

  it('clampState clamps to the report and resets for another file', () => {
    const s = clampState({ file: '/a.json', pairIndex: 1, stepIndex: 5, batchIndex: 7 }, report, '/a.json');
    assert.deepEqual([s.pairIndex, s.stepIndex, s.batchIndex], [1, 0, 1]);
    const t = clampState({ file: '/a.json', pairIndex: 0, stepIndex: 2, batchIndex: 1 }, report, '/a.json');
    assert.deepEqual([t.pairIndex, t.stepIndex, t.batchIndex], [0, 2, 1]);
    const u = clampState({ file: '/a.json', pairIndex: 0, stepIndex: 2, batchIndex: 1 }, report, '/b.json');
    assert.deepEqual([u.file, u.pairIndex, u.stepIndex, u.batchIndex], ['/b.json', 0, 0, 0]);
  });
});

describe('panel HTML', () => {
  class FakeUri {
    constructor(readonly scheme: string, readonly path: string) {}
    with(change: { path?: string }): FakeUri {
      return new FakeUri(this.scheme, change.path ?? this.path);
    }
    toString(): string {
      return `${this.scheme}://ext${this.path}`;
    }
  }
  const webview = {
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
    asWebviewUri: (u: FakeUri) => new FakeUri('https', `/res${u.path}`),
  } as unknown as vscode.Webview;
  const ext = new FakeUri('file', '/ext/rnn-jacobian-lab/') as unknown as vscode.Uri;

  it('has a strict CSP with the nonce and loads only extension resources', () => {
    const nonce = makeNonce();
    const html = panelHtml(webview, ext, nonce);
    const csp = panelCsp(webview.cspSource, nonce);
    assert.ok(html.includes(`content="${csp}"`));
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'(;|$)`));
    assert.match(csp, new RegExp(`style-src https://file\\+\\.vscode-resource\\.vscode-cdn\\.net 'nonce-${nonce}'(;|$)`));
    assert.ok(html.includes(`<meta property="csp-nonce" content="${nonce}">`), 'FAST reads the style nonce from this meta tag');
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
    assert.ok(html.includes(`<script nonce="${nonce}" src="https://ext/res/ext/rnn-jacobian-lab/dist/webview/main.js">`));
    assert.ok(html.includes('href="https://ext/res/ext/rnn-jacobian-lab/media/panel.css"'));
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(urls.length, 2);
    for (const u of urls) assert.ok(u.startsWith('https://ext/res/ext/rnn-jacobian-lab/'), u);
    assert.ok(!/<style|style="/.test(html), 'no inline styles');
  });

  it('makeNonce gives 32 alphanumerics, different each time', () => {
    const seen = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const n = makeNonce();
      assert.match(n, /^[A-Za-z0-9]{32}$/);
      seen.add(n);
    }
    assert.equal(seen.size, 200);
  });
});
