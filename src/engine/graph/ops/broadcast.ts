// Shape rule shared by the elementwise binary ops: a batched vector combines with another of the same
// size, with a parameter vector of that size (a bias), or with a scalar constant.
import type { GraphNode } from '../graph';
import { OpShapeError, type ShapeResult } from '../op';

export function elementwiseShape(op: string, inputs: GraphNode[]): ShapeResult {
  const [a, b] = inputs;
  const size = (n: GraphNode) => (n.shape.length === 0 ? 1 : n.shape.reduce((x, y) => x * y, 1));
  const isScalar = (n: GraphNode) => n.shape.length === 0;
  if (!a.batched && !b.batched) {
    if (isScalar(a)) return { shape: b.shape, batched: false };
    if (isScalar(b) || sameShape(a.shape, b.shape)) return { shape: a.shape, batched: false };
  } else if (isScalar(a) || isScalar(b)) {
    return { shape: (isScalar(a) ? b : a).shape, batched: true };
  } else if (a.shape.length === 1 && b.shape.length === 1 && a.shape[0] === b.shape[0]) {
    return { shape: a.shape, batched: true };
  }
  throw new OpShapeError(
    `${op}: shapes do not match: ${a.name} is [${a.shape.join(', ')}] and ${b.name} is [${b.shape.join(', ')}]` +
      (size(a) !== size(b) ? '' : ' (same size, different layout)'),
  );
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
