// What circuit discovery runs on: prompt pairs (clean, corrupted) of equal length with the answer
// the clean prompt should get and the distractor, grouped into batches of equal length (patching
// maps positions one to one, so a batch never needs padding), and the metric evaluated per batch.

import { answerProbability, logitDiff, type Metric } from '../analysis/metrics.js';
import { ArgumentError, ShapeError } from '../util/errors.js';

/** One prompt pair, as token ids. */
export interface CircuitExample {
  readonly clean: readonly number[];
  /** The same number of tokens as `clean`; its activations replace the clean ones on ablated edges. */
  readonly corrupted: readonly number[];
  /** The token the clean prompt should predict next (IOI: the indirect object). */
  readonly answer: number;
  /** The distractor, for the logit difference (IOI: the subject). */
  readonly wrong: number;
}

/** Examples of one length, stacked. */
export interface ExampleBatch {
  readonly clean: number[][];
  readonly corrupted: number[][];
  readonly answers: number[];
  readonly wrongs: number[];
}

/**
 * 'logit-diff': logit(answer) − logit(wrong) at the last position; 'prob': softmax probability of
 * the answer there; or a function building the metric of one batch, which must return the mean
 * over the batch's prompts as a 0-d Tensor (it is differentiated, and batches are weighted by size).
 */
export type CircuitMetric = 'logit-diff' | 'prob' | ((batch: ExampleBatch) => Metric);

/** Options every discovery run shares. */
export interface CircuitRunOptions {
  /** Default 'logit-diff'. */
  metric?: CircuitMetric;
  /**
   * What an ablated edge carries: 'corrupted' (default) the sender's output on the corrupted prompt;
   * 'mean' its mean output over every clean prompt and position of the dataset.
   */
  ablation?: 'corrupted' | 'mean';
  /** Prompts per forward pass (default 32). */
  batchSize?: number;
  /** Called after each forward pass with (passes done, passes in total). */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects with signal.reason, checked between forward passes. */
  signal?: AbortSignal;
}

export const DEFAULT_BATCH_SIZE = 32;

/** Checks the examples and groups them by length into batches of at most `batchSize`, keeping their order within a length. */
export function exampleBatches(examples: readonly CircuitExample[], batchSize = DEFAULT_BATCH_SIZE): ExampleBatch[] {
  if (examples.length === 0) throw new ArgumentError('circuit discovery needs at least one example (clean and corrupted prompt pair)');
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`batchSize must be a positive integer, got ${batchSize}`);
  const byLength = new Map<number, CircuitExample[]>();
  examples.forEach((example, i) => {
    if (example.clean.length === 0) throw new ShapeError(`example ${i}: the clean prompt has no tokens`);
    if (example.clean.length !== example.corrupted.length) {
      throw new ShapeError(`example ${i}: the clean prompt has ${example.clean.length} tokens and the corrupted one ${example.corrupted.length}; they must have the same length`);
    }
    for (const [what, id] of [['answer', example.answer], ['wrong', example.wrong]] as const) {
      if (!Number.isInteger(id) || id < 0) throw new ArgumentError(`example ${i}: ${what} must be a token id, got ${id}`);
    }
    byLength.set(example.clean.length, [...(byLength.get(example.clean.length) ?? []), example]);
  });
  const batches: ExampleBatch[] = [];
  for (const group of byLength.values()) {
    for (let start = 0; start < group.length; start += batchSize) {
      const chunk = group.slice(start, start + batchSize);
      batches.push({
        clean: chunk.map((e) => [...e.clean]),
        corrupted: chunk.map((e) => [...e.corrupted]),
        answers: chunk.map((e) => e.answer),
        wrongs: chunk.map((e) => e.wrong),
      });
    }
  }
  return batches;
}

/** The metric of one batch. */
export function batchMetric(metric: CircuitMetric, batch: ExampleBatch): Metric {
  if (typeof metric === 'function') return metric(batch);
  switch (metric) {
    case 'logit-diff': return logitDiff(batch.answers, batch.wrongs);
    case 'prob': return answerProbability(batch.answers);
    default: throw new ArgumentError(`metric must be 'logit-diff', 'prob' or a function of the batch, got '${String(metric satisfies never)}'`);
  }
}
