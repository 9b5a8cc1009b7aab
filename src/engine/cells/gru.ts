// Keras GRUCell with reset_after = true (the TF2 default, the cuDNN-compatible form):
//   x·kernel + b_in = [x_z, x_r, x_h];  h_{t-1}·recurrent_kernel + b_rec = [r_z, r_r, r_h]
//   z = σ(x_z + r_z);  r = σ(x_r + r_r);  hh = act(x_h + r ⊙ r_h);  h_t = z ⊙ h_{t-1} + (1 − z) ⊙ hh
// bias has shape [2, 3·units]: row 0 is the input bias, row 1 the recurrent bias.
import type { RunSpec } from '../config/spec';
import { CellBuilder } from '../graph/builder';
import type { CellGraph } from '../graph/graph';

export function gruCell(spec: RunSpec): CellGraph {
  const { units: u, inputDim } = spec;
  const b = new CellBuilder('gru');
  const hPrev = b.state('h', u);
  const x = b.input('x', inputDim);
  const kernel = b.param('kernel', [inputDim, 3 * u], spec.initializers.kernel, 'kernel');
  const recurrent = b.param('recurrent_kernel', [u, 3 * u], spec.initializers.recurrentKernel, 'recurrentKernel');
  let inBias: string | undefined;
  let recBias: string | undefined;
  if (spec.useBias) {
    const bias = b.param('bias', [2, 3 * u], spec.initializers.bias, 'bias');
    inBias = b.op('bias_in', 'row', [bias], { begin: 0 });
    recBias = b.op('bias_rec', 'row', [bias], { begin: 1 });
  }
  const xProj = b.dense('x_proj', x, kernel, inBias);
  const hProj = b.dense('h_proj', hPrev, recurrent, recBias);
  const part = (src: string, prefix: string, k: number) => b.op(`${prefix}`, 'slice', [src], { begin: k * u, size: u });
  const [xz, xr, xh] = [0, 1, 2].map((k) => part(xProj, ['x_z', 'x_r', 'x_h'][k], k));
  const [rz, rr, rh] = [0, 1, 2].map((k) => part(hProj, ['rec_z', 'rec_r', 'rec_h'][k], k));
  const z = b.activation('z', spec.recurrentActivation, b.op('z_pre', 'add', [xz, rz]));
  const r = b.activation('r', spec.recurrentActivation, b.op('r_pre', 'add', [xr, rr]));
  const hh = b.activation('hh', spec.activation, b.op('hh_pre', 'add', [xh, b.op('r_rec_h', 'mul', [r, rh])]));
  const keep = b.op('z_h', 'mul', [z, hPrev]);
  const update = b.op('one_minus_z', 'sub', [b.constant(1), z]);
  b.op('h', 'add', [keep, b.op('update_hh', 'mul', [update, hh])]);
  b.output('h');
  return b.build();
}
