// Patching metrics: functions from logits to one number that say how far a run is from the clean
// answer. Every sweep (activation, path, attribution patching, ablations) takes one.
//
// A metric is any function `(logits) => number | Tensor`. The built-ins also carry `perRow` (one
// value per prompt; the metric is their mean) and `logitPositions` (which positions they read, so a
// sweep unembeds only those — GPT-2's unembedding is its largest matmul). Attribution patching
// differentiates the metric, so there it must return a 0-d Tensor; the built-ins do.
//
// Position convention: a built-in reads logits at `position` (default -1, the last). When the
// logits hold a single position ([batch, 1, d_vocab], what a sweep computes for `logitPositions`),
// that one is read.

import { tensor, tidy } from '../tensor/index.js';
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError, IndexError, ShapeError, fmtShape } from '../util/errors.js';

export type LogitPositions = 'all' | 'last' | readonly number[];

/** Logits [batch, pos, d_vocab] → one scalar (a number, or a 0-d Tensor the caller owns). */
export interface Metric {
  (logits: Tensor): Tensor | number;
  /** Positions the metric reads; sweeps compute logits only there. Omitted: all positions. */
  readonly logitPositions?: LogitPositions;
}

/** A metric that is the mean over prompts of a per-prompt value. */
export interface RowMetric extends Metric {
  (logits: Tensor): Tensor;
  /** [batch]: the value of each prompt (the caller owns it). */
  perRow(logits: Tensor): Tensor;
  readonly logitPositions: LogitPositions;
}

export interface PositionOption {
  /** Position whose logits are read (negative counts from the end). Default -1, the last. */
  position?: number;
}

/** Token ids: one for every prompt, or one per prompt. */
export type TokenIds = number | readonly number[];

/** Builds a RowMetric from its per-row function: the metric is the mean of the rows. */
export function rowMetric(perRow: (logits: Tensor) => Tensor, logitPositions: LogitPositions = 'all'): RowMetric {
  // tidy: the intermediates are freed even when a user calls the metric outside any scope.
  const rows = (logits: Tensor): Tensor => tidy(() => {
    const values = perRow(logits);
    if (values.ndim !== 1 || values.shape[0] !== logits.shape[0]) {
      throw new ShapeError(`a per-row metric must return [batch] = [${logits.shape[0]}], got ${fmtShape(values.shape)}`);
    }
    return values;
  });
  const metric = (logits: Tensor): Tensor => tidy(() => rows(logits).mean());
  return Object.assign(metric, { perRow: rows, logitPositions });
}

/** logits[answer] − logits[wrong] at the position, averaged over prompts (IOI's logit difference). */
export function logitDiff(answer: TokenIds, wrong: TokenIds, options: PositionOption = {}): RowMetric {
  const position = options.position ?? -1;
  return rowMetric((logits) => {
    const at = logitsAt(logits, position, 'logitDiff');
    const batch = at.shape[0];
    const good = at.gather(1, idColumn(answer, batch, at, 'answer'));
    const bad = at.gather(1, idColumn(wrong, batch, at, 'wrong'));
    return good.sub(bad).reshape(batch);
  }, positionsFor(position));
}

/** softmax(logits)[answer] at the position, averaged over prompts. */
export function answerProbability(answer: TokenIds, options: PositionOption = {}): RowMetric {
  const position = options.position ?? -1;
  return rowMetric((logits) => {
    const at = logitsAt(logits, position, 'answerProbability');
    return at.softmax(-1).gather(1, idColumn(answer, at.shape[0], at, 'answer')).reshape(at.shape[0]);
  }, positionsFor(position));
}

/**
 * KL(clean ‖ run) of the next-token distributions at the position, averaged over prompts: 0 for the
 * clean run itself. `cleanLogits` is read once (the metric keeps a copy, not the tensor).
 */
export function klDivergence(cleanLogits: Tensor, options: PositionOption = {}): RowMetric {
  const position = options.position ?? -1;
  const cleanAt = logitsAt(cleanLogits, position, 'klDivergence');
  const cleanLogProbs = cleanAt.logSoftmax(-1);
  const shape = [...cleanLogProbs.shape];
  const values = Float64Array.from(cleanLogProbs.toArray());
  cleanAt.dispose();
  cleanLogProbs.dispose();
  return rowMetric((logits) => {
    const at = logitsAt(logits, position, 'klDivergence');
    if (at.shape[0] !== shape[0] || at.shape[1] !== shape[1]) {
      throw new ShapeError(`klDivergence: logits give ${fmtShape(at.shape)} at the position but the clean logits gave ${fmtShape(shape)}`);
    }
    const clean = tensor(values, shape, { dtype: at.dtype, backend: at.backend });
    return clean.exp().mul(clean.sub(at.logSoftmax(-1))).sum(-1);
  }, positionsFor(position));
}

export interface Baselines {
  /** The metric on the clean run (maps to 1). */
  clean: number;
  /** The metric on the corrupted run (maps to 0). */
  corrupted: number;
}

/**
 * (metric − corrupted) / (clean − corrupted): 0 means the corrupted run's value, 1 the clean run's.
 * Keeps the metric's kind (Tensor or number), perRow and logitPositions.
 */
export function normalisedMetric<M extends Metric>(metric: M, baselines: Baselines): M {
  const { clean, corrupted } = baselines;
  const range = clean - corrupted;
  if (!Number.isFinite(range) || range === 0) {
    throw new ArgumentError(`normalisedMetric: clean (${clean}) and corrupted (${corrupted}) values must differ and be finite`);
  }
  const scale = (value: Tensor | number): Tensor | number => {
    if (typeof value === 'number') return (value - corrupted) / range;
    try {
      return tidy(() => value.sub(corrupted).div(range));
    } finally {
      value.dispose();
    }
  };
  const normalised = (logits: Tensor): Tensor | number => scale(metric(logits));
  const perRow = (metric as Partial<RowMetric>).perRow;
  return Object.assign(normalised, {
    logitPositions: metric.logitPositions,
    ...(perRow ? { perRow: (logits: Tensor) => scale(perRow(logits)) as Tensor } : {}),
  }) as unknown as M;
}

/** The metric's value as a number (a returned Tensor is read and disposed). */
export function metricValue(metric: Metric, logits: Tensor): number {
  const value = metric(logits);
  if (typeof value === 'number') return value;
  if (!(value instanceof Tensor)) throw new ArgumentError(`a metric must return a number or a Tensor, got ${typeof value}`);
  try {
    if (value.size !== 1) throw new ShapeError(`a metric must return one value, got a tensor of shape ${fmtShape(value.shape)}`);
    return value.item();
  } finally {
    value.dispose();
  }
}

/** [batch, d_vocab]: logits at `position`, or the only position there is. */
function logitsAt(logits: Tensor, position: number, what: string): Tensor {
  if (logits.ndim !== 3) throw new ShapeError(`${what}: expected logits [batch, pos, d_vocab], got ${fmtShape(logits.shape)}`);
  const pos = logits.shape[1];
  if (pos === 1) return logits.select(1, 0);
  if (!Number.isInteger(position) || position < -pos || position >= pos) {
    throw new IndexError(`${what}: position ${position} is out of range for logits of ${pos} positions`);
  }
  return logits.select(1, position);
}

function positionsFor(position: number): LogitPositions {
  if (!Number.isInteger(position)) throw new ArgumentError(`position must be an integer, got ${position}`);
  return position === -1 ? 'last' : [position];
}

/** [batch, 1] int32 ids on `like`'s backend: one id broadcast to every prompt, or one per prompt. */
function idColumn(ids: TokenIds, batch: number, like: Tensor, what: string): Tensor {
  const list = typeof ids === 'number' ? new Array<number>(batch).fill(ids) : [...ids];
  if (list.length !== batch) throw new ShapeError(`${what}: ${list.length} token ids for ${batch} prompts (give one id, or one per prompt)`);
  const vocab = like.shape[1];
  for (const id of list) {
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new IndexError(`${what}: token id ${id} is out of range 0..${vocab - 1}`);
  }
  return tensor(Int32Array.from(list), [batch, 1], { dtype: 'int32', backend: like.backend });
}
