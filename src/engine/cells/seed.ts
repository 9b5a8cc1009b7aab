// The seed article's cell, exactly as its Keras layer computes it:
//   h_t = W_h·act(h_{t-1}) + b        (linear_rec: Dense with bias)
//   c_t = c_{t-1} − h_{t-1} + h_t
//   o_t = sigmoid(W_o·x_t + c_t)       (linear_in: Dense without bias)
// Both Dense layers take the config's initializer, as the seed passes one `initializer` to both.
import type { RunSpec } from '../config/spec';
import { CellBuilder } from '../graph/builder';
import type { CellGraph } from '../graph/graph';

export function seedCell(spec: RunSpec): CellGraph {
  const { units, inputDim } = spec;
  const b = new CellBuilder('seed');
  const hPrev = b.state('h', units);
  const cPrev = b.state('c', units);
  const x = b.input('x', inputDim);
  const recKernel = b.param('linear_rec/kernel', [units, units], spec.initializers.recurrentKernel, 'recurrentKernel');
  const recBias = spec.useBias ? b.param('linear_rec/bias', [units], spec.initializers.bias, 'bias') : undefined;
  const inKernel = b.param('linear_in/kernel', [inputDim, units], spec.initializers.kernel, 'kernel');

  const hAct = b.activation('h_act', spec.activation, hPrev);
  b.dense('h', hAct, recKernel, recBias);
  b.op('c', 'add', [b.op('c_minus_h', 'sub', [cPrev, hPrev]), 'h']);
  const xProj = b.dense('x_proj', x, inKernel);
  const oPre = b.op('o_pre', 'add', [xProj, 'c']);
  b.output(b.activation('o', 'sigmoid', oPre));
  return b.build();
}
