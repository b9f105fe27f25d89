// Reading an ActivationCache for analysis: activations by name with a message that says which
// function needed what, the position selection every analysis offers, and token targets.

import type { ActivationCache } from '../hooks/activation-cache.js';
import type { HookedTransformer } from '../models/transformer.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, IndexError, ShapeError, fmtShape } from '../util/errors.js';

/** The cached activation `name` (the cache keeps owning it); throws naming the caller and the fix. */
export function cached(cache: ActivationCache, name: string, what: string): Tensor {
  if (!cache.has(name)) {
    throw new ArgumentError(`${what} needs '${name}' in the cache; run runWithCache without a names filter, or include that name`);
  }
  return cache.get(name);
}

/** A position index in [-length, length) → [0, length). */
export function resolvePosition(pos: number, length: number, what: string): number {
  if (!Number.isInteger(pos) || pos < -length || pos >= length) {
    throw new IndexError(`${what}: position ${pos} is out of range for ${length} positions`);
  }
  return pos < 0 ? pos + length : pos;
}

/**
 * t with its pos axis (`axis`) either kept (pos undefined) or reduced to one position (the axis is
 * dropped, as TransformerLens's integer pos_slice does). Returns a new view the caller owns.
 */
export function atPosition(t: Tensor, axis: number, pos: number | undefined, what: string): Tensor {
  if (pos === undefined) return t.reshape(t.shape);
  return t.select(axis, resolvePosition(pos, t.shape[axis], what));
}

/**
 * Target tokens for each (batch, position): one id for all, one id per batch row, or a
 * [batch][pos] grid (pos = the positions analysed).
 */
export type TokenTargets = number | readonly number[] | readonly (readonly number[])[];

/** Resolves targets to a [batch][pos] grid of validated ids. */
export function targetGrid(model: HookedTransformer, targets: TokenTargets, batch: number, pos: number, what: string): number[][] {
  let grid: number[][];
  if (typeof targets === 'number') {
    grid = Array.from({ length: batch }, () => new Array<number>(pos).fill(targets));
  } else if (targets.length > 0 && Array.isArray(targets[0])) {
    const rows = targets as readonly (readonly number[])[];
    if (rows.length !== batch || rows.some((row) => row.length !== pos)) {
      throw new ShapeError(`${what}: target grid has shape [${rows.length}, ${rows[0].length}], expected [batch, pos] = [${batch}, ${pos}]`);
    }
    grid = rows.map((row) => [...row]);
  } else {
    const perRow = targets as readonly number[];
    if (perRow.length !== batch) {
      throw new ShapeError(`${what}: ${perRow.length} targets given, expected one per batch row (${batch}) or a [batch][pos] grid`);
    }
    grid = perRow.map((id) => new Array<number>(pos).fill(id));
  }
  for (const row of grid) {
    for (const id of row) {
      if (!Number.isInteger(id) || id < 0 || id >= model.config.dVocab) {
        throw new IndexError(`${what}: target token ${id} is out of range: the vocabulary has ${model.config.dVocab} tokens`);
      }
    }
  }
  return grid;
}

/** Checks a [..., batch, pos, d_model] (or [..., batch, d_model] with a position chosen) stack. */
export function checkStack(model: HookedTransformer, stack: Tensor, posSelected: boolean, what: string): void {
  const minRank = posSelected ? 2 : 3;
  if (stack.ndim < minRank || stack.shape[stack.ndim - 1] !== model.config.dModel) {
    const expected = posSelected ? '[..., batch, d_model]' : '[..., batch, pos, d_model]';
    throw new ShapeError(`${what}: stack has shape ${fmtShape(stack.shape)}, expected ${expected} with d_model = ${model.config.dModel}`);
  }
}
