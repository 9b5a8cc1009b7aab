// The stages a run reports, in order, with the share of the progress bar each one fills. One list, read by the
// engine (which reports exactly these stages) and by the extension's progress bar (which weights them), so the
// bar reaches 100 % when the last stage ends. Spectra are computed per chunk of Jacobians, inside 'jacobians'.
export const PROGRESS_STAGES = [
  { stage: 'validate', weight: 0.02 },
  { stage: 'build', weight: 0.03 },
  { stage: 'rollout', weight: 0.25 },
  { stage: 'jacobians', weight: 0.7 },
] as const;

export type ProgressStage = (typeof PROGRESS_STAGES)[number]['stage'];

export interface Progress {
  stage: ProgressStage;
  /** Steps done in this stage, out of `total`. */
  step: number;
  total: number;
}

export function isProgressStage(value: unknown): value is ProgressStage {
  return PROGRESS_STAGES.some((s) => s.stage === value);
}

/** How much of the whole run is done, 0..1: the stages before this one, and this one's share by its steps. */
export function overallFraction(progress: Progress): number {
  const index = PROGRESS_STAGES.findIndex((s) => s.stage === progress.stage);
  if (index < 0) return 0;
  const within = progress.total > 0 ? Math.min(1, Math.max(0, progress.step / progress.total)) : 0;
  let before = 0;
  for (let i = 0; i < index; i++) before += PROGRESS_STAGES[i].weight;
  return Math.min(1, before + PROGRESS_STAGES[index].weight * within);
}
