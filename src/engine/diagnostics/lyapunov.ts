import { defineDiagnostic } from './diagnostic';

export const lyapunov = defineDiagnostic({
  name: 'lyapunov',
  description: 'For a state transition pair S@t wrt S@t-1: the Lyapunov spectrum (Benettin), its convergence and theory overlays; settings under "lyapunov"',
  needs: 'series',
  default: false,
  // Benettin's method with QR re-orthonormalisation (series/run.ts, series/lyapunov.ts).
  series: { report: 'lyapunov' },
  panel: { view: 'lyapunov', label: 'Lyapunov spectrum' },
});
