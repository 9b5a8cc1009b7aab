// Keras SimpleRNNCell: h_t = act(x_t·kernel + b + h_{t-1}·recurrent_kernel).
import type { RunSpec } from '../config/spec';
import { CellBuilder } from '../graph/builder';
import type { CellGraph } from '../graph/graph';

export function simpleRnnCell(spec: RunSpec): CellGraph {
  const { units, inputDim } = spec;
  const b = new CellBuilder('simple_rnn');
  const hPrev = b.state('h', units);
  const x = b.input('x', inputDim);
  const kernel = b.param('kernel', [inputDim, units], spec.initializers.kernel, 'kernel');
  const recurrent = b.param('recurrent_kernel', [units, units], spec.initializers.recurrentKernel, 'recurrentKernel');
  const bias = spec.useBias ? b.param('bias', [units], spec.initializers.bias, 'bias') : undefined;

  const xProj = b.dense('x_proj', x, kernel, bias);
  const hProj = b.dense('h_proj', hPrev, recurrent);
  const z = b.op('z', 'add', [xProj, hProj]);
  b.activation('h', spec.activation, z);
  b.output('h');
  return b.build();
}
