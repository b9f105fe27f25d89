// Normalising what users pass to a forward pass: token ids as arrays or tensors, an optional
// padding mask, and the positions both imply. Bad ids, ragged batches and over-long sequences
// fail here with the offending value named.

import { Tensor } from '../tensor/tensor.js';
import { ArgumentError, IndexError, ShapeError, fmtShape } from '../util/errors.js';
import type { ModelConfig } from './config.js';

/** Token ids: [pos], [batch][pos], or an int32 Tensor of shape [pos] or [batch, pos]. */
export type TokenInput = Tensor | readonly number[] | readonly (readonly number[])[];
/** 1 for real tokens, 0 for padding, same shape as the tokens. */
export type MaskInput = Tensor | readonly number[] | readonly (readonly number[])[];

function toRows(input: TokenInput | MaskInput, what: string): number[][] {
  if (input instanceof Tensor) {
    if (input.ndim !== 1 && input.ndim !== 2) {
      throw new ShapeError(`${what} must have shape [pos] or [batch, pos], got ${fmtShape(input.shape)}`);
    }
    const data = input.toArray();
    const [batch, pos] = input.ndim === 1 ? [1, input.shape[0]] : input.shape;
    return Array.from({ length: batch }, (_, b) => Array.from(data.subarray(b * pos, (b + 1) * pos)));
  }
  if (!Array.isArray(input)) throw new ArgumentError(`${what} must be an array or a Tensor, got ${typeof input}`);
  const rows = input.length > 0 && Array.isArray(input[0]) ? (input as number[][]) : [input as number[]];
  const width = rows[0]?.length ?? 0;
  rows.forEach((row, b) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw new ShapeError(`${what}: row ${b} has length ${Array.isArray(row) ? row.length : typeof row}, expected ${width} (batches must be rectangular; pad them and pass an attention mask)`);
    }
  });
  return rows.map((row) => [...row]);
}

export interface ResolvedInputs {
  readonly tokens: number[][];
  /** Mask of every key position (past + new), or null when no mask was given. */
  readonly mask: number[][] | null;
  /** Position index of each new token, per row. */
  readonly positions: number[][];
}

/**
 * Validates ids against the vocabulary and the length against the context, and derives positions:
 * 0, 1, 2... after `pastLength` cached ones, or — with a padding mask — counted over real tokens
 * only, so a left-padded row starts at position 0 like its unpadded self (as TransformerLens and
 * HF generation do).
 */
export function resolveInputs(config: ModelConfig, tokens: TokenInput, mask: MaskInput | undefined,
  pastLength: number, pastMask: number[][] | null): ResolvedInputs {
  const rows = toRows(tokens, 'tokens');
  const pos = rows[0]?.length ?? 0;
  if (rows.length === 0 || pos === 0) throw new ShapeError('tokens: expected at least one token, got an empty input');
  rows.forEach((row, b) => row.forEach((id, p) => {
    if (!Number.isInteger(id) || id < 0 || id >= config.dVocab) {
      throw new IndexError(`token id ${id} at [${b}, ${p}] is out of range: the vocabulary has ${config.dVocab} tokens (ids 0..${config.dVocab - 1})`);
    }
  }));
  if (pastLength + pos > config.nCtx) {
    throw new IndexError(`sequence of ${pastLength + pos} positions is longer than the model's context of ${config.nCtx}`);
  }
  let newMask: number[][] | null = null;
  if (mask !== undefined) {
    newMask = toRows(mask, 'attentionMask');
    if (newMask.length !== rows.length || newMask[0].length !== pos) {
      throw new ShapeError(`attentionMask has shape [${newMask.length}, ${newMask[0]?.length}], expected the tokens' shape [${rows.length}, ${pos}]`);
    }
    newMask.forEach((row, b) => row.forEach((m, p) => {
      if (m !== 0 && m !== 1) throw new ArgumentError(`attentionMask[${b}][${p}] is ${m}; expected 0 (padding) or 1 (token)`);
    }));
  }
  if (pastMask !== null && pastMask.length !== rows.length) {
    throw new ShapeError(`tokens have batch ${rows.length} but the KV cache holds batch ${pastMask.length}`);
  }
  const fullMask = newMask === null && pastMask === null ? null
    : rows.map((_, b) => [
      ...(pastMask?.[b] ?? new Array<number>(pastLength).fill(1)),
      ...(newMask?.[b] ?? new Array<number>(pos).fill(1)),
    ]);
  const positions = rows.map((_, b) => {
    if (fullMask === null) return Array.from({ length: pos }, (_, p) => pastLength + p);
    let seen = 0;
    const all = fullMask[b].map((m) => (m === 1 ? seen++ : 0));
    return all.slice(pastLength);
  });
  return { tokens: rows, mask: fullMask, positions };
}
