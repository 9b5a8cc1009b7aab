import { defineDiagnostic } from './diagnostic';

export const frobenius = defineDiagnostic({
  name: 'frobenius',
  description: 'Frobenius norm',
  needs: 'jacobian',
  default: true,
  always: true,
  scalar: { fromMoments: (m, row) => m.frobenius[row] },
  panel: { view: 'variance', label: '‖J‖_F' },
});
