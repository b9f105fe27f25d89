// The language-modelling loss: mean next-token cross-entropy, -log softmax(logits)[target],
// composed from logSoftmax and gather so autograd differentiates it with the existing rules.

import { tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ShapeError, fmtShape } from '../util/errors.js';

/**
 * Mean cross-entropy of logits [..., d_vocab] against int32 targets [...] (same leading shape).
 * With `weights` (float, the targets' shape) the mean is weighted: Σ w·nll / Σ w, so a zero
 * weight drops a position (padding, prompt tokens). Returns a 0-d tensor the caller owns.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, weights?: Tensor): Tensor {
  const lead = logits.shape.slice(0, -1);
  if (targets.ndim !== lead.length || targets.shape.some((d, i) => d !== lead[i])) {
    throw new ShapeError(`crossEntropy: targets of shape ${fmtShape(targets.shape)} must match logits ${fmtShape(logits.shape)} without the vocabulary axis`);
  }
  const logProbs = logits.logSoftmax(-1);
  const picked = logProbs.gather(-1, targets.unsqueeze(-1)).squeeze(-1); // log p(target), shaped like targets
  let loss: Tensor;
  if (weights === undefined) {
    loss = picked.mean().neg();
  } else {
    if (weights.shape.length !== targets.ndim || weights.shape.some((d, i) => d !== targets.shape[i])) {
      throw new ShapeError(`crossEntropy: weights of shape ${fmtShape(weights.shape)} must match targets ${fmtShape(targets.shape)}`);
    }
    loss = picked.mul(weights).sum().div(weights.sum().item()).neg();
  }
  for (const t of [logProbs, picked]) t.dispose();
  return loss;
}

/** Inputs and targets of a batch of token rows, each row seqLen + 1 long: targets are inputs shifted by one. */
export function shiftedBatch(rows: readonly (readonly number[])[], backend?: Tensor['backend']): { inputs: number[][]; targets: Tensor } {
  const inputs = rows.map((row) => row.slice(0, -1));
  const seqLen = inputs[0]?.length ?? 0;
  for (const row of rows) {
    if (row.length !== seqLen + 1) throw new ShapeError(`shiftedBatch: rows must all have length ${seqLen + 1}, got one of ${row.length}`);
  }
  const targets = tensor(Int32Array.from(rows.flatMap((row) => row.slice(1))), [rows.length, seqLen], { dtype: 'int32', backend });
  return { inputs, targets };
}
