// Measurements that say whether an organism has the mechanism it was trained for: IOI logit
// difference, top-1 fact recall, and induction (loss on repeated spans, and which heads attend to
// the previous token or to the token after the previous occurrence).

import type { Tokenizer } from '../io/tokenizer.js';
import type { HookedTransformer } from '../models/transformer.js';
import { Rng, noGrad, tidy } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';
import { heldOutFactPrompts } from './data/facts.js';
import { repeatedSpan } from './data/induction.js';
import { ioiEvalSet, type IoiPrompt } from './data/ioi.js';

/** The single token of " word"; throws when the tokenizer splits it (the metric would be meaningless). */
export function wordToken(tokenizer: Tokenizer, word: string): number {
  const ids = tokenizer.encode(` ${word}`, { addSpecialTokens: false });
  if (ids.length !== 1) throw new ArgumentError(`' ${word}' is ${ids.length} tokens for this tokenizer; the metric needs a single token`);
  return ids[0];
}

/** Last-position logits of each prompt (grouped by length, so each group is one batched run). */
function lastLogits(model: HookedTransformer, prompts: readonly number[][]): Float32Array[] {
  const out = new Array<Float32Array>(prompts.length);
  const byLength = new Map<number, number[]>();
  prompts.forEach((p, i) => byLength.set(p.length, [...(byLength.get(p.length) ?? []), i]));
  for (const indices of byLength.values()) {
    for (let start = 0; start < indices.length; start += 64) {
      const chunk = indices.slice(start, start + 64);
      const values = noGrad(() => tidy(() => model.forward(chunk.map((i) => prompts[i]), { logitPositions: 'last' }).toArray()));
      const vocab = values.length / chunk.length;
      chunk.forEach((i, k) => { out[i] = Float32Array.from(values.subarray(k * vocab, (k + 1) * vocab)); });
    }
  }
  return out;
}

export interface IoiResult {
  /** Mean of logit(IO) − logit(S) at the last position. */
  meanLogitDiff: number;
  /** Fraction of prompts where IO's logit beats S's. */
  accuracy: number;
  /** Fraction where IO is the top-1 token over the whole vocabulary. */
  top1: number;
  count: number;
}

export function ioiLogitDiff(model: HookedTransformer, tokenizer: Tokenizer, prompts: readonly IoiPrompt[]): IoiResult {
  const logits = lastLogits(model, prompts.map((p) => tokenizer.encode(p.prompt, { addSpecialTokens: false })));
  let diff = 0;
  let wins = 0;
  let top1 = 0;
  prompts.forEach((p, i) => {
    const io = logits[i][wordToken(tokenizer, p.io)];
    const s = logits[i][wordToken(tokenizer, p.s)];
    diff += io - s;
    if (io > s) wins++;
    if (argmax(logits[i]) === wordToken(tokenizer, p.io)) top1++;
  });
  return { meanLogitDiff: diff / prompts.length, accuracy: wins / prompts.length, top1: top1 / prompts.length, count: prompts.length };
}

/** IOI on a fixed seeded set of prompts over the names IOI training never used. */
export function ioiHeldOut(model: HookedTransformer, tokenizer: Tokenizer, count = 256, seed = 12345): IoiResult {
  return ioiLogitDiff(model, tokenizer, ioiEvalSet(new Rng(seed), count));
}

export interface RecallResult {
  /** Fraction of prompts whose top-1 next token is the answer. */
  top1: number;
  count: number;
  /** Up to 10 prompts the model got wrong, with its guess. */
  misses: { prompt: string; answer: string; predicted: string }[];
}

/** Top-1 recall of every fact from the paraphrases training never used. */
export function factRecallHeldOut(model: HookedTransformer, tokenizer: Tokenizer): RecallResult {
  const prompts = heldOutFactPrompts();
  const logits = lastLogits(model, prompts.map((p) => tokenizer.encode(p.prompt, { addSpecialTokens: false })));
  let hits = 0;
  const misses: RecallResult['misses'] = [];
  prompts.forEach((p, i) => {
    const predicted = argmax(logits[i]);
    if (predicted === wordToken(tokenizer, p.answer)) hits++;
    else if (misses.length < 10) misses.push({ prompt: p.prompt, answer: p.answer, predicted: tokenizer.decode([predicted]) });
  });
  return { top1: hits / prompts.length, count: prompts.length, misses };
}

export interface InductionResult {
  /** Mean next-token loss over the first copy of the span (unpredictable) and the second (predictable by induction). */
  firstHalfLoss: number;
  secondHalfLoss: number;
  /** [layer][head]: mean attention from each second-copy token to the token after its first occurrence. */
  inductionScores: number[][];
  /** [layer][head]: mean attention from each token to the one before it. */
  previousTokenScores: number[][];
}

/**
 * Runs `batch` sequences [eot, x1..xL, x1..xL] of tokens drawn from `pool` and measures induction.
 * Position p of the second copy (holding x_i) should attend to position of x_{i+1} in the first.
 */
export function inductionMetrics(model: HookedTransformer, pool: readonly number[], options: { length: number; batch: number; seed: number; bos: number }): InductionResult {
  const { length: L, batch } = options;
  const rng = new Rng(options.seed);
  const rows = Array.from({ length: batch }, () => [options.bos, ...repeatedSpan(rng, pool, L)]);
  const c = model.config;
  const names = Array.from({ length: c.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  return noGrad(() => {
    const { logits, cache } = model.runWithCache(rows, { names });
    try {
      const logProbs = tidy(() => logits.logSoftmax(-1).toArray());
      const vocab = c.dVocab;
      const T = 2 * L + 1;
      let first = 0;
      let second = 0;
      rows.forEach((row, b) => {
        // Position p predicts row[p + 1]; first copy: p in [0, L), second copy: p in [L + 1, 2L).
        for (let p = 0; p < T - 1; p++) {
          const nll = -logProbs[(b * T + p) * vocab + row[p + 1]];
          if (p < L) first += nll;
          else if (p > L) second += nll;
        }
      });
      const inductionScores: number[][] = [];
      const previousTokenScores: number[][] = [];
      for (const name of names) {
        const pattern = cache.get(name).toArray(); // [batch, head, query, key]
        const headsInd: number[] = [];
        const headsPrev: number[] = [];
        for (let h = 0; h < c.nHeads; h++) {
          let ind = 0;
          let prev = 0;
          for (let b = 0; b < batch; b++) {
            const base = ((b * c.nHeads + h) * T) * T;
            // The query at L + i holds x_i; x_{i+1}'s first occurrence is at i + 1 = q - L + 1.
            for (let q = L + 1; q < T; q++) ind += pattern[base + q * T + (q - L + 1)];
            for (let q = 1; q < T; q++) prev += pattern[base + q * T + q - 1];
          }
          headsInd.push(ind / (batch * L));
          headsPrev.push(prev / (batch * (T - 1)));
        }
        inductionScores.push(headsInd);
        previousTokenScores.push(headsPrev);
      }
      return { firstHalfLoss: first / (batch * L), secondHalfLoss: second / (batch * (L - 1)), inductionScores, previousTokenScores };
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
