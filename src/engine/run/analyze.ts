// One run, end to end: config → graph → data → rollout → Jacobians → diagnostics → report.
import { firstChoice, selectBackend, type BackendPreference } from '../backend/backend';
import { tf, type Tensor } from '../backend/tf';
import type { JacobianMethod, RunSpec } from '../config/spec';
import { parseRunConfig, readConfigFile } from '../runConfig';
import { loadWeightReaders, loadWeightReadersFor } from '../params/weights';
import type { CellGraph } from '../graph/graph';
import { opDef } from '../graph/ops';
import type { Progress } from '../../protocol/messages';
import { initialStates, inputSeries } from './data';
import { buildNetwork, initNetworkParams } from '../network/network';
import { pairSeries, seriesSteps } from '../series/run';
import { checkMemory, estimateMemory, formatBytes, plannedMemory } from './memory';
import type { SpectraMethod } from '../spectra/extremes';
import { pairDiagnostics, sharesMeasurements } from './pairDiagnostics';
import { startSecondThread } from '../thread/secondThread';
import { resolvePairs } from './pairs';
import { REPORT_SCHEMA_VERSION, type NamedArray, type PairArrays, type PairReport, type RunResult } from './report';
import { rollout, type Trajectory } from './rollout';
import { variancePolicy } from './theory';
import { estimateFlops } from './work';

export interface AnalyzeOptions {
  backend?: BackendPreference;
  /** Overrides the config's method. */
  method?: JacobianMethod;
  /** Overrides the config's maxMemoryMB. */
  maxMemoryMB?: number;
  /** Keep whole Jacobians (for --save and heatmaps) when they total at most this many MB. Default: all. */
  keepJacobiansMB?: number;
  /** Working memory of one chunk of Jacobians. */
  chunkMB?: number;
  /** How spectralNorm / spectralRadius are computed; `auto` (default) picks by size (spectra/extremes.ts). */
  spectra?: 'auto' | SpectraMethod;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  log?: (line: string) => void;
}

export async function analyzeFile(file: string, options: AnalyzeOptions = {}): Promise<RunResult> {
  return analyzeText(readConfigFile(file), file, options);
}

export { parseRunConfig };

export async function analyzeText(text: string, file: string, options: AnalyzeOptions = {}): Promise<RunResult> {
  options.onProgress?.({ stage: 'validate', step: 0, total: 1 });
  await loadWeightReadersFor(text); // "cell": "auto" reads the weights file while the config is parsed
  return analyze(parseRunConfig(text, file), options);
}

/** The op without a structured rule that a pair would need, if any (then autodiff is used for it). */
function opWithoutRule(graph: CellGraph): string | undefined {
  return graph.nodes.find((n) => n.op && n.batched && !opDef(n.op).jacobian)?.op;
}

export async function analyze(spec: RunSpec, options: AnalyzeOptions = {}): Promise<RunResult> {
  const log = options.log ?? (() => {});
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  await loadWeightReaders(spec.weights);
  const method = options.method ?? spec.method;
  const maxMemoryMB = options.maxMemoryMB ?? spec.maxMemoryMB;
  const chunkBytes = (options.chunkMB ?? 256) * 2 ** 20;

  progress({ stage: 'build', step: 0, total: 1 });
  const network = buildNetwork(spec);
  const graph = network.graph;
  // Before any per-step list exists: a run too large for its steps is refused here, not by the heap.
  checkMemory(plannedMemory(graph, spec, method), maxMemoryMB, spec);
  const pairs = resolvePairs(graph, spec);
  const keptBytes = pairs.reduce((s, p) => s + p.occurrences.length * spec.batchSize * p.ofDim * p.wrtDim * 4, 0);
  const keep = keptBytes <= (options.keepJacobiansMB ?? Infinity) * 2 ** 20;
  if (!keep) log(`whole Jacobians (${formatBytes(keptBytes)}) exceed the keep limit; only their statistics are kept`);
  checkMemory(estimateMemory(graph, spec, pairs, keep, chunkBytes, method), maxMemoryMB, spec);
  const flops = estimateFlops(graph, spec, pairs, method, options.spectra);
  // The second thread loads TensorFlow while this one does.
  const first = firstChoice(options.backend ?? 'auto', flops);
  if (pairs.some((p) => sharesMeasurements(spec, p, options.spectra ?? 'auto'))) startSecondThread(first);
  const { name: backend, reason } = await selectBackend(options.backend ?? 'auto', flops);
  log(reason);

  const { params, trained } = initNetworkParams(network, spec);
  const states0 = initialStates(graph, spec);
  const inputs = inputSeries(graph, spec);
  const t = tf();
  const paramTensors = new Map<string, Tensor>(
    graph.params.map((p) => [p.name, t.tensor(params.get(p.name)!, p.shape)]),
  );
  const buildMs = performance.now() - started;

  let traj: Trajectory | undefined;
  try {
    const rolloutStart = performance.now();
    traj = await rollout(
      graph,
      { params: paramTensors, initialStates: states0, inputs },
      spec.timeSteps,
      spec.batchSize,
      (step) => progress({ stage: 'rollout', step, total: spec.timeSteps }),
      options.signal,
    );
    const rolloutMs = performance.now() - rolloutStart;
    log(`rollout: ${spec.timeSteps} steps × batch ${spec.batchSize} in ${rolloutMs.toFixed(0)} ms`);

    const jacobianStart = performance.now();
    const fallback = method === 'structured' ? opWithoutRule(graph) : undefined;
    const pairMethod: JacobianMethod = fallback ? 'autodiff' : method;
    if (fallback) log(`op "${fallback}" has no structured Jacobian rule: using autodiff`);
    const reports: PairReport[] = [];
    const arrays: PairArrays[] = [];
    let spectralMs = 0;
    // The series (gradient propagation, Lyapunov) stream each step's Jacobians again: their steps are work of this stage too.
    const totalOcc = pairs.reduce((s, p) => s + p.occurrences.length + seriesSteps(spec, graph, p), 0);
    let doneBefore = 0;
    for (const pair of pairs) {
      const r = await pairDiagnostics(spec, graph, pair, traj, paramTensors, trained, {
        method: pairMethod,
        keep,
        chunkBytes,
        signal: options.signal,
        spectra: options.spectra ?? 'auto',
        log,
        onChunk: (done) => progress({ stage: 'jacobians', step: doneBefore + done, total: totalOcc }),
      });
      if (fallback) r.report.fallbackReason = `op "${fallback}" has no structured rule`;
      const seriesStart = performance.now();
      const seriesContext = { entryVariance: meanEntryVariance(r.report), variance: variancePolicy(graph, trained) };
      const onSeriesStep = (step: number) => progress({ stage: 'jacobians', step: doneBefore + pair.occurrences.length + step, total: totalOcc });
      Object.assign(r.report, await pairSeries(spec, { graph, pair, traj, params: paramTensors, method: pairMethod, chunkBytes, signal: options.signal }, seriesContext, onSeriesStep));
      spectralMs += performance.now() - seriesStart;
      doneBefore += pair.occurrences.length + seriesSteps(spec, graph, pair);
      spectralMs += r.spectralMs;
      reports.push(r.report);
      arrays.push(r.arrays);
      log(`${pair.request.of} wrt ${pair.request.wrt}: ${pair.occurrences.length} × ${spec.batchSize} Jacobians [${pair.ofDim}×${pair.wrtDim}] by ${pairMethod}`);
    }
    const jacobianMs = performance.now() - jacobianStart - spectralMs;
    const tensors = trajectoryArrays(graph, traj, params);
    const totalMs = performance.now() - started;
    log(`total ${totalMs.toFixed(0)} ms (jacobians ${jacobianMs.toFixed(0)} ms, diagnostics ${spectralMs.toFixed(0)} ms)`);
    return {
      report: {
        schemaVersion: REPORT_SCHEMA_VERSION,
        config: spec.configFile,
        cell: spec.cell,
        units: spec.units,
        inputDim: spec.inputDim,
        activation: spec.activation,
        timeSteps: spec.timeSteps,
        batchSize: spec.batchSize,
        seed: spec.seed,
        backend,
        backendReason: reason,
        method: pairMethod,
        diagnostics: spec.diagnostics,
        ...(spec.layers ? { layers: spec.layers.map((l, i) => ({ name: l.name, cell: l.cell, units: l.units, inputDim: network.specs[i].inputDim, activation: l.activation })) } : {}),
        timings: { buildMs, rolloutMs, jacobianMs, diagnosticsMs: spectralMs, totalMs },
        jacobians: reports,
      },
      arrays: { pairs: arrays, tensors },
    };
  } finally {
    traj?.dispose();
    paramTensors.forEach((p) => p.dispose());
  }
}

/** The mean over steps and batch of Var(J_ij) (varTimesFanIn / fan_in). */
function meanEntryVariance(pair: PairReport): number {
  const all = pair.steps.flatMap((s) => s.varTimesFanIn);
  return all.reduce((a, b) => a + b, 0) / all.length / pair.inDim;
}

function trajectoryArrays(graph: CellGraph, traj: Trajectory, params: ReadonlyMap<string, Float32Array>): NamedArray[] {
  // Parameters go by their weight name (a custom cell's `name` alias), as Keras and --save name them.
  const out: NamedArray[] = graph.params.map((p) => ({
    name: p.weightName ?? p.name,
    kind: 'param',
    shape: p.shape,
    data: params.get(p.name)!,
    meaning: p.weightName ? `parameter ${p.name} (weight ${p.weightName}, Keras layout)` : `parameter ${p.name} (Keras layout)`,
  }));
  const T = traj.T;
  const add = (name: string, kind: NamedArray['kind'], meaning: string) => {
    const s = traj.series3d(name);
    out.push({ name, kind, shape: s.shape.slice(), data: s.dataSync() as Float32Array, meaning });
  };
  for (const s of graph.states) add(s.name, 'state', `${s.name}@0..${s.name}@${T}; index 0 is the initial state`);
  for (const x of graph.inputs) add(x, 'input', `${x}@1..${x}@${T}; index k is step k+1`);
  for (const o of graph.outputs) {
    if (!graph.states.some((s) => s.name === o)) add(o, 'output', `${o}@1..${o}@${T}; index k is step k+1`);
  }
  return out;
}

