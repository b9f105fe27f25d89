// ROME's key k*: what the edited MLP reads at the subject's last token — the input of its down
// projection — averaged over the subject in several contexts, so the edit fires on the subject
// wherever it appears, not only in one sentence. The contexts are short texts the model itself
// generates (ROME's context templates: "{}" alone plus sampled openings ending in ". {}").

import { batchesByLength } from '../analysis/token-batches.js';
import type { Tokenizer } from '../io/tokenizer.js';
import { generate } from '../models/generate.js';
import type { HookedTransformer } from '../models/transformer.js';
import { noGrad, tidy } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';
import { checkLayer, keyHookName } from './key-statistics.js';
import { encodeWithSubject, type SubjectPrompt } from './subject.js';

export interface ContextOptions {
  /** Openings the contexts are sampled from (ROME's: The, Therefore, Because, I, You). */
  starts?: readonly string[];
  /** [tokens per context, how many] (ROME's: [[5, 10], [10, 10]]). */
  lengths?: readonly (readonly [number, number])[];
  /** Seed of the sampling (top-k 5, as ROME's generate_fast). Default 0. */
  seed?: number;
}

/**
 * Context prefixes for a subject: '' (the prompt alone) and texts sampled from the model, each
 * followed by '. ', so "prefix + template" reads as a new sentence (ROME's get_context_templates).
 */
export async function contextPrefixes(model: HookedTransformer, tokenizer: Tokenizer, options: ContextOptions = {}): Promise<string[]> {
  const starts = options.starts ?? ['The', 'Therefore', 'Because', 'I', 'You'];
  const lengths = options.lengths ?? [[5, 10], [10, 10]];
  if (starts.length === 0) throw new ArgumentError('contextPrefixes: no starts given');
  const out = [''];
  let seed = options.seed ?? 0;
  for (const [length, count] of lengths) {
    if (!Number.isInteger(length) || length < 1 || !Number.isInteger(count) || count < 0) {
      throw new ArgumentError(`contextPrefixes: each length entry is [tokens >= 1, count >= 0], got [${length}, ${count}]`);
    }
    const prompts = Array.from({ length: count }, (_, i) => tokenizer.encode(starts[i % starts.length]));
    if (count === 0) continue;
    const maxNewTokens = Math.max(1, length - Math.min(...prompts.map((p) => p.length)));
    const { sequences } = await generate(model, prompts, { maxNewTokens, topK: 5, seed: seed++, stopTokenIds: [] });
    for (const ids of sequences) {
      // ROME removes braces so a generated text can never add a template slot.
      const text = tokenizer.decode(ids.slice(0, Math.max(length, 1)), { skipSpecialTokens: true }).replace(/[{}]/g, ' ');
      out.push(`${text}. `);
    }
  }
  return out;
}

/** `template` (with '{}') after each prefix, tokenized with the subject's position known. */
export function contextPrompts(tokenizer: Tokenizer, prefixes: readonly string[], template: string, subject: string): SubjectPrompt[] {
  return prefixes.map((prefix) => encodeWithSubject(tokenizer, `${prefix}${template}`, subject));
}

/** The down projection's input (hook_post) at each prompt's last subject token. */
export function keysAtSubject(model: HookedTransformer, layer: number, prompts: readonly SubjectPrompt[]): Float64Array[] {
  checkLayer(model, layer);
  if (prompts.length === 0) throw new ArgumentError('no prompts to read keys from');
  const name = keyHookName(layer);
  const size = model.config.dMlp;
  const keys = new Array<Float64Array>(prompts.length);
  for (const batch of batchesByLength(prompts.map((p) => p.tokens), 16, 'keysAtSubject')) {
    noGrad(() => {
      const { logits, cache } = model.runWithCache(batch.map((i) => prompts[i].tokens), { names: [name], stopAtLayer: layer + 1 });
      try {
        const values = tidy(() => cache.get(name).toArray()); // [batch, pos, d_mlp]
        const pos = prompts[batch[0]].tokens.length;
        batch.forEach((i, b) => {
          const at = (b * pos + prompts[i].subject[1] - 1) * size;
          keys[i] = Float64Array.from(values.subarray(at, at + size));
        });
      } finally {
        logits.dispose();
        cache.dispose();
      }
    });
  }
  return keys;
}

/** k*: the mean of keysAtSubject over the prompts. */
export function meanKey(model: HookedTransformer, layer: number, prompts: readonly SubjectPrompt[]): Float64Array {
  const keys = keysAtSubject(model, layer, prompts);
  const mean = new Float64Array(model.config.dMlp);
  for (const k of keys) for (let i = 0; i < mean.length; i++) mean[i] += k[i] / keys.length;
  return mean;
}

/** W k + b of `layer`'s down projection, in float64 (the MLP's output for key k). */
export function downProjection(model: HookedTransformer, layer: number, k: ArrayLike<number>): Float64Array {
  checkLayer(model, layer);
  const out = model.params.blocks[layer].mlp.out;
  const { dMlp, dModel } = model.config;
  if (k.length !== dMlp) throw new ArgumentError(`a key of layer ${layer} has ${dMlp} values, got ${k.length}`);
  const w = out.weight.toArray();
  const y = out.bias === null ? new Float64Array(dModel) : Float64Array.from(out.bias.toArray());
  for (let i = 0; i < dModel; i++) {
    let sum = 0;
    // nn.Linear stores [out, in]; GPT-2's Conv1D [in, out].
    if (out.transposed) for (let j = 0; j < dMlp; j++) sum += w[i * dMlp + j] * k[j];
    else for (let j = 0; j < dMlp; j++) sum += w[j * dModel + i] * k[j];
    y[i] += sum;
  }
  return y;
}
