import { defineDiagnostic } from './diagnostic';

export const varTimesFanIn = defineDiagnostic({
  name: 'varTimesFanIn',
  description: 'Variance of the entries times the fan-in (1 at the edge of chaos for a well-initialised cell)',
  needs: 'jacobian',
  default: true,
  always: true,
  // np.var of the entries times the number of inputs each output sums over (the Jacobian's columns).
  scalar: { fromMoments: (m, row, shape) => m.variance[row] * shape.in },
  cli: { header: 'varTimesFanIn' },
  panel: { view: 'variance', label: 'var(J)·fan-in' },
});
