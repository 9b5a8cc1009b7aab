// The engine's public face. The CLI, the engine worker process and the tests import only this.
// Nothing here (or below) imports `vscode`: the engine is a pure library over tfjs.
export { analyze, analyzeFile, analyzeText, parseRunConfig as parseConfig, type AnalyzeOptions } from './run/analyze';
export { saveRun, type SaveManifest } from './run/save';
export { spectrumAt } from './run/spectrumAt';
export { initBackend, type BackendName } from './backend/backend';
export { UserError, CancelledError, formatIssue, type SourceIssue } from './errors';
export type { Report, RunResult, PairArrays, PairReport, StepStats, NamedArray } from './run/report';
export type { RunSpec } from './config/spec';
export { inspectWeightsFile, type WeightsFileSummary } from './params/weights';
export { WeightsFileError } from './params/formats/binary';
export type { LayerSummary } from './params/formats/layer';
