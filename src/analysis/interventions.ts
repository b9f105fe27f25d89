// Interventions: what changes when activations are changed. Activation patching (batched sweeps),
// path patching, attribution patching, ablations and steering vectors, with the metrics they
// report. This is the public surface of those files; index.ts re-exports it.

export {
  logitDiff, answerProbability, klDivergence, rowMetric, normalisedMetric, metricValue,
  type Metric, type RowMetric, type LogitPositions, type TokenIds, type PositionOption, type Baselines,
} from './metrics.js';
export {
  activationPatching, patchBlockEvery, patchHeadsEvery, runPatchPlan, metricBaselines,
  type ActivationPatchingOptions, type PatchingResult,
} from './patching.js';
export { PATCH_TARGETS, planFor, stackedPlan, type PatchTarget, type Patch, type PatchPlan } from './patching-targets.js';
export { DEFAULT_MEMORY_BUDGET_BYTES, type SweepControl } from './sweep-runtime.js';
export {
  pathPatching, pathPatchingSweep, type HeadRef, type ReceiverInput, type PathPatchingOptions,
} from './path-patching.js';
export {
  attributionPatching, type AttributionTarget, type AttributionPatchingOptions, type AttributionPatchingResult,
} from './attribution-patching.js';
export {
  zeroAblation, meanAblation, resampleAblation, ablationEffect, type Ablation, type AblationTarget,
} from './ablation.js';
export type { DatasetOptions } from './ablation-stats.js';
export {
  contrastVector, steeringHook, type SteeringOptions, type ContrastOptions, type SteeringSite, type ResidualPoint,
} from './steering.js';
