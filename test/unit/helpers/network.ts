// Stacked-network runs for tests: a RunSpec built from one-cell configs (each validated as usual), and
// the engine's parameters, initial states and inputs read back from its result in float64.
import type { RunResult, RunSpec } from '../../../src/engine';
import { parseConfig } from '../../../src/engine';
import type { LayerSpec } from '../../../src/engine/config/spec';
import type { Named, Params } from '../reference/cells';
import { mat, type Vec } from '../reference/float64';
import { refLayer, type RefLayer } from '../reference/network';

export const TEST_CONFIG = '/tmp/rnn-jacobian-lab-test.jacobian.json';

export interface LayerConfig {
  cell: string;
  units: number;
  activation?: string;
  recurrentActivation?: string;
  initializers?: Record<string, unknown>;
}

/** A network RunSpec: `run` holds the run settings, each layer is validated as a one-cell config. */
export function networkSpec(run: Record<string, unknown>, layers: LayerConfig[], jacobians: [string, string][]): RunSpec {
  const spec = parseConfig(JSON.stringify({ ...run, cell: layers[0].cell, units: layers[0].units }), TEST_CONFIG);
  const layerSpecs: LayerSpec[] = layers.map((l, i) => {
    const s = parseConfig(JSON.stringify({ ...run, ...l }), TEST_CONFIG);
    const { cell, units, activation, recurrentActivation, useBias, initializers } = s;
    return { name: `l${i}`, path: `layers[${i}]`, cell, units, activation, recurrentActivation, useBias, initializers };
  });
  const requests = jacobians.map(([of, wrt], i) => ({ of, wrt, path: `jacobians[${i}]` }));
  return { ...spec, layers: layerSpecs, jacobians: requests };
}

/** The engine's numbers read back from a result in float64: parameters, inputs x_t and initial states. */
export function engineReader(r: RunResult) {
  const find = (name: string) => {
    const t = r.arrays.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`no tensor ${name} in the result`);
    return t;
  };
  const { timeSteps: T, batchSize: B } = r.report;
  /** Parameters whose saved name starts with `prefix`, keyed by the rest of it. */
  const params = (prefix = ''): Params => {
    const out: Params = {};
    for (const t of r.arrays.tensors.filter((x) => x.kind === 'param' && x.name.startsWith(prefix))) {
      out[t.name.slice(prefix.length)] = mat(t.shape[0], t.shape.length > 1 ? t.shape[1] : 1, t.data);
    }
    return out;
  };
  const x = find('x');
  const d = x.shape[2];
  const xs = (t: number, b: number): Vec => Float64Array.from(x.data.subarray(((t - 1) * B + b) * d, ((t - 1) * B + b + 1) * d));
  /** The initial value of a state for batch element b. */
  const initial = (state: string, b: number): Vec => {
    const st = find(state);
    const u = st.shape[2];
    return Float64Array.from(st.data.subarray(b * u, (b + 1) * u));
  };
  return { T, B, params, xs, initial };
}

/** The reference layers with the engine's parameters, and its initial states and inputs, in float64. */
export function engineNetwork(r: RunResult, layers: LayerConfig[]) {
  const read = engineReader(r);
  const refs: RefLayer[] = layers.map((l, i) => refLayer(`l${i}`, l.cell, l.activation ?? 'tanh', l.recurrentActivation ?? 'sigmoid', read.params(`l${i}/`)));
  const init = (b: number): Named => Object.fromEntries(refs.flatMap((l) => l.ref.states.map((s) => [`${l.name}.${s}`, read.initial(`${l.name}.${s}`, b)])));
  return { refs, T: read.T, B: read.B, xs: read.xs, init };
}
