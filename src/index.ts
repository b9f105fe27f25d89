// The public API: the only module cli/ and web/ import.
import { defaultBackend, getBackend, registeredBackends } from './backend/registry.js';
import type { BackendName } from './backend/types.js';
import './backend/ref/index.js';
import './backend/wasm/index.js';
import './backend/native/index.js';

export const VERSION = '0.1.0';

export * from './util/errors.js';
export { setNoticeHandler } from './util/log.js';
export { closestMatches } from './util/closest.js';
export type { NoticeHandler } from './util/log.js';
export type { Backend, BackendName, DType } from './backend/types.js';
export { defaultBackend, getBackend, setDefaultBackend, registeredBackends, disposeBackends } from './backend/registry.js';
// Browsers start the wasm backend asynchronously (fetch + compile the kernels, start the workers) before the first op.
export { initWasmBackend } from './backend/wasm/index.js';

// Tensors, models, generation, files.
export { Tensor, tensor, tidy, keep, dispose, Rng, manualSeed } from './tensor/index.js';
export type { HookPointInfo, Hook, HookFn, HookFilter } from './hooks/hook-set.js';
export { matchHookNames, UnknownHookError } from './hooks/hook-set.js';
export { ActivationCache } from './hooks/activation-cache.js';
export type { ModelConfig, Family } from './models/config.js';
export { HookedTransformer, type ForwardOptions, type CacheOptions } from './models/transformer.js';
export { KVCache } from './models/kv-cache.js';
export { SUPPORTED_MODEL_TYPES } from './models/architectures.js';
export {
  generate, generateStream,
  type GenerateOptions, type GenerateResult, type GeneratedToken, type FinishReason, type PromptInput,
} from './models/generate.js';
export { samplingPlan, chooseToken, type SamplingOptions, type SamplingPlan } from './models/sampling.js';
export { loadModelFolder, type LoadFolderOptions } from './io/load-model.js';
export {
  loadModel, loadModelTokenizer, locateModel,
  type LoadModelOptions, type LoadedModel, type ModelLocation, type HubSettings,
} from './io/load.js';
export { Tokenizer, type EncodeOptions, type DecodeOptions } from './io/tokenizer.js';
export { hubCacheDir } from './io/hub.js';
export { openSafetensors, writeSafetensors, type TensorToWrite } from './io/safetensors.js';
// Browser-safe loading from bytes (the web UI's worker): a safetensors file in memory, and a model built from any tensor source.
export { openSafetensorsBytes, parseShardIndex, type TensorSource } from './io/safetensors.js';
export { modelFromSource } from './io/load-model.js';

// Interpretability methods.
export * from './analysis/inspect.js';
export * from './analysis/interventions.js';
// Plots (SVG, no DOM): heatmaps and bar charts the CLI writes and the web UI shows.
export * from './analysis/plots/index.js';

// Sparse autoencoders: architectures, SAELens-format files, training, evaluation, splicing, dashboards.
export * from './sae/index.js';
// Where knowledge lives and how to change it: causal tracing, ROME editing.
export * from './editing/index.js';
// Circuit discovery: edge attribution patching (EAP, EAP-IG), circuits, faithfulness.
export * from './discovery/index.js';

// Model organisms: trainer, synthetic data, and the recipes of the models we ship.
export {
  buildOrganism, evaluateOrganism, ORGANISM_NAMES, type BuildOptions, type BuildResult,
} from './organisms/build.js';
export { train, type TrainSpec, type TrainOptions, type TrainProgress, type TrainResult } from './organisms/trainer.js';
export { initModel, checkpointTensors, type InitOptions } from './organisms/init.js';
export { saveModelFolder, type SaveFolderOptions } from './organisms/save.js';
export { crossEntropy } from './organisms/loss.js';
export { ioiHeldOut, factRecallHeldOut, inductionMetrics } from './organisms/evaluate.js';
// The synthetic world's IOI prompts (circuit discovery pairs them with ioiCircuitExamples).
export { ioiEvalSet, IOI_TEMPLATES, type IoiPrompt } from './organisms/data/ioi.js';
export { ALL_NAMES, IOI_HELD_OUT_NAMES, IOI_TRAIN_NAMES } from './organisms/data/words.js';
// The world's tokenizer and world-4l's training mixture: the default corpus of `dissect sae dashboard`.
export { world, type World } from './organisms/world.js';
export { WORLD_4L, type TransformerRecipe } from './organisms/recipes.js';
// The world's facts and content words (`dissect report facts|induction` draw their prompts from them).
export { worldFacts, FACT_TEMPLATES, factPrompt, heldOutFactPrompts, type Fact } from './organisms/data/facts.js';
export { WORLD_WORDS } from './organisms/world.js';
export {
  validateOrganisms, headDetectionCheck, ioiPatchingCheck, superpositionCheck, causalTracingCheck,
  type ValidationCheck, type CheckStatus,
} from './organisms/validate.js';

export interface BackendStatus {
  name: BackendName;
  ok: boolean;
  threads: number;
  default: boolean;
  error?: string;
}

/** Each registered backend, whether it starts on this machine, and which one is the default. */
export function availableBackends(): BackendStatus[] {
  const chosen = defaultBackend().name;
  return registeredBackends().map((name) => {
    try {
      const backend = getBackend(name);
      return { name, ok: true, threads: backend.threads, default: name === chosen };
    } catch (err) {
      return { name, ok: false, threads: 0, default: false, error: (err as Error).message };
    }
  });
}
