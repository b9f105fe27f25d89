// The measurements of the induction report: loss by position on repeated random tokens, head
// scores, K-composition between earlier heads and each induction head, path patching from earlier
// heads into the induction heads' keys, and one attention pattern. Plain numbers out, no markup.

import {
  ArgumentError, FactoredMatrix, Rng, WORLD_WORDS, headOV, headQK, metricBaselines, pathPatchingSweep, rowMetric, tensor, tidy,
  type HeadRef, type HookedTransformer, type SweepControl, type Tokenizer,
} from '../../index.js';

/** A head counts as an induction (previous-token) head from this score on (share of its attention). */
export const HEAD_THRESHOLD = 0.3;

export interface TokenPool {
  /** 'world words': the synthetic world's content words that are one token; 'word tokens': any " word" token. */
  source: 'world words' | 'word tokens';
  ids: number[];
}

/** Token ids the probe draws from: the world's content words when the tokenizer has most of them as single tokens, else every " word" token. */
export function tokenPool(tokenizer: Tokenizer, vocab: number, source?: TokenPool['source']): TokenPool {
  const world: number[] = [];
  for (const word of WORLD_WORDS) {
    const ids = tokenizer.encode(` ${word}`, { addSpecialTokens: false });
    if (ids.length === 1 && ids[0] < vocab) world.push(ids[0]);
  }
  if (source !== 'word tokens' && world.length >= 0.9 * WORLD_WORDS.length) return { source: 'world words', ids: [...new Set(world)] };
  const words: number[] = [];
  for (let id = 0; id < Math.min(vocab, tokenizer.vocabSize); id++) if (/^ [A-Za-z]+$/.test(tokenizer.decode([id]))) words.push(id);
  if (words.length < 2) throw new ArgumentError(`the tokenizer has ${words.length} word tokens (" word") among the model's ${vocab} ids; the probe needs at least 2`);
  return { source: 'word tokens', ids: words };
}

/** Rows [bos?, x1..xL, x1..xL] of tokens drawn uniformly from the pool. */
export function repeatedRows(pool: readonly number[], length: number, batch: number, seed: number, bos: number | null): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: batch }, () => {
    const span = Array.from({ length }, () => pool[rng.int(0, pool.length)]);
    return [...(bos === null ? [] : [bos]), ...span, ...span];
  });
}

export interface LossByPosition {
  /** Mean next-token loss (nats) of the token at position p + 1, for p = 0 .. T − 2. */
  loss: number[];
  /** Means over the first copy's tokens and over the second copy's (its first token excluded: nothing predicts it). */
  firstHalf: number;
  secondHalf: number;
}

/** Loss at each position of repeated rows (the same split as inductionMetrics). */
export function lossByPosition(model: HookedTransformer, rows: readonly number[][], length: number): LossByPosition {
  const T = rows[0].length;
  const offset = T - 2 * length; // 1 with a BOS, else 0
  const logProbs = tidy(() => model.forward(rows).logSoftmax(-1).toArray());
  const vocab = model.config.dVocab;
  const loss = Array.from({ length: T - 1 }, (_, p) => rows.reduce((sum, row, b) => sum - logProbs[(b * T + p) * vocab + row[p + 1]], 0) / rows.length);
  // Position p predicts row[p + 1]. The first copy is row[offset .. offset + L − 1]; the second copy's
  // first token (predicted at p = offset + L − 1) is left out: nothing in the row predicts it.
  const first = loss.slice(Math.max(0, offset - 1), offset + length - 1);
  const second = loss.slice(offset + length);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { loss, firstHalf: mean(first), secondHalf: mean(second) };
}

export type HeadGrid = number[][];

export type HeadKind = 'previous_token' | 'duplicate_token' | 'induction';

/**
 * [layer][head] scores on repeated rows: the mean attention on the key each kind expects, over the
 * queries that have one — previous token: every query after the first, key q − 1; duplicate token:
 * the second copy's queries, key q − L (the same token in the first copy); induction: the second
 * copy's queries, key q − L + 1 (the token after it). 1 = all attention where the kind says.
 * (TransformerLens's detector divides by every query's attention instead, so a perfect induction
 * head scores about one half there: the first copy has no target.)
 */
export function detectionScores(model: HookedTransformer, rows: readonly number[][], length: number): Record<HeadKind, HeadGrid> {
  const c = model.config;
  const T = rows[0].length;
  const secondStart = T - length; // the second copy's first position
  const names = Array.from({ length: c.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const { logits, cache } = model.runWithCache(rows, { names, logitPositions: 'last' });
  try {
    const grids = (): HeadGrid => Array.from({ length: c.nLayers }, () => new Array<number>(c.nHeads).fill(0));
    const out: Record<HeadKind, HeadGrid> = { previous_token: grids(), duplicate_token: grids(), induction: grids() };
    names.forEach((name, l) => {
      const pattern = cache.get(name).toArray(); // [batch, head, query, key]
      for (let h = 0; h < c.nHeads; h++) {
        let previous = 0;
        let duplicate = 0;
        let induction = 0;
        rows.forEach((_, b) => {
          const at = (q: number, k: number) => pattern[((b * c.nHeads + h) * T + q) * T + k];
          for (let q = 1; q < T; q++) previous += at(q, q - 1);
          for (let q = secondStart; q < T; q++) {
            duplicate += at(q, q - length);
            induction += at(q, q - length + 1);
          }
        });
        out.previous_token[l][h] = previous / (rows.length * (T - 1));
        out.duplicate_token[l][h] = duplicate / (rows.length * length);
        out.induction[l][h] = induction / (rows.length * length);
      }
    });
    return out;
  } finally {
    logits.dispose();
    cache.dispose();
  }
}

export interface ScoredHead extends HeadRef {
  score: number;
}

/** Heads by score, best first. */
export function rankHeads(grid: HeadGrid): ScoredHead[] {
  return grid.flatMap((row, layer) => row.map((score, head) => ({ layer, head, score }))).sort((a, b) => b.score - a.score);
}

/**
 * The K-composition score of sender → receiver: ‖W_OV(sender) · W_QK(receiver)ᵀ‖_F / (‖W_OV‖_F ‖W_QK‖_F)
 * (Elhage et al. 2021; TransformerLens's composition scores): how much of what the sender writes
 * the receiver's keys read.
 */
export function kComposition(model: HookedTransformer, sender: HeadRef, receiver: HeadRef): number {
  const ov = headOV(model, sender.layer, sender.head);
  const qk = headQK(model, receiver.layer, receiver.head);
  const qkT = qk.transpose();
  const product = ov.matmul(qkT);
  try {
    return product.norm() / (ov.norm() * qkT.norm());
  } finally {
    for (const m of [ov, qk, qkT, product]) m.dispose();
  }
}

/** The mean composition score of random matrices shaped like a head's OV and QK (the score's chance level). */
export function compositionBaseline(model: HookedTransformer, samples: number, seed: number): number {
  const { dModel, dHead } = model.config;
  const rng = new Rng(seed);
  const random = (rows: number, cols: number) => tensor(Float32Array.from({ length: rows * cols }, () => rng.normal()), [rows, cols], { backend: model.backend });
  let total = 0;
  for (let i = 0; i < samples; i++) {
    const a = new FactoredMatrix(random(dModel, dHead), random(dHead, dModel));
    const b = new FactoredMatrix(random(dModel, dHead), random(dHead, dModel));
    const product = a.matmul(b);
    total += product.norm() / (a.norm() * b.norm());
    for (const m of [a, b, product]) m.dispose();
  }
  return total / samples;
}

/**
 * Path patching from every earlier head into one head's keys. Clean: the repeated rows; corrupted:
 * the first copy replaced by other random tokens, so nothing in it predicts the second copy. The
 * metric is the mean log-probability of the second copy's tokens (its first excluded), normalised:
 * 0 = the clean run, −1 = the corrupted run.
 */
export async function keyPathPatching(model: HookedTransformer, clean: readonly number[][], corrupted: readonly number[][], length: number,
  receiver: HeadRef, control: SweepControl): Promise<{ values: HeadGrid; clean: number; corrupted: number }> {
  const T = clean[0].length;
  const offset = T - 2 * length;
  const positions = Array.from({ length: length - 1 }, (_, i) => offset + length + i); // predict the second copy's tokens 2 .. L
  const targets = tensor(Int32Array.from(clean.flatMap((row) => positions.map((p) => row[p + 1]))), [clean.length, positions.length, 1], {
    dtype: 'int32', backend: model.backend,
  });
  try {
    const metric = rowMetric((logits) => logits.logSoftmax(-1).gather(2, targets).reshape(clean.length, positions.length).mean(1), positions);
    const base = metricBaselines(model, metric, { cleanTokens: clean as number[][], corruptedTokens: corrupted as number[][] });
    const result = await pathPatchingSweep(model, {
      cleanTokens: clean as number[][], corruptedTokens: corrupted as number[][], metric, receivers: [{ ...receiver, input: 'k' }], ...control,
    });
    const data = result.values.toArray();
    result.values.dispose();
    const span = base.clean - base.corrupted;
    const heads = model.config.nHeads;
    const values = Array.from({ length: data.length / heads }, (_, l) => Array.from(data.subarray(l * heads, (l + 1) * heads), (v) => (v - base.clean) / span));
    return { values, clean: base.clean, corrupted: base.corrupted };
  } finally {
    targets.dispose();
  }
}

/** [query][key] attention pattern of one head on one row. */
export function attentionPattern(model: HookedTransformer, row: readonly number[], head: HeadRef): number[][] {
  const name = `blocks.${head.layer}.attn.hook_pattern`;
  const { logits, cache } = model.runWithCache([row as number[]], { names: [name], logitPositions: 'last', stopAtLayer: head.layer + 1 });
  try {
    const data = cache.get(name).toArray(); // [1, head, query, key]
    const T = row.length;
    return Array.from({ length: T }, (_, q) => Array.from(data.subarray((head.head * T + q) * T, (head.head * T + q + 1) * T)));
  } finally {
    logits.dispose();
    cache.dispose();
  }
}
