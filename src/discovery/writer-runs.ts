// The forward passes every discovery method shares: the writers' outputs on a batch of prompts
// (and the metric there), the mean outputs for mean ablation, and the gradient of the metric at
// every reader input (zero tensors added at the reader hooks, so that each reader's gradient keeps
// every path through later components — detaching instead would cut them).

import { metricValue, type Metric } from '../analysis/metrics.js';
import type { SweepProgress } from '../analysis/sweep-runtime.js';
import type { Hook } from '../hooks/hook-set.js';
import type { HookedTransformer } from '../models/transformer.js';
import { enableGrad, keep, noGrad, tidy, zeros } from '../tensor/index.js';
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../util/errors.js';
import { batchMetric, type CircuitMetric, type ExampleBatch } from './dataset.js';
import { groupColumns, withHeadAxis, type HookGroup } from './graph-hooks.js';

/** The writers' outputs of one run, one tensor per writer group, and the metric of that run. */
export interface WriterOutputs {
  /** [batch, pos, (count,) d_model] per group, owned by this object. */
  readonly outputs: readonly Tensor[];
  readonly value: number;
  dispose(): void;
}

/** Runs `rows` (no gradients) and keeps the writers' outputs. */
export function runWriters(model: HookedTransformer, rows: number[][], groups: readonly HookGroup[], metric: Metric): WriterOutputs {
  return noGrad(() => {
    const { logits, cache } = model.runWithCache(rows, { names: groups.map((g) => g.hook), logitPositions: metric.logitPositions ?? 'all' });
    try {
      const value = metricValue(metric, logits);
      return { outputs: groups.map((g) => cache.get(g.hook)), value, dispose: () => cache.dispose() };
    } catch (err) {
      cache.dispose();
      throw err;
    } finally {
      logits.dispose();
    }
  });
}

/** The metric of one plain run. */
export function runMetric(model: HookedTransformer, rows: number[][], metric: Metric): number {
  return noGrad(() => tidy(() => metricValue(metric, model.forward(rows, { logitPositions: metric.logitPositions ?? 'all' }))));
}

/**
 * Mean ablation's values: each writer's output averaged over every clean prompt and position,
 * [count, d_model] per group (kept; the caller disposes them).
 */
export async function meanWriterOutputs(model: HookedTransformer, groups: readonly HookGroup[], batches: readonly ExampleBatch[],
  metric: CircuitMetric, progress: SweepProgress): Promise<Tensor[]> {
  let sums: Tensor[] | null = null;
  let rows = 0;
  for (const batch of batches) {
    const run = runWriters(model, batch.clean, groups, batchMetric(metric, batch));
    try {
      const next = noGrad(() => tidy(() => run.outputs.map((t, i) => {
        const total = withHeadAxis(t, groups[i]).sum([0, 1]); // [count, d_model]
        return sums === null ? total : sums[i].add(total);
      })));
      keep(next);
      if (sums !== null) for (const t of sums) t.dispose();
      sums = next;
    } finally {
      run.dispose();
    }
    rows += batch.clean.length * batch.clean[0].length;
    await progress.advance(1);
  }
  const totals = sums as Tensor[];
  const means = noGrad(() => tidy(() => totals.map((t) => t.div(rows))));
  for (const t of totals) t.dispose();
  return keep(means);
}

/** Mean outputs broadcast to a batch: [batch, pos, (count,) d_model] views (the caller disposes them). */
export function broadcastMeans(means: readonly Tensor[], groups: readonly HookGroup[], batch: number, pos: number): Tensor[] {
  return tidy(() => means.map((m, i) => {
    const [count, d] = m.shape;
    return groups[i].perHead ? m.reshape(1, 1, count, d).expand(batch, pos, count, d) : m.reshape(1, 1, d).expand(batch, pos, d);
  }));
}

/** Where a gradient pass starts: token rows, or the residual stream entering block 0 (the input node's output). */
export type PassInput = { readonly tokens: number[][] } | { readonly resid: Tensor };

/**
 * One forward and backward pass of the metric with a zero tensor added at every reader hook;
 * returns ∂metric/∂input for each reader group as columns [batch·pos·d_model, count] (the caller
 * owns them). `hooks` run too (e.g. an interpolated writer output).
 */
export function readerGradients(model: HookedTransformer, input: PassInput, metric: Metric, readers: readonly HookGroup[],
  hooks: readonly Hook[] = []): Tensor[] {
  const deltas = new Map<string, Tensor>();
  try {
    return enableGrad(() => tidy(() => {
      const addDelta: Hook = {
        name: readers.map((r) => r.hook),
        fn: (activation, point) => {
          const delta = keep(zeros(activation.shape, { dtype: activation.dtype, backend: activation.backend }).requiresGrad_());
          deltas.set(point.name, delta);
          return activation.add(delta);
        },
      };
      const options = { hooks: [...hooks, addDelta], logitPositions: metric.logitPositions ?? 'all' };
      const logits = 'tokens' in input ? model.forward(input.tokens, options) : model.forward(input.resid, { ...options, startAtLayer: 0 });
      const value = metric(logits);
      if (!(value instanceof Tensor) || value.size !== 1) {
        throw new ArgumentError(`edge attribution differentiates the metric, so it must return a one-element Tensor; got ${value instanceof Tensor ? `shape ${fmtShape(value.shape)}` : typeof value}`);
      }
      value.backward();
      return readers.map((r) => {
        const delta = deltas.get(r.hook);
        if (delta === undefined) throw new ShapeError(`the forward pass never reached reader hook '${r.hook}'`);
        if (delta.grad === null) return zeros([delta.size / r.count, r.count], { dtype: delta.dtype, backend: delta.backend });
        return groupColumns(delta.grad, r);
      });
    }));
  } finally {
    for (const d of deltas.values()) d.dispose();
  }
}
