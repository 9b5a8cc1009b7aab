// The before/after view of a control run analyzes the original config and the one pointing at the new weights
// with the same pairs and diagnostics: each layer's joint transition Jacobian (what LSC and flossing act on), and
// for a stacked network the depth × time grid's edges of its outputs; ρ and ‖J‖₂ per step, the eigenvalues, the
// gradient-propagation curve (and, for flossing, the Lyapunov spectrum). Only `jacobians` and `diagnostics`
// change, so data, seed and weights are the config's own.
import { parse } from 'jsonc-parser/lib/esm/main';
import type { ControlProblem } from './problem';

export type ComparedKind = 'stabilize' | 'floss';

const joint = (names: string[]) => (names.length > 1 ? `(${names.join(',')})` : names[0]);

/** The pairs the comparison shows, as config entries. */
export function comparisonPairs(problem: ControlProblem): { of: string; wrt: string }[] {
  const stacked = problem.spec.layers !== undefined;
  const pairs = problem.layers.map((layer) => {
    // A layer's states are network names (`l0.h`); a tuple is written `l0.(h,c)`.
    const local = layer.states.map((s) => (stacked ? s.slice(layer.name.length + 1) : s));
    const name = stacked ? `${layer.name}.${joint(local)}` : joint(local);
    return { of: `${name}@t`, wrt: `${name}@t-1` };
  });
  if (!stacked) return pairs;
  // The depth × time grid reads single-state pairs `L.S@t wrt L.S@t-1` and `L.S@t wrt L'.S@t`.
  problem.layers.forEach((layer, l) => {
    const time = { of: `${layer.output}@t`, wrt: `${layer.output}@t-1` };
    if (!pairs.some((p) => p.of === time.of && p.wrt === time.wrt)) pairs.push(time);
    if (l > 0) pairs.push({ of: `${layer.output}@t`, wrt: `${problem.layers[l - 1].output}@t` });
  });
  return pairs;
}

/** `text` with the comparison's `jacobians` and `diagnostics`. */
export function comparisonConfigText(text: string, problem: ControlProblem, kind: ComparedKind): string {
  const data = parse(text) as Record<string, unknown>;
  data.jacobians = comparisonPairs(problem);
  data.diagnostics = ['spectralRadius', 'spectralNorm', 'eigenvalues', 'gradientPropagation', ...(kind === 'floss' ? ['lyapunov'] : [])];
  return JSON.stringify(data, null, 2);
}
