import { spectralNorms } from '../spectra/lanczos';
import { defineDiagnostic } from './diagnostic';

export const spectralNorm = defineDiagnostic({
  name: 'spectralNorm',
  description: 'Largest singular value',
  needs: 'jacobian',
  default: true,
  scalar: {
    // Golub–Kahan–Lanczos on the structured Jacobians; an SVD where n is small or it did not converge.
    matrixFree: spectralNorms,
    spectrum: { singular: true },
    fromSpectrum: (s) => s.singularValues![0] ?? NaN,
  },
  cli: { header: 'spectral norm' },
  panel: { view: 'spectral', label: 'spectral norm ‖J‖₂' },
});
