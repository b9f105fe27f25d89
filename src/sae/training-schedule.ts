// SAELens's schedules. Learning rate: linear warm-up from lr/warmup to lr over the first
// `warmupSteps` steps, then constant (or cosine annealing to lrEnd), then — over the last
// `decaySteps` steps — linear decay to 0 (from lr for 'constant', from lrEnd for 'cosineannealing').
// Sparsity coefficients (L1, L0): linear warm-up from 0 to their final value over their warm-up steps.

import { ArgumentError } from '../util/errors.js';

export type LrScheduler = 'constant' | 'cosineannealing';

export interface LrSchedule {
  lr: number;
  totalSteps: number;
  warmupSteps: number;
  decaySteps: number;
  scheduler: LrScheduler;
  /** Cosine annealing's floor (and where its decay phase starts). Default 0 (lr for 'constant'). */
  lrEnd: number;
}

export function checkLrSchedule(s: LrSchedule): LrSchedule {
  if (!(s.lr > 0)) throw new ArgumentError(`SAE training: lr ${s.lr} must be > 0`);
  if (!Number.isInteger(s.totalSteps) || s.totalSteps < 1) throw new ArgumentError(`SAE training: total steps ${s.totalSteps} must be a positive integer`);
  for (const [name, v] of [['warmup steps', s.warmupSteps], ['decay steps', s.decaySteps]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ArgumentError(`SAE training: ${name} ${v} must be a non-negative integer`);
  }
  if (s.warmupSteps + s.decaySteps > s.totalSteps) {
    throw new ArgumentError(`SAE training: warm-up (${s.warmupSteps}) + decay (${s.decaySteps}) steps exceed the ${s.totalSteps} training steps`);
  }
  if (s.scheduler !== 'constant' && s.scheduler !== 'cosineannealing') {
    throw new ArgumentError(`SAE training: lr scheduler '${String(s.scheduler)}' must be 'constant' or 'cosineannealing'`);
  }
  return s;
}

/** The learning rate used at step (0-based), as torch's SequentialLR of SAELens's schedulers gives it. */
export function learningRateAt(s: LrSchedule, step: number): number {
  if (step < s.warmupSteps) return s.lr * (step + 1) / s.warmupSteps;
  const decayStart = s.totalSteps - s.decaySteps;
  const mainSteps = decayStart - s.warmupSteps;
  const floor = s.scheduler === 'constant' ? s.lr : s.lrEnd;
  if (step >= decayStart) return floor * (1 - (step - decayStart) / s.decaySteps);
  if (s.scheduler === 'constant') return s.lr;
  const t = step - s.warmupSteps;
  return s.lrEnd + (s.lr - s.lrEnd) * (1 + Math.cos(Math.PI * t / Math.max(1, mainSteps))) / 2;
}

/** A sparsity coefficient at step (0-based): 0 at step 0 when warming up, final·step/warmup until the warm-up ends. */
export function coefficientAt(finalValue: number, warmupSteps: number, step: number): number {
  if (warmupSteps <= 0 || step >= warmupSteps) return finalValue;
  return finalValue * step / warmupSteps;
}
