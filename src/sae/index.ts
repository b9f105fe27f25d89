// Public surface of src/sae (re-exported by src/index.ts).
export * from './sae.js';
export { parseSAEConfig, serializeSAEConfig, saelensArchitecture, layerOfHook, SAELENS_FORMAT_VERSION } from './sae-config-file.js';
export {
  loadSAE, loadSAEFolder, saveSAE, saeFromStateDict, SAE_CFG_FILENAME, SAE_WEIGHTS_FILENAME, SAE_SPARSITY_FILENAME,
  type LoadSAEOptions, type LoadedSAE, type SaveSAEOptions,
} from './saelens-files.js';
export { jumpReluSTE, stepSTE } from './jumprelu-ste.js';
export { TrainableSAE, auxKLoss, type TrainingCoefficients, type TrainingForward, type StepLosses } from './training-step.js';
export { learningRateAt, coefficientAt, type LrSchedule, type LrScheduler } from './training-schedule.js';
export {
  ActivationStore, harvestActivations, hookWidth, modelChunkSource,
  type ActivationStoreOptions, type ChunkSource, type ModelChunkSourceOptions, type ActivationBatch, type HarvestedChunk, type TokenRowSource,
} from './activation-store.js';
export { ActivationDiskCache, type ActivationCacheKey } from './activation-disk-cache.js';
export { trainSAE, saeTrainSpec, type SAETrainSpec, type SAETrainOptions, type SAETrainProgress, type SAETrainResult } from './trainer.js';
export { evaluateSAE, densityHistogram, type SAEEvalOptions, type SAEEvalResult, type DensityHistogram } from './evals.js';
export {
  saeHooks, runWithSAEs, featureSteeringHook, applyFeatureEdits,
  type FeatureEdit, type SpliceOptions, type RunWithSAEsResult,
} from './splice.js';
export * from './dashboard-exports.js';
