// Training an SAE (or transcoder) on a model's activations, as SAELens's SAETrainer: Adam (no weight
// decay), gradient-norm clipping at 1, SAELens's learning-rate and sparsity-coefficient schedules,
// dead-feature tracking (a feature is dead after `deadFeatureWindow` steps without firing; TopK's
// AuxK loss revives them), optional 'expected_average_only_in' normalisation folded into the weights
// at the end, checkpoints that resume, progress callbacks and an AbortSignal (saves, then rejects).
//
// Resuming restores weights, optimiser moments, counters and the schedule exactly; the data stream
// continues from the next unseen harvest chunk, so a resumed run is not bit-identical to an
// uninterrupted one (its batches differ), but it is the same training.

import { AdamW, clipGradNorm, noGrad, tensor, tidy, type Tensor } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';
import { defaultBackend } from '../backend/registry.js';
import type { Backend } from '../backend/types.js';
import { ActivationStore, type ActivationBatch, type ChunkSource } from './activation-store.js';
import { saveSAE } from './saelens-files.js';
import { SparseAutoencoder, checkSAEConfig, type SAEConfig } from './sae.js';
import {
  findTrainingCheckpoint, readTrainingCheckpoint, restoreOptimizer, saveTrainingCheckpoint, type LoadedCheckpoint, type SAETrainerState,
} from './training-checkpoint.js';
import { checkLrSchedule, coefficientAt, learningRateAt, type LrScheduler } from './training-schedule.js';
import { TrainableSAE } from './training-step.js';

/** Everything that defines a training run (recorded in checkpoints). Defaults are SAELens's where it has one. */
export interface SAETrainSpec {
  config: SAEConfig;
  steps: number;
  /** Tokens per step (SAELens's train_batch_size_tokens, default 4096). */
  batchTokens: number;
  /** Mixing-buffer size in tokens (default 32 batches). */
  bufferTokens: number;
  lr: number;
  lrWarmupSteps: number;
  lrDecaySteps: number;
  lrScheduler: LrScheduler;
  lrEnd: number;
  betas: [number, number];
  gradClip: number;
  l1Coefficient: number;
  l1WarmupSteps: number;
  l0Coefficient: number;
  l0WarmupSteps: number;
  auxKCoefficient: number;
  jumpreluBandwidth: number;
  jumpreluInitThreshold: number;
  topkThresholdLr: number;
  decoderInitNorm: number;
  /** Steps without firing after which a feature counts as dead (SAELens's dead_feature_window). */
  deadFeatureWindow: number;
  /** Steps between resets of the feature-density counts (SAELens's feature_sampling_window). */
  featureSamplingWindow: number;
  /** 'expected_average_only_in': scale activations to mean norm sqrt(d) while training; folded in at the end. */
  normalizeActivations: 'none' | 'expected_average_only_in';
  normEstimateTokens: number;
  seed: number;
}

/** A spec with SAELens's defaults for what `overrides` leaves out. */
export function saeTrainSpec(config: SAEConfig, overrides: Partial<Omit<SAETrainSpec, 'config'>> = {}): SAETrainSpec {
  const spec: SAETrainSpec = {
    config, steps: 1000, batchTokens: 4096, bufferTokens: 32 * (overrides.batchTokens ?? 4096),
    lr: 3e-4, lrWarmupSteps: 0, lrDecaySteps: 0, lrScheduler: 'constant', lrEnd: 0, betas: [0.9, 0.999], gradClip: 1,
    l1Coefficient: 1, l1WarmupSteps: 0, l0Coefficient: 1, l0WarmupSteps: 0, auxKCoefficient: 1,
    jumpreluBandwidth: 0.05, jumpreluInitThreshold: 0.01, topkThresholdLr: 0.01, decoderInitNorm: 0.1,
    deadFeatureWindow: 1000, featureSamplingWindow: 2000, normalizeActivations: 'none', normEstimateTokens: 8192, seed: 0,
    ...overrides,
  };
  checkSAEConfig(spec.config);
  checkLrSchedule({ lr: spec.lr, totalSteps: spec.steps, warmupSteps: spec.lrWarmupSteps, decaySteps: spec.lrDecaySteps, scheduler: spec.lrScheduler, lrEnd: spec.lrEnd });
  return spec;
}

export interface SAETrainProgress {
  step: number;
  totalSteps: number;
  tokens: number;
  loss: number;
  mse: number;
  /** The L1 / L0 / AuxK term of the loss (0 when none applies). */
  sparsityLoss: number;
  /** Mean active features per token in this batch. */
  l0: number;
  /** 1 − Σ||y − ŷ||² / Σ||y − ȳ||² over this batch. */
  explainedVariance: number;
  /** Fraction of features that have not fired for deadFeatureWindow steps. */
  deadFraction: number;
  lr: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
  etaSeconds: number;
}

export interface SAETrainOptions {
  /** Where the activations come from: modelChunkSource(...) over a corpus, or synthetic chunks. */
  source: ChunkSource;
  /** Backend of the SAE's tensors (default: the default backend). */
  backend?: Backend;
  checkpointDir?: string;
  /** Save a checkpoint every this many steps (and at the end and on abort). Default 500. */
  checkpointEvery?: number;
  /** Continue from checkpointDir's checkpoint when there is one. Default true. */
  resume?: boolean;
  /** Stop after this many steps (the rest resumes later). */
  stopAt?: number;
  signal?: AbortSignal;
  onProgress?: (progress: SAETrainProgress) => void;
  /** Extra cfg.json metadata for the SAEs written (checkpoints' sae/ folders). */
  metadata?: Record<string, unknown>;
}

export interface SAETrainResult {
  /** The trained SAE, normalisation folded in (reads raw activations); the caller owns it. */
  sae: SparseAutoencoder;
  step: number;
  tokens: number;
  seconds: number;
  /** log10 feature densities over the last density window (SAELens's sparsity.safetensors). */
  logSparsity: Float32Array;
  /** The activation scale used while training (1 without normalisation). */
  inputScale: number;
  outputScale: number;
}

function specJson(spec: SAETrainSpec): Record<string, unknown> {
  return JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
}

/** Starting weights: a fresh SAE, or a checkpoint's. */
function startingSAE(spec: SAETrainSpec, loaded: LoadedCheckpoint | null, backend: Backend): SparseAutoencoder {
  const init = SparseAutoencoder.init({ ...spec.config, dtype: 'float32' }, {
    seed: spec.seed, decoderInitNorm: spec.decoderInitNorm, initialThreshold: spec.jumpreluInitThreshold, backend,
  });
  if (loaded === null) return init;
  noGrad(() => {
    for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
      const t = loaded.tensors.get(`param.${name}`);
      if (t === undefined) throw new ArgumentError(`checkpoint has no param.${name}`);
      tidy(() => init[name].copy_(tensor(t.data as Float32Array, t.shape, { backend })));
    }
  });
  return init;
}

function log10Densities(fireCounts: Float32Array, tokens: number): Float32Array {
  return Float32Array.from(fireCounts, (c) => Math.log10(c / Math.max(tokens, 1) + 1e-10));
}

/** Trains per `spec`; see the file comment. */
export async function trainSAE(spec: SAETrainSpec, options: SAETrainOptions): Promise<SAETrainResult> {
  const cfg = spec.config;
  const backend = options.backend ?? defaultBackend();
  const folder = options.checkpointDir !== undefined && (options.resume ?? true) ? await findTrainingCheckpoint(options.checkpointDir) : null;
  const loaded = folder !== null ? await readTrainingCheckpoint(folder) : null;
  if (loaded !== null && JSON.stringify(loaded.state.spec) !== JSON.stringify(specJson(spec))) {
    throw new ArgumentError(`checkpoint ${folder} was made with other settings; resume with the same settings, or use another checkpoint folder`);
  }
  const state: SAETrainerState = loaded?.state ?? {
    spec: specJson(spec), step: 0, tokens: 0, adamSteps: [], nextChunk: 0, inputScale: 1, outputScale: 1, topkThreshold: 0, densityTokens: 0, seconds: 0,
  };
  const store = new ActivationStore({
    source: options.source, batchTokens: spec.batchTokens, bufferTokens: spec.bufferTokens, seed: spec.seed * 7919 + state.step,
    startChunk: state.nextChunk, backend, signal: options.signal,
  });
  if (store.dIn !== cfg.d_in || store.dOut !== (cfg.hook_name_out ? cfg.d_out ?? cfg.d_in : cfg.d_in)) {
    throw new ArgumentError(`SAE widths (d_in ${cfg.d_in}, d_out ${cfg.d_out ?? cfg.d_in}) do not match the hooks' (${store.dIn}, ${store.dOut})`);
  }
  const sae = startingSAE(spec, loaded, backend);
  const trainable = new TrainableSAE(sae, { bandwidth: spec.jumpreluBandwidth, topkThresholdLr: spec.topkThresholdLr });
  trainable.topkThreshold = state.topkThreshold;
  const savedLog = loaded?.tensors.get('param.log_threshold');
  if (savedLog !== undefined && trainable.logThreshold !== null) {
    // Restore log θ itself: going through θ = exp(log θ) would not round-trip bit for bit.
    noGrad(() => tidy(() => trainable.logThreshold!.copy_(tensor(savedLog.data as Float32Array, savedLog.shape, { backend }))));
  }
  const params = trainable.parameters();
  const names = trainable.parameterNames();
  for (const p of params) p.requiresGrad_();
  const optimizer = new AdamW(params, { lr: spec.lr, betas: spec.betas, weightDecay: 0 });
  const dSae = cfg.d_sae;
  const stepsSinceFired = Float32Array.from(loaded?.tensors.get('steps_since_fired')?.data as ArrayLike<number> ?? new Float32Array(dSae));
  const fireCounts = Float32Array.from(loaded?.tensors.get('fire_counts')?.data as ArrayLike<number> ?? new Float32Array(dSae));
  if (loaded !== null) restoreOptimizer(optimizer, names, loaded, backend);
  const started = Date.now();
  const startStep = state.step;
  const secondsBefore = state.seconds;
  const stopAt = Math.min(options.stopAt ?? spec.steps, spec.steps);
  const metadata = options.metadata;

  /** A copy of the SAE as it would be saved now: threshold synced, scaling folded. */
  const inferenceCopy = (): SparseAutoencoder => {
    trainable.syncInference();
    const copy = sae.clone();
    if (spec.normalizeActivations === 'expected_average_only_in') copy.foldActivationScaling(state.inputScale, state.outputScale);
    return copy;
  };
  const save = async () => {
    state.seconds = secondsBefore + (Date.now() - started) / 1000;
    state.nextChunk = store.nextChunk;
    state.topkThreshold = trainable.topkThreshold;
    if (options.checkpointDir === undefined) return;
    const tensors = new Map(names.map((n, i) => [n, params[i]]));
    await saveTrainingCheckpoint(options.checkpointDir, { params: tensors, optimizer, stepsSinceFired, fireCounts }, state, async (dir) => {
      const copy = inferenceCopy();
      try {
        await saveSAE(copy, dir, { metadata, logSparsity: log10Densities(fireCounts, state.densityTokens) });
      } finally {
        copy.dispose();
      }
    });
  };

  try {
    if (spec.normalizeActivations === 'expected_average_only_in') {
      if (loaded === null) {
        const scales = await store.estimateNormScaling(spec.normEstimateTokens);
        state.inputScale = scales.inputScale;
        state.outputScale = scales.outputScale;
      } else {
        store.inputScale = state.inputScale;
        store.outputScale = state.outputScale;
      }
    }
    while (state.step < stopAt) {
      if (options.signal?.aborted) {
        await save();
        throw options.signal.reason;
      }
      const step = state.step;
      const lr = learningRateAt({ lr: spec.lr, totalSteps: spec.steps, warmupSteps: spec.lrWarmupSteps, decaySteps: spec.lrDecaySteps, scheduler: spec.lrScheduler, lrEnd: spec.lrEnd }, step);
      optimizer.lr = lr;
      if ((step + 1) % spec.featureSamplingWindow === 0) {
        fireCounts.fill(0);
        state.densityTokens = 0;
      }
      let batch: ActivationBatch;
      try {
        batch = await store.nextBatch();
      } catch (err) {
        // An abort while harvesting activations: checkpoint the steps done, as between steps.
        if (options.signal?.aborted) {
          await save();
          throw options.signal.reason;
        }
        throw err;
      }
      const deadMask = Uint8Array.from(stepsSinceFired, (s) => (s > spec.deadFeatureWindow ? 1 : 0));
      const coefficients = {
        l1: coefficientAt(spec.l1Coefficient, spec.l1WarmupSteps, step),
        l0: coefficientAt(spec.l0Coefficient, spec.l0WarmupSteps, step),
        auxK: spec.auxKCoefficient,
      };
      const out = trainable.forward(batch.input, batch.target, coefficients, deadMask);
      out.loss.backward();
      out.loss.dispose();
      const stats = batchStats(out.features, batch.target, out.losses.mse);
      out.features.dispose();
      out.reconstruction.dispose();
      batch.input.dispose();
      batch.target.dispose();
      if (spec.gradClip > 0) clipGradNorm(params, spec.gradClip);
      optimizer.step();
      optimizer.zeroGrad();
      for (let i = 0; i < dSae; i++) {
        fireCounts[i] += stats.fired[i];
        stepsSinceFired[i] = stats.fired[i] > 0 ? 0 : stepsSinceFired[i] + 1;
      }
      state.densityTokens += spec.batchTokens;
      state.step++;
      state.tokens += spec.batchTokens;
      let dead = 0;
      for (const s of stepsSinceFired) if (s > spec.deadFeatureWindow) dead++;
      const elapsed = (Date.now() - started) / 1000;
      const perStep = elapsed / (state.step - startStep);
      options.onProgress?.({
        step: state.step, totalSteps: spec.steps, tokens: state.tokens, loss: out.losses.loss, mse: out.losses.mse,
        sparsityLoss: out.losses.sparsity, l0: stats.l0, explainedVariance: stats.explainedVariance, deadFraction: dead / dSae,
        lr, tokensPerSecond: spec.batchTokens / perStep, elapsedSeconds: elapsed, etaSeconds: perStep * (stopAt - state.step),
      });
      if (options.checkpointDir !== undefined && state.step % (options.checkpointEvery ?? 500) === 0 && state.step < stopAt) await save();
    }
    await save();
    for (const p of params) p.requiresGrad = false;
    const result = inferenceCopy();
    return {
      sae: result, step: state.step, tokens: state.tokens, seconds: state.seconds,
      logSparsity: log10Densities(fireCounts, state.densityTokens), inputScale: state.inputScale, outputScale: state.outputScale,
    };
  } finally {
    optimizer.dispose();
    trainable.dispose();
    sae.dispose();
  }
}

/** L0, per-feature fire counts and explained variance of one batch. */
function batchStats(features: Tensor, target: Tensor, mse: number): { fired: Float32Array; l0: number; explainedVariance: number } {
  return noGrad(() => tidy(() => {
    const fired = Float32Array.from(features.gt(0).sum(0).toArray());
    let total = 0;
    for (const f of fired) total += f;
    const tokens = features.shape[0];
    const variance = target.sub(target.mean(0)).square().sum().item() / tokens;
    return { fired, l0: total / tokens, explainedVariance: 1 - mse / variance };
  }));
}

