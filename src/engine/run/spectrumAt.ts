// The whole spectrum of one Jacobian of a finished run, on demand: what the panel asks for the (step, batch
// element) on screen, instead of decomposing every matrix of the run in advance (O(n³) each).
import { fileIssue, UserError } from '../errors';
import { spectrumOf, type MatrixSpectrum } from './diagnostics';
import type { RunResult } from './report';

/** Singular values (descending) and, for a square Jacobian, eigenvalues (by decreasing modulus) of one kept Jacobian. */
export function spectrumAt(result: RunResult, pairIndex: number, stepIndex: number, batchIndex: number): MatrixSpectrum {
  const pair = result.report.jacobians[pairIndex];
  const data = result.arrays.pairs[pairIndex]?.jacobians;
  const B = result.report.batchSize;
  if (!pair || stepIndex < 0 || stepIndex >= pair.steps.length || batchIndex < 0 || batchIndex >= B) {
    throw new Error(`internal: no Jacobian at pair ${pairIndex}, step index ${stepIndex}, batch element ${batchIndex}`);
  }
  if (!data) {
    throw new UserError('input', [
      fileIssue(result.report.config, `the Jacobians of ${pair.of} wrt ${pair.wrt} were not kept (over the keep limit), so their spectra cannot be computed now`, pair.path),
    ]);
  }
  const [out, inn] = [pair.outDim, pair.inDim];
  return spectrumOf(data, (stepIndex * B + batchIndex) * out * inn, out, inn, { singular: true, eigen: out === inn });
}
