import { defineDiagnostic } from './diagnostic';

export const eigenvalues = defineDiagnostic({
  name: 'eigenvalues',
  description: 'All eigenvalues (square Jacobians only)',
  needs: 'jacobian',
  default: false,
  squareOnly: true,
  arrays: {
    spectrum: { eigen: true },
    floatsPerMatrix: (out) => 2 * out,
    allocate: (matrices, out) => ({ eigenvaluesRe: new Float32Array(matrices * out), eigenvaluesIm: new Float32Array(matrices * out) }),
    write: (s, arrays, target, out) => {
      arrays.eigenvaluesRe!.set(s.eigenRe!, target * out);
      arrays.eigenvaluesIm!.set(s.eigenIm!, target * out);
    },
  },
  panel: { view: 'eigenvalues', label: 'eigenvalues' },
});
