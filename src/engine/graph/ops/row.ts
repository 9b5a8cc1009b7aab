// row: one row of a 2-D parameter (the two bias vectors of a Keras GRU with reset_after). Parameters
// have no Jacobian, so this op needs no Jacobian rule.
import { tf, type Tensor2D } from '../../backend/tf';
import { OpShapeError, type OpDef } from '../op';

export const rowOp: OpDef = {
  name: 'row',
  arity: 1,
  inferShape: ([p], { begin = 0 }) => {
    if (p.batched || p.shape.length !== 2 || begin < 0 || begin >= p.shape[0]) {
      throw new OpShapeError(`row: row ${begin} of ${p.name} [${p.shape.join(', ')}] does not exist`);
    }
    return { shape: [p.shape[1]], batched: false };
  },
  evaluate: ([p], { begin = 0 }) => {
    const cols = (p as Tensor2D).shape[1];
    return tf().reshape(tf().slice(p as Tensor2D, [begin, 0], [1, cols]), [cols]);
  },
};
