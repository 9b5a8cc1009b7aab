// Keras LSTMCell (gates i, f, c, o in that order along the kernel's columns):
//   z = x·kernel + h_{t-1}·recurrent_kernel + bias;  i = σ(z_i), f = σ(z_f), g = act(z_c), o = σ(z_o)
//   c_t = f ⊙ c_{t-1} + i ⊙ g;  h_t = o ⊙ act(c_t)
// σ is recurrent_activation. The bias follows unit_forget_bias: ones on the forget gate's slice.
import type { RunSpec } from '../config/spec';
import { CellBuilder } from '../graph/builder';
import type { CellGraph } from '../graph/graph';

export function lstmCell(spec: RunSpec): CellGraph {
  const { units: u, inputDim } = spec;
  const b = new CellBuilder('lstm');
  const hPrev = b.state('h', u);
  const cPrev = b.state('c', u);
  const x = b.input('x', inputDim);
  const kernel = b.param('kernel', [inputDim, 4 * u], spec.initializers.kernel, 'kernel');
  const recurrent = b.param('recurrent_kernel', [u, 4 * u], spec.initializers.recurrentKernel, 'recurrentKernel');
  const biasInit = spec.initializers.bias;
  const unitForgetBias = [
    { size: u, initializer: biasInit },
    { size: u, initializer: { name: 'ones' as const } },
    { size: 2 * u, initializer: biasInit },
  ];
  const bias = spec.useBias ? b.param('bias', [4 * u], biasInit, 'bias', unitForgetBias) : undefined;

  const xProj = b.dense('x_proj', x, kernel, bias);
  const hProj = b.dense('h_proj', hPrev, recurrent);
  const z = b.op('z', 'add', [xProj, hProj]);
  const gate = (name: string, k: number) => b.op(`z_${name}`, 'slice', [z], { begin: k * u, size: u });
  const i = b.activation('i', spec.recurrentActivation, gate('i', 0));
  const f = b.activation('f', spec.recurrentActivation, gate('f', 1));
  const g = b.activation('g', spec.activation, gate('c', 2));
  const o = b.activation('o', spec.recurrentActivation, gate('o', 3));
  b.op('c', 'add', [b.op('f_c', 'mul', [f, cPrev]), b.op('i_g', 'mul', [i, g])]);
  const cAct = b.activation('c_act', spec.activation, 'c');
  b.op('h', 'mul', [o, cAct]);
  b.output('h');
  return b.build();
}
