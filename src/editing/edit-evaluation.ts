// How good an edit is, in ROME's terms (its CounterFact evaluation):
//   efficacy        the edited prompt now gives the new object;
//   generalisation  so do paraphrases of it (the fact changed, not a sentence);
//   specificity     prompts about other subjects keep their answers;
//   fluency         generations stay varied (n-gram entropy of sampled continuations), and
//                   optionally the perplexity of corpus text stays where it was.
// Run it before and after an edit and compare; it reads the model as it is.

import { batchesByLength } from '../analysis/token-batches.js';
import type { Tokenizer } from '../io/tokenizer.js';
import { generate } from '../models/generate.js';
import type { HookedTransformer } from '../models/transformer.js';
import { noGrad, tensor, tidy } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';
import { corpusRows } from './key-statistics.js';

export interface EditEvaluationSpec {
  /** The edited prompt with the subject written in ('The capital of Veloria is'). */
  prompt: string;
  /** The new object (' Brellin'). */
  target: string;
  /** The object before the edit (' Tarsk'): efficacy also asks P(target) > P(original), ROME's efficacy score. */
  original?: string;
  paraphrases?: readonly string[];
  /** Prompts about other subjects, and the answer each should keep. */
  neighbours?: readonly { prompt: string; answer: string }[];
  /** Prompts whose sampled continuations measure fluency (n-gram entropy). */
  generationPrompts?: readonly string[];
  /** Token rows whose perplexity is measured. */
  corpus?: readonly (readonly number[])[];
  /** Tokens generated per generation prompt (default 40) and the sampling seed (default 0). */
  generationLength?: number;
  seed?: number;
}

export interface PromptScore {
  prompt: string;
  /** P(target tokens | prompt): the product over its tokens. */
  pTarget: number;
  /** P(original tokens | prompt), when an original was given. */
  pOriginal: number | null;
  /** Greedy decoding gives exactly the target's tokens. */
  top1: boolean;
}

export interface NeighbourScore {
  prompt: string;
  answer: string;
  /** P(answer | prompt). */
  pAnswer: number;
  /** P(new object | prompt): an edit that bleeds into neighbours raises it. */
  pTarget: number;
  /** Greedy decoding still gives exactly the answer's tokens. */
  kept: boolean;
}

export interface EditEvaluation {
  efficacy: PromptScore;
  paraphrases: PromptScore[];
  /** Fraction of paraphrases whose greedy answer is the new object (NaN without paraphrases). */
  generalisation: number;
  neighbours: NeighbourScore[];
  /** Fraction of neighbours that keep their answer (NaN without neighbours). */
  specificity: number;
  /** Mean weighted 2/3-gram entropy of the sampled continuations (ROME's fluency), with the texts. */
  fluency: { ngramEntropy: number; texts: string[] } | null;
  /** exp(mean next-token NLL) over the corpus rows. */
  perplexity: number | null;
}

/** log P of each of `answer`'s tokens after `prompt`, and whether each is the argmax there. */
function answerLogProbs(model: HookedTransformer, prompt: readonly number[], answer: readonly number[]): { logProbs: number[]; argmax: boolean[] } {
  const T = answer.length;
  const tokens = [...prompt, ...answer.slice(0, -1)];
  return noGrad(() => tidy(() => {
    const logits = model.forward([tokens], { logitPositions: Array.from({ length: T }, (_, i) => i - T) });
    const logProbs = logits.logSoftmax(-1).reshape(T, -1);
    const picked = logProbs.gather(1, tensor(Int32Array.from(answer), [T, 1], { dtype: 'int32', backend: model.backend })).toArray();
    const best = logProbs.argmax(1).toArray();
    return { logProbs: Array.from(picked), argmax: answer.map((id, i) => best[i] === id) };
  }));
}

function encodeAnswer(tokenizer: Tokenizer, answer: string): number[] {
  const ids = tokenizer.encode(answer, { addSpecialTokens: false });
  if (ids.length === 0) throw new ArgumentError(`the answer '${answer}' has no tokens`);
  return ids;
}

function promptScore(model: HookedTransformer, tokenizer: Tokenizer, prompt: string, target: number[], original: number[] | null): PromptScore {
  const ids = tokenizer.encode(prompt);
  const t = answerLogProbs(model, ids, target);
  const o = original === null ? null : answerLogProbs(model, ids, original);
  return {
    prompt,
    pTarget: Math.exp(t.logProbs.reduce((a, b) => a + b, 0)),
    pOriginal: o === null ? null : Math.exp(o.logProbs.reduce((a, b) => a + b, 0)),
    top1: t.argmax.every(Boolean),
  };
}

/** ROME's fluency: per text, the 2-gram and 3-gram entropies (bits) weighted 2/3 and 4/3 and averaged; then the mean over texts. */
export function ngramEntropy(texts: readonly string[]): number {
  if (texts.length === 0) throw new ArgumentError('ngramEntropy: no texts');
  const perText = texts.map((text) => {
    const words = text.match(/\w+|[^\w\s]/g) ?? [];
    const entropies = [2, 3].map((n) => {
      const counts = new Map<string, number>();
      for (let i = 0; i + n <= words.length; i++) {
        const gram = words.slice(i, i + n).join('\u0000');
        counts.set(gram, (counts.get(gram) ?? 0) + 1);
      }
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      let h = 0;
      for (const c of counts.values()) h -= (c / total) * Math.log2(c / total);
      return h;
    });
    return (entropies[0] * (2 / 3) + entropies[1] * (4 / 3)) / 2;
  });
  return perText.reduce((a, b) => a + b, 0) / perText.length;
}

/** exp(mean next-token negative log-likelihood) over the rows (cut to the model's context). */
export function perplexity(model: HookedTransformer, corpus: readonly (readonly number[])[]): number {
  const rows = corpusRows(model, corpus).filter((r) => r.length > 1);
  if (rows.length === 0) throw new ArgumentError('perplexity: no row has two tokens');
  let nll = 0;
  let count = 0;
  for (const batch of batchesByLength(rows, 16, 'perplexity')) {
    const inputs = batch.map((i) => rows[i].slice(0, -1));
    const targets = batch.flatMap((i) => rows[i].slice(1));
    const T = inputs[0].length;
    nll -= noGrad(() => tidy(() => {
      const logProbs = model.forward(inputs).logSoftmax(-1).reshape(batch.length * T, -1);
      return logProbs.gather(1, tensor(Int32Array.from(targets), [targets.length, 1], { dtype: 'int32', backend: model.backend })).sum().item();
    }));
    count += targets.length;
  }
  return Math.exp(nll / count);
}

/** Scores the model as it is now on the spec's prompts (see the file comment). */
export async function evaluateEdit(model: HookedTransformer, tokenizer: Tokenizer, spec: EditEvaluationSpec): Promise<EditEvaluation> {
  const target = encodeAnswer(tokenizer, spec.target);
  const original = spec.original === undefined ? null : encodeAnswer(tokenizer, spec.original);
  const efficacy = promptScore(model, tokenizer, spec.prompt, target, original);
  const paraphrases = (spec.paraphrases ?? []).map((p) => promptScore(model, tokenizer, p, target, original));
  const neighbours = (spec.neighbours ?? []).map(({ prompt, answer }) => {
    const ids = tokenizer.encode(prompt);
    const a = answerLogProbs(model, ids, encodeAnswer(tokenizer, answer));
    const t = answerLogProbs(model, ids, target);
    return {
      prompt, answer,
      pAnswer: Math.exp(a.logProbs.reduce((x, y) => x + y, 0)),
      pTarget: Math.exp(t.logProbs.reduce((x, y) => x + y, 0)),
      kept: a.argmax.every(Boolean),
    };
  });
  let fluency: EditEvaluation['fluency'] = null;
  if (spec.generationPrompts && spec.generationPrompts.length > 0) {
    const prompts = spec.generationPrompts.map((p) => tokenizer.encode(p));
    const { tokens } = await generate(model, prompts, {
      maxNewTokens: spec.generationLength ?? 40, topK: 5, seed: spec.seed ?? 0, stopTokenIds: [],
    });
    const texts = tokens.map((ids, i) => `${spec.generationPrompts?.[i] ?? ''}${tokenizer.decode(ids, { skipSpecialTokens: true })}`);
    fluency = { ngramEntropy: ngramEntropy(texts), texts };
  }
  const fraction = (flags: readonly boolean[]) => (flags.length ? flags.filter(Boolean).length / flags.length : Number.NaN);
  return {
    efficacy,
    paraphrases,
    generalisation: fraction(paraphrases.map((p) => p.top1)),
    neighbours,
    specificity: fraction(neighbours.map((n) => n.kept)),
    fluency,
    perplexity: spec.corpus === undefined ? null : perplexity(model, spec.corpus),
  };
}
