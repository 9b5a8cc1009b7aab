import { spectralRadii } from '../spectra/arnoldi';
import { defineDiagnostic } from './diagnostic';

export const spectralRadius = defineDiagnostic({
  name: 'spectralRadius',
  description: 'Largest eigenvalue modulus (square Jacobians only)',
  needs: 'jacobian',
  default: true,
  squareOnly: true,
  scalar: {
    // Restarted Arnoldi on the structured Jacobians; all eigenvalues where n is small or it did not converge.
    matrixFree: spectralRadii,
    spectrum: { eigen: true },
    fromSpectrum: (s) => (s.eigenRe && s.eigenRe.length ? Math.hypot(s.eigenRe[0], s.eigenIm![0]) : NaN),
  },
  cli: { header: 'spectral radius' },
  panel: { view: 'spectral', label: 'spectral radius ρ(J)' },
});
