// slice: features begin..begin+size of a batched vector (split is several slices). J keeps those rows.
import { tf, type Tensor2D } from '../../backend/tf';
import { OpShapeError, type OpDef } from '../op';
import { sliceRows, zero } from '../structuredJacobian';

export const sliceOp: OpDef = {
  name: 'slice',
  arity: 1,
  inferShape: ([x], { begin = 0, size = 0 }) => {
    if (x.shape.length !== 1) throw new OpShapeError(`slice: ${x.name} must be a vector, is [${x.shape.join(', ')}]`);
    if (begin < 0 || size < 1 || begin + size > x.shape[0]) {
      throw new OpShapeError(`slice: [${begin}:${begin + size}] is outside ${x.name}, which has ${x.shape[0]} features`);
    }
    return { shape: [size], batched: x.batched };
  },
  evaluate: ([x], { begin = 0, size = 0 }) =>
    x.rank === 1 ? tf().slice(x, [begin], [size]) : tf().slice(x as Tensor2D, [0, begin], [x.shape[0], size]),
  jacobian: ({ jacobians: [jx], attrs: { begin = 0, size = 0 }, rows, wrtDim }) =>
    jx ? sliceRows(jx, begin, size, rows) : zero(size, wrtDim),
};
