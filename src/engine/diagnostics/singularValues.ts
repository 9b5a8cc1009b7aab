import { defineDiagnostic } from './diagnostic';

export const singularValues = defineDiagnostic({
  name: 'singularValues',
  description: 'All singular values',
  needs: 'jacobian',
  default: false,
  arrays: {
    spectrum: { singular: true },
    floatsPerMatrix: (out, inn) => Math.min(out, inn),
    allocate: (matrices, out, inn) => ({ singularValues: new Float32Array(matrices * Math.min(out, inn)) }),
    write: (s, arrays, target, out, inn) => arrays.singularValues!.set(s.singularValues!, target * Math.min(out, inn)),
  },
  panel: { view: 'singularValues', label: 'singular values' },
});
