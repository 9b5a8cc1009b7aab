import { defineDiagnostic } from './diagnostic';

export const gradientPropagation = defineDiagnostic({
  name: 'gradientPropagation',
  description: 'For a state transition pair S@t wrt S@t-1: ln‖∂s_T/∂s_t‖ (spectral and Frobenius) for every t < T and the fitted rate per step',
  needs: 'series',
  default: false,
  // Products accumulated backward along the trajectory (series/run.ts, series/propagation.ts).
  series: { report: 'gradient' },
  panel: { view: 'gradient', label: 'gradient propagation ‖∂s_T/∂s_t‖' },
});
