// activation: f(z) elementwise for one of the op set's activations. J = diag(f'(z))·J_z.
import type { Tensor2D } from '../../backend/tf';
import type { ActivationName } from '../../config/spec';
import { OpShapeError, type OpDef } from '../op';
import { scaleRows, zero } from '../structuredJacobian';
import { ACTIVATION_RULES } from './activations';

function rule(name: string | undefined) {
  const r = name ? ACTIVATION_RULES[name as ActivationName] : undefined;
  if (!r) throw new OpShapeError(`unknown activation "${name}"; known: ${Object.keys(ACTIVATION_RULES).join(', ')}`);
  return r;
}

export const activationOp: OpDef = {
  name: 'activation',
  arity: 1,
  inferShape: ([z], attrs) => {
    rule(attrs.activation);
    return { shape: z.shape, batched: z.batched };
  },
  evaluate: ([z], attrs) => rule(attrs.activation).evaluate(z),
  jacobian: ({ value, jacobians: [jz], attrs, outDim, wrtDim }) => {
    if (!jz) return zero(outDim, wrtDim);
    // linear′ = 1: the input's Jacobian as it is, so a shared one stays shared (one matrix for every row).
    if (attrs.activation === 'linear') return jz;
    return scaleRows(jz, rule(attrs.activation).derivative(value(0)) as Tensor2D);
  },
};
