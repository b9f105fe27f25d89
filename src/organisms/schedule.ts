// The learning-rate schedule: linear warmup from 0 to the peak, then a cosine decay to minLr at
// the last step (as nanoGPT and most small-model recipes).

import { ArgumentError } from '../util/errors.js';

export interface Schedule {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Rate at the last step. */
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

export function checkSchedule(s: Schedule): Schedule {
  if (!(s.lr > 0) || !(s.minLr >= 0) || s.minLr > s.lr) throw new ArgumentError(`schedule: need 0 <= minLr (${s.minLr}) <= lr (${s.lr}) and lr > 0`);
  if (!Number.isInteger(s.totalSteps) || s.totalSteps < 1) throw new ArgumentError(`schedule: totalSteps ${s.totalSteps} must be a positive integer`);
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0 || s.warmupSteps > s.totalSteps) {
    throw new ArgumentError(`schedule: warmupSteps ${s.warmupSteps} must be an integer in [0, ${s.totalSteps}]`);
  }
  return s;
}

/** The learning rate of step (0-based). */
export function learningRate(s: Schedule, step: number): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  const decaySteps = s.totalSteps - s.warmupSteps;
  if (decaySteps <= 1) return s.lr;
  const progress = Math.min(1, (step - s.warmupSteps) / (decaySteps - 1));
  return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * progress));
}
