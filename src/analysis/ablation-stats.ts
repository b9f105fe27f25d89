// Dataset statistics that mean and resample ablations replace activations with: the mean of an
// activation over a dataset's rows (and positions), and the activations of every row. Computed in
// batches of rows, running only the blocks up to the last layer needed.

import type { HookedTransformer } from '../models/transformer.js';
import { concat, keep, noGrad, tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../util/errors.js';
import { tokenRows } from './sweep-runtime.js';
import type { TokenInput } from '../models/inputs.js';

export interface DatasetOptions {
  /** Rows of token ids [rows, pos], all the same length (no padding). */
  dataset: TokenInput;
  /** Rows per forward pass (default 16). */
  batchSize?: number;
}

/** Calls fn with the activations at `names` of each batch of dataset rows (valid during the call only). */
function forEachBatch(model: HookedTransformer, names: readonly string[], options: DatasetOptions,
  fn: (acts: Map<string, Tensor>) => void): void {
  const rows = tokenRows(model.config, options.dataset).rows;
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`batchSize must be a positive integer, got ${batchSize}`);
  const lastLayer = Math.max(...names.map((n) => Number(n.split('.')[1])));
  for (let start = 0; start < rows.length; start += batchSize) {
    noGrad(() => tidy(() => {
      // The returned residual is left to the tidy (it may be a cached tensor itself).
      const { cache } = model.runWithCache(rows.slice(start, start + batchSize), { names: [...names], stopAtLayer: lastLayer + 1 });
      try {
        fn(new Map(names.map((n) => [n, cache.get(n)])));
      } finally {
        cache.dispose();
      }
    }));
  }
}

/**
 * Mean activation at each name over the dataset: over rows and positions ([1, 1, ...rest], usable at
 * any length and in KV-cached generation), or per position ([1, pos, ...rest]). The caller owns them.
 */
export function datasetMeans(model: HookedTransformer, names: readonly string[], options: DatasetOptions & { perPosition?: boolean }): Map<string, Tensor> {
  const sums = new Map<string, { data: Float64Array; shape: number[] }>();
  let count = 0;
  forEachBatch(model, names, options, (acts) => {
    for (const [name, act] of acts) {
      const reduced = options.perPosition ? act.sum(0, { keepdim: true }) : act.sum([0, 1], { keepdim: true });
      const values = reduced.toArray();
      const entry = sums.get(name) ?? { data: new Float64Array(values.length), shape: [...reduced.shape] };
      for (let i = 0; i < values.length; i++) entry.data[i] += values[i];
      sums.set(name, entry);
    }
    const first = acts.values().next().value as Tensor;
    count += options.perPosition ? first.shape[0] : first.shape[0] * first.shape[1];
  });
  const means = new Map<string, Tensor>();
  for (const [name, { data, shape }] of sums) {
    means.set(name, tensor(Float32Array.from(data, (v) => v / count), shape, { backend: model.backend }));
  }
  return means;
}

/** The activations at each name for every dataset row, [rows, pos, ...rest]. The caller owns them. */
export function datasetActivations(model: HookedTransformer, names: readonly string[], options: DatasetOptions): Map<string, Tensor> {
  const parts = new Map<string, Tensor[]>(names.map((n) => [n, []]));
  try {
    forEachBatch(model, names, options, (acts) => {
      for (const [name, act] of acts) parts.get(name)?.push(keep(act.clone()));
    });
    return new Map([...parts].map(([name, list]) => [name, keep(noGrad(() => concat(list, 0)))]));
  } finally {
    for (const list of parts.values()) for (const t of list) t.dispose();
  }
}
