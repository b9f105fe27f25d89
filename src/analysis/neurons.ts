// MLP neurons as key-value memories (Geva et al. 2021): the key side is what makes a neuron fire —
// found by scanning token rows for its top-activating contexts — and the value side is what it
// writes, its row of W_out, read in vocabulary space through the unembedding.
//
// The activation is hook_post, the input to W_out: act(pre) for ordinary MLPs, act(gate) · up for
// gated ones (SwiGLU / GeGLU), so both views describe the same number the model multiplies W_out by.

import type { HookedTransformer } from '../models/transformer.js';
import { tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, IndexError } from '../util/errors.js';
import { extremes, type TokenScore } from './circuits.js';
import { batchesByLength } from './token-batches.js';
import { checkLayer, mlpOutputWeight, normWeight, unembedMatrix } from './model-weights.js';

export interface NeuronExample {
  /** Index of the row in the rows given. */
  row: number;
  position: number;
  activation: number;
  /** Tokens of the row from contextStart, around the position (window.before before it, window.after after). */
  context: number[];
  contextStart: number;
}

export interface TopActivationOptions {
  /** Examples kept per neuron (default 10). */
  k?: number;
  /** Rows per forward pass (default 8); rows of different lengths run in separate batches. */
  batchSize?: number;
  /** Tokens of context kept around each example (default 8 before, 2 after). */
  window?: { before?: number; after?: number };
  /** Called after each batch with rows done and rows total. */
  onProgress?: (done: number, total: number) => void;
  /** Checked between batches; an aborted scan throws the signal's reason. */
  signal?: AbortSignal;
}

/** Keeps the k largest (activation, row, position) triples seen, best first. */
class TopK {
  readonly items: { activation: number; row: number; position: number }[] = [];
  constructor(private readonly k: number) {}

  offer(activation: number, row: number, position: number): void {
    const items = this.items;
    if (items.length === this.k && activation <= items[items.length - 1].activation) return;
    let i = items.length;
    while (i > 0 && items[i - 1].activation < activation) i--;
    items.splice(i, 0, { activation, row, position });
    if (items.length > this.k) items.pop();
  }
}

/**
 * The contexts where each neuron fires hardest over `rows` of token ids: for every neuron (one
 * list per entry of `neurons`), the top k (row, position) by activation, with a window of tokens.
 * Runs each batch only up to `layer` (no unembedding), reading blocks.{layer}.mlp.hook_post.
 */
export function topActivatingExamples(model: HookedTransformer, rows: readonly (readonly number[])[], layer: number,
  neurons: number | readonly number[], options: TopActivationOptions = {}): NeuronExample[][] {
  const what = 'topActivatingExamples';
  const c = model.config;
  checkLayer(c, layer, what);
  const ids = typeof neurons === 'number' ? [neurons] : [...neurons];
  if (ids.length === 0) throw new ArgumentError(`${what}: no neurons given`);
  for (const n of ids) if (!Number.isInteger(n) || n < 0 || n >= c.dMlp) throw new IndexError(`${what}: neuron ${n} is out of range 0..${c.dMlp - 1}`);
  const k = options.k ?? 10;
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`${what}: k must be a positive integer, got ${k}`);
  const before = options.window?.before ?? 8;
  const after = options.window?.after ?? 2;

  const tops = ids.map(() => new TopK(k));
  const hookName = `blocks.${layer}.mlp.hook_post`;
  let done = 0;
  for (const batch of batchesByLength(rows, batchSize, what)) {
    options.signal?.throwIfAborted();
    const captured: { values: ArrayLike<number> | null } = { values: null };
    const output = model.forward(batch.map((r) => rows[r]), {
      stopAtLayer: layer + 1,
      hooks: [{
        name: hookName,
        fn: (post) => {
          // post [batch, pos, d_mlp] → the chosen neurons [batch, pos, n], read before the forward pass frees it.
          captured.values = tidy(() => post.indexSelect(2, tensor(Int32Array.from(ids), [ids.length], { dtype: 'int32', backend: post.backend })).toArray());
        },
      }],
    });
    output.dispose();
    const data = captured.values;
    if (data === null) throw new ArgumentError(`${what}: the forward pass never reached ${hookName}`);
    const length = rows[batch[0]].length;
    batch.forEach((row, b) => {
      for (let p = 0; p < length; p++) {
        for (let j = 0; j < ids.length; j++) tops[j].offer(data[(b * length + p) * ids.length + j], row, p);
      }
    });
    done += batch.length;
    options.onProgress?.(done, rows.length);
  }
  return tops.map((top) => top.items.map(({ activation, row, position }) => {
    const contextStart = Math.max(0, position - before);
    return { row, position, activation, contextStart, context: rows[row].slice(contextStart, position + after + 1) };
  }));
}

export interface NeuronVocab {
  /** [d_model]: the neuron's value vector, its row of W_out. The caller owns it. */
  value: Tensor;
  /** Tokens whose logits the value vector raises most. */
  top: TokenScore[];
  /** Tokens it lowers most. */
  bottom: TokenScore[];
}

/**
 * The value side of a neuron: W_out[n] projected to the vocabulary, (w_f ⊙ W_out[n]) W_U — the
 * direct effect on the logits per unit of activation, through ln_final's weight when
 * `throughFinalNorm` (default true; TransformerLens folds that weight into W_U). The final norm's
 * scale and centring are ignored: it is a direction, not a logit.
 */
export function neuronValueTokens(model: HookedTransformer, layer: number, neuron: number,
  options: { k?: number; throughFinalNorm?: boolean } = {}): NeuronVocab {
  const what = 'neuronValueTokens';
  const c = model.config;
  checkLayer(c, layer, what);
  if (!Number.isInteger(neuron) || neuron < 0 || neuron >= c.dMlp) throw new IndexError(`${what}: neuron ${neuron} is out of range 0..${c.dMlp - 1}`);
  return tidy(() => {
    const value = mlpOutputWeight(model, layer).select(0, neuron).contiguous(); // [d_model]
    const weight = (options.throughFinalNorm ?? true) ? normWeight(model, model.params.lnFinal) : null;
    const direction = weight === null ? value : value.mul(weight);
    const logits = direction.reshape(1, -1).matmul(unembedMatrix(model)).reshape(-1);
    return { value, ...extremes(logits, options.k ?? 10) };
  });
}
