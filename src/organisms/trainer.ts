// The trainer: minibatch AdamW on next-token cross-entropy, warmup + cosine learning rate, global
// gradient-norm clipping. Deterministic: the batch of step s comes from a generator seeded by
// (seed, s) alone, and weights start from the seed, so a run resumed from a checkpoint continues
// bit-for-bit as the uninterrupted run would have. Weight decay applies to matrices only (not to
// biases and norm weights), as in GPT-2 and nanoGPT; `frozen` tensors are left out of the
// optimiser entirely.

import type { Backend } from '../backend/types.js';
import { defaultBackend } from '../backend/registry.js';
import type { RawConfig } from '../models/arch/hf-config.js';
import type { HookedTransformer } from '../models/transformer.js';
import { AdamW, Rng, clipGradNorm, noGrad, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../util/errors.js';
import {
  findCheckpoint, loadCheckpointModel, loadOptimizerState, readTrainerState, saveCheckpoint, type NamedGroup, type TrainerState,
} from './checkpoint.js';
import { initModel } from './init.js';
import { crossEntropy, shiftedBatch } from './loss.js';
import { checkSchedule, learningRate, type Schedule } from './schedule.js';

export interface TrainSpec {
  /** Recorded in checkpoints; resuming a checkpoint of another recipe is refused. */
  name: string;
  /** The model's Hugging Face config.json. */
  modelConfig: RawConfig;
  seed: number;
  schedule: Schedule;
  batchSize: number;
  seqLen: number;
  weightDecay: number;
  betas?: readonly [number, number];
  /** Global gradient-norm clip (0 = none). */
  gradClip: number;
  /** Checkpoint tensors set to zero at initialisation and never trained (attention-only models' MLPs). */
  frozen?: (name: string) => boolean;
  /** Adjusts fresh weights before the first step (deterministically; runs under noGrad). */
  initialize?: (model: HookedTransformer) => void;
  /** The token rows (seqLen + 1 long) of one step, drawn from rng only. */
  rows(rng: Rng, batchSize: number, seqLen: number): number[][];
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  /** Gradient norm before clipping. */
  gradNorm: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
  etaSeconds: number;
}

export interface TrainOptions {
  backend?: Backend;
  /** Where checkpoints go (`latest/` inside it); without it nothing is saved and nothing resumed. */
  checkpointDir?: string;
  /** Save a checkpoint every this many steps (and always at the end or on abort). Default 200. */
  checkpointEvery?: number;
  /** Continue from the checkpoint in checkpointDir when there is one. Default true. */
  resume?: boolean;
  /** Stop after this step (exclusive; default the schedule's totalSteps) — the rest can be resumed later. */
  stopAt?: number;
  /** On abort the trainer saves a checkpoint, then rejects with the signal's reason. */
  signal?: AbortSignal;
  onProgress?: (progress: TrainProgress) => void;
  /** Called after each checkpoint is saved (evaluation hooks, logs). */
  onCheckpoint?: (model: HookedTransformer, step: number) => void | Promise<void>;
}

export interface TrainResult {
  /** The trained model; the caller owns it. Its tensors no longer require grad. */
  model: HookedTransformer;
  /** Steps completed. */
  step: number;
  losses: number[];
  /** Seconds of training, summed over the runs a checkpoint was resumed from. */
  seconds: number;
}

/** The data generator of one step: depends on (seed, step) only, which is what makes resuming exact. */
export function stepRng(seed: number, step: number): Rng {
  return new Rng(seed * 1048576 + step);
}

function optimizerGroups(model: HookedTransformer, spec: TrainSpec): NamedGroup[] {
  const decay: [string, Tensor][] = [];
  const noDecay: [string, Tensor][] = [];
  for (const [name, t] of [...model.params.named].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (spec.frozen?.(name)) continue;
    t.requiresGrad_();
    (t.ndim >= 2 ? decay : noDecay).push([name, t]);
  }
  const betas = spec.betas ?? [0.9, 0.95];
  return [[decay, spec.weightDecay], [noDecay, 0]].filter(([list]) => (list as unknown[]).length > 0).map(([list, wd]) => {
    const entries = list as [string, Tensor][];
    return {
      optimizer: new AdamW(entries.map(([, t]) => t), { lr: spec.schedule.lr, betas, weightDecay: wd as number }),
      names: entries.map(([n]) => n),
    };
  });
}

async function startingPoint(spec: TrainSpec, options: TrainOptions, backend: Backend): Promise<{ model: HookedTransformer; state: TrainerState; folder: string | null }> {
  const folder = options.checkpointDir !== undefined && (options.resume ?? true) ? await findCheckpoint(options.checkpointDir) : null;
  if (folder !== null) {
    const state = await readTrainerState(folder);
    if (state.recipe !== spec.name || state.seed !== spec.seed) {
      throw new ArgumentError(`checkpoint ${folder} belongs to recipe '${state.recipe}' seed ${state.seed}, not '${spec.name}' seed ${spec.seed}; use another --out folder or delete it`);
    }
    return { model: await loadCheckpointModel(folder, backend), state, folder };
  }
  const model = initModel(spec.modelConfig, { seed: spec.seed, backend });
  if (spec.frozen) noGrad(() => { for (const [name, t] of model.params.named) if (spec.frozen?.(name)) t.copy_(0); });
  if (spec.initialize) noGrad(() => spec.initialize?.(model));
  return { model, state: { recipe: spec.name, seed: spec.seed, step: 0, adamSteps: [], losses: [] }, folder: null };
}

export async function train(spec: TrainSpec, options: TrainOptions = {}): Promise<TrainResult> {
  checkSchedule(spec.schedule);
  const backend = options.backend ?? defaultBackend();
  const totalSteps = spec.schedule.totalSteps;
  const stopAt = Math.min(options.stopAt ?? totalSteps, totalSteps);
  const every = options.checkpointEvery ?? 200;
  const { model, state, folder } = await startingPoint(spec, options, backend);
  const groups = optimizerGroups(model, spec);
  const params = groups.flatMap((g) => g.optimizer.params);
  const started = Date.now();
  const startStep = state.step;
  const secondsBefore = state.seconds ?? 0;
  const save = async () => {
    state.seconds = secondsBefore + (Date.now() - started) / 1000;
    if (options.checkpointDir === undefined) return;
    state.adamSteps = groups.map((g) => g.optimizer.exportState().steps);
    await saveCheckpoint(options.checkpointDir, model, spec.modelConfig, groups, state);
    await options.onCheckpoint?.(model, state.step);
  };
  try {
    if (folder !== null) await loadOptimizerState(folder, groups, state, backend);
    while (state.step < stopAt) {
      // Yield to the event loop so an abort (Ctrl-C) is seen between steps.
      await new Promise((resolve) => setImmediate(resolve));
      if (options.signal?.aborted) {
        await save();
        throw options.signal.reason;
      }
      const lr = learningRate(spec.schedule, state.step);
      for (const g of groups) g.optimizer.lr = lr;
      const { inputs, targets } = shiftedBatch(spec.rows(stepRng(spec.seed, state.step), spec.batchSize, spec.seqLen), backend);
      const loss = tidy(() => crossEntropy(model.forward(inputs), targets));
      loss.backward();
      const lossValue = loss.item();
      loss.dispose();
      targets.dispose();
      const gradNorm = spec.gradClip > 0 ? clipGradNorm(params, spec.gradClip) : 0;
      for (const g of groups) {
        g.optimizer.step();
        g.optimizer.zeroGrad();
      }
      state.step++;
      state.losses.push(lossValue);
      const elapsed = (Date.now() - started) / 1000;
      const perStep = elapsed / (state.step - startStep);
      options.onProgress?.({
        step: state.step, totalSteps, loss: lossValue, lr, gradNorm,
        tokensPerSecond: (spec.batchSize * spec.seqLen) / perStep, elapsedSeconds: elapsed, etaSeconds: perStep * (totalSteps - state.step),
      });
      if (state.step % every === 0 && state.step < stopAt) await save();
    }
    await save();
  } catch (err) {
    for (const g of groups) g.optimizer.dispose();
    for (const p of params) p.requiresGrad = false;
    model.dispose();
    throw err;
  }
  for (const g of groups) g.optimizer.dispose();
  for (const p of params) p.requiresGrad = false;
  return { model, step: state.step, losses: state.losses, seconds: secondsBefore + (Date.now() - started) / 1000 };
}
