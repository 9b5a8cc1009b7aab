import { defineDiagnostic } from './diagnostic';

export const mean = defineDiagnostic({
  name: 'mean',
  description: 'Mean of the entries',
  needs: 'jacobian',
  default: true,
  always: true,
  scalar: { fromMoments: (m, row) => m.mean[row] },
  panel: { view: 'variance', label: 'mean of J' },
});
