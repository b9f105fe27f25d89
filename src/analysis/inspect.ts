// The inspection half of analysis/ (cache analyses, direct logit attribution, logit and tuned
// lenses, head detection, QK/OV circuits, neurons), re-exported for src/index.ts. Interventions
// (patching, ablation, steering) have their own entry points.

export {
  accumulatedResid, applyLnToStack, decomposeResid, neuronResults, stackHeadResults, stackNeuronResults,
  type ApplyLnOptions, type DecomposeOptions, type HeadResults, type NeuronOptions, type ResidStack, type StackOptions,
} from './cache-analysis.js';
export type { TokenTargets } from './cache-access.js';
export { logitAttrs, type LogitAttributions, type LogitAttrsOptions, type LogitTarget } from './direct-logit-attribution.js';
export {
  logitLens, logitLensHeatmap, runLogitLens, type LensHeatmap, type LensNorm, type LogitLensOptions, type LogitLensResult,
} from './logit-lens.js';
export {
  TunedLens, lensKL, serializeTunedLens, trainTunedLens, tunedLensFromBytes, type TrainTunedLensOptions,
} from './tuned-lens.js';
export { loadTunedLens, saveTunedLens } from './tuned-lens-file.js';
export {
  HEAD_KINDS, attentionSimilarity, detectHeads, detectionPattern, headScores, repeatedRandomTokens,
  type DetectionPattern, type HeadKind, type HeadScoreOptions, type RepeatedTokensOptions,
} from './head-detection.js';
export { FactoredMatrix, SINGULAR_TOLERANCE, type FactoredSvd } from './factored-matrix.js';
export {
  copyingScore, copyingScoreOf, copyingScores, fullOVCircuit, fullQKCircuit, headOV, headQK, ovTopTokens,
  type CircuitOptions, type TokenScore,
} from './circuits.js';
export {
  neuronValueTokens, topActivatingExamples, type NeuronExample, type NeuronVocab, type TopActivationOptions,
} from './neurons.js';
export {
  embedMatrix, headBias, headOutputWeight, headWeight, kvHeadOf, mlpOutputWeight, normWeight, unembedMatrix, unembedRows,
  type QkvName,
} from './model-weights.js';
