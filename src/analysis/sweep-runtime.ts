// What every patching sweep shares: stacking copies of a batch along the batch axis (one copy per
// patch), masks that say which copy a patch touches, how many copies fit a memory budget, and the
// progress / cancellation plumbing of a long-running sweep.

import type { ActivationCache } from '../hooks/activation-cache.js';
import type { ModelConfig } from '../models/config.js';
import { resolveInputs, type MaskInput, type TokenInput } from '../models/inputs.js';
import { tensor, where } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../util/errors.js';
import type { LogitPositions } from './metrics.js';

/** Default memory a batched sweep may spend on one forward pass's activations. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 256 * 1024 * 1024;

export interface SweepControl {
  /** Patched copies per forward pass; default: as many as `memoryBudgetBytes` allows. */
  batchSize?: number;
  /** Approximate activation memory of one forward pass (default 256 MiB). */
  memoryBudgetBytes?: number;
  /** Called after each forward pass with (patches done, patches in total). */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects the sweep with signal.reason, checked between forward passes. */
  signal?: AbortSignal;
}

/** Token rows [batch][pos], validated against the model (ids in range, rectangular, within n_ctx). */
export function tokenRows(config: ModelConfig, tokens: TokenInput, mask?: MaskInput): { rows: number[][]; mask: number[][] | null } {
  const inputs = resolveInputs(config, tokens, mask, 0, null);
  return { rows: inputs.tokens, mask: inputs.mask };
}

/** Throws the ShapeError patching needs when clean and corrupted prompts differ in shape. */
export function assertSameLength(clean: readonly number[][], corrupted: readonly number[][]): void {
  if (clean.length !== corrupted.length || clean[0].length !== corrupted[0].length) {
    throw new ShapeError(`clean and corrupted prompts must have the same shape: clean tokens are [${clean.length}, ${clean[0].length}], corrupted [${corrupted.length}, ${corrupted[0].length}] (patching maps positions one to one; pad them to the same length)`);
  }
}

/** The clean activation at `name`, checked to match the corrupted run's batch and positions. */
export function cleanActivation(cache: ActivationCache, name: string, batch: number, pos: number): Tensor {
  if (!cache.has(name)) {
    throw new ArgumentError(`the clean cache has no '${name}'; cache it (model.runWithCache(cleanTokens, { names: [...] })) or pass cleanTokens instead`);
  }
  const act = cache.get(name);
  const actPos = cache.pointInfo(name).axes[1] === 'pos' ? act.shape[1] : act.shape[act.ndim - 1];
  if (act.shape[0] !== batch || actPos !== pos) {
    throw new ShapeError(`clean activation '${name}' has shape ${fmtShape(act.shape)} but the corrupted tokens are [${batch}, ${pos}]: clean and corrupted prompts must have the same batch and length`);
  }
  return act;
}

/** [n * batch, ...rest]: n stacked copies of x [batch, ...rest]. */
export function tileRows(x: Tensor, n: number): Tensor {
  if (n === 1) return x.contiguous();
  return x.unsqueeze(0).expand(n, ...x.shape).reshape(n * x.shape[0], ...x.shape.slice(1));
}

export function tileMask(mask: number[][] | null, n: number): number[][] | undefined {
  if (mask === null) return undefined;
  return Array.from({ length: n }, () => mask).flat();
}

/** Where copy `slot` of the batch is patched: an index per activation axis after batch (null: all of it). */
export interface SlotRegion {
  readonly slot: number;
  readonly region: readonly (number | null)[];
}

/**
 * [n * batch, ...rest]: `base` with each slot's region replaced by `source`. Each of base and source
 * is either [n * batch, ...rest] (one value per copy) or [batch, ...rest] (the same for every copy).
 * One `where` over the activation, with a 0/1 mask [n, 1, ...] that has full size only on the axes
 * some region indexes.
 */
export function patchSlots(base: Tensor, source: Tensor, n: number, batch: number, regions: readonly SlotRegion[]): Tensor {
  for (const t of [base, source]) {
    if (t.shape[0] !== batch && t.shape[0] !== n * batch) {
      throw new ShapeError(`patchSlots: batch axis of ${fmtShape(t.shape)} is neither ${batch} nor ${n} copies of it`);
    }
  }
  const rest = base.shape.slice(1);
  const indexed = rest.map((_, axis) => regions.some((r) => r.region[axis] !== null && r.region[axis] !== undefined));
  const maskRest = rest.map((size, axis) => (indexed[axis] ? size : 1));
  const innerSize = maskRest.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n * innerSize);
  for (const { slot, region } of regions) fillRegion(data, slot * innerSize, maskRest, region);
  const mask = tensor(data, [n, 1, ...maskRest], { dtype: base.dtype, backend: base.backend });
  const perCopy = (t: Tensor) => (t.shape[0] === batch ? t : t.reshape(n, batch, ...rest));
  return where(mask, perCopy(source), perCopy(base)).reshape(n * batch, ...rest);
}

/** Sets mask entries of one slot to 1 over the region (null axes: every index). */
function fillRegion(data: Float32Array, base: number, shape: readonly number[], region: readonly (number | null)[]): void {
  const visit = (axis: number, offset: number): void => {
    if (axis === shape.length) {
      data[offset] = 1;
      return;
    }
    const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const index = region[axis];
    if (index === null || index === undefined || shape[axis] === 1) {
      for (let i = 0; i < shape[axis]; i++) visit(axis + 1, offset + i * stride);
    } else {
      visit(axis + 1, offset + index * stride);
    }
  };
  visit(0, base);
}

/**
 * Rough float count one prompt row keeps alive during a forward pass (the pass runs in one tidy
 * scope, so every layer's activations live until it ends), to size chunks to a memory budget.
 */
function floatsPerRow(c: ModelConfig, pos: number, logitPositions: number): number {
  const perLayer = pos * (10 * c.dModel + 5 * c.nHeads * c.dHead + 4 * c.dMlp) + 3 * c.nHeads * pos * pos;
  return c.nLayers * perLayer + 3 * logitPositions * c.dVocab;
}

/** How many patched copies of a [batch, pos] input one forward pass may hold. */
export function copiesPerPass(c: ModelConfig, batch: number, pos: number, positions: LogitPositions, control: SweepControl): number {
  if (control.batchSize !== undefined) {
    if (!Number.isInteger(control.batchSize) || control.batchSize < 1) {
      throw new ArgumentError(`batchSize must be a positive integer, got ${control.batchSize}`);
    }
    return control.batchSize;
  }
  const budget = control.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
  if (!(budget > 0)) throw new ArgumentError(`memoryBudgetBytes must be positive, got ${budget}`);
  const logitCount = positions === 'all' ? pos : positions === 'last' ? 1 : positions.length;
  return Math.max(1, Math.floor(budget / (4 * batch * floatsPerRow(c, pos, logitCount))));
}

/** Reports progress, honours the abort signal and lets the event loop run (so an abort can arrive). */
export class SweepProgress {
  private done = 0;
  private lastYield = Date.now();

  constructor(private readonly total: number, private readonly control: SweepControl) {
    control.signal?.throwIfAborted();
  }

  async advance(count: number): Promise<void> {
    this.done += count;
    this.control.onProgress?.(this.done, this.total);
    // Yield at most every ~20 ms: often enough for a UI, rare enough to cost nothing.
    if (Date.now() - this.lastYield > 20) {
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      this.lastYield = Date.now();
    }
    this.control.signal?.throwIfAborted();
  }
}

/** Splits items into consecutive groups of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
