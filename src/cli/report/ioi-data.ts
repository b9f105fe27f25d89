// The measurements of the IOI report: the logit difference over many prompts, activation patching,
// path patching along the textbook circuit (Wang et al. 2022), and where each head looks — plain
// numbers out, no markup. Prompts are the synthetic world's, over names IOI training never used.

import {
  ALL_NAMES, IOI_HELD_OUT_NAMES, IOI_TEMPLATES, Rng, ioiCircuitExamples, ioiEvalSet, logitAttrs, logitDiff, metricBaselines, normalisedMetric,
  patchBlockEvery, patchHeadsEvery, pathPatchingSweep, singleWordToken, stackHeadResults, tidy,
  type CircuitExample, type HeadRef, type HookedTransformer, type IoiPrompt, type PatchingResult, type ReceiverInput, type SweepControl, type Tokenizer,
} from '../../index.js';

export interface PromptResult {
  prompt: IoiPrompt;
  /** logit(IO) − logit(S) at the last position. */
  logitDiff: number;
  /** IO is the top-1 token over the vocabulary. */
  top1: boolean;
}

/** The logit difference of each prompt (prompts grouped by token length, one forward pass per group). */
export function ioiBehaviour(model: HookedTransformer, tokenizer: Tokenizer, prompts: readonly IoiPrompt[]): PromptResult[] {
  const encoded = prompts.map((p) => tokenizer.encode(p.prompt, { addSpecialTokens: false }));
  const byLength = new Map<number, number[]>();
  encoded.forEach((ids, i) => byLength.set(ids.length, [...(byLength.get(ids.length) ?? []), i]));
  const results = new Array<PromptResult>(prompts.length);
  for (const indices of byLength.values()) {
    const logits = tidy(() => model.forward(indices.map((i) => encoded[i]), { logitPositions: 'last' }).toArray());
    const vocab = logits.length / indices.length;
    indices.forEach((i, b) => {
      const row = logits.subarray(b * vocab, (b + 1) * vocab);
      const io = singleWordToken(tokenizer, prompts[i].io);
      const s = singleWordToken(tokenizer, prompts[i].s);
      let best = 0;
      for (let t = 1; t < vocab; t++) if (row[t] > row[best]) best = t;
      results[i] = { prompt: prompts[i], logitDiff: row[io] - row[s], top1: best === io };
    });
  }
  return results;
}

/** Held-out-name IOI prompts over every template (the same draw as ioiHeldOut for this count and seed). */
export function behaviourPrompts(count: number, seed: number): IoiPrompt[] {
  return ioiEvalSet(new Rng(seed), count, IOI_HELD_OUT_NAMES);
}

/**
 * Prompt pairs of one template and one name order (ABBA: "When IO and S …, S gave … to"), so every
 * position has the same role in every prompt; corrupted: the three names replaced by three others.
 */
export function patchingPairs(tokenizer: Tokenizer, count: number, seed: number): CircuitExample[] {
  const wanted: IoiPrompt[] = [];
  const rng = new Rng(seed);
  for (let tries = 0; wanted.length < count && tries < 200 * count; tries++) {
    const [p] = ioiEvalSet(rng, 1, IOI_HELD_OUT_NAMES);
    if (p.template === 0 && p.order === 'ABBA') wanted.push(p);
  }
  return ioiCircuitExamples(tokenizer, wanted, { names: ALL_NAMES, seed });
}

/** Pairs over every template and order (circuit discovery groups them by length). */
export function discoveryPairs(tokenizer: Tokenizer, count: number, seed: number): CircuitExample[] {
  return ioiCircuitExamples(tokenizer, ioiEvalSet(new Rng(seed), count, IOI_HELD_OUT_NAMES), { names: ALL_NAMES, seed });
}

export const PATCHING_TEMPLATE = IOI_TEMPLATES[0];

/** Each position's role in the patching prompts: IO, S1, S2, END, or the first prompt's token. */
export function positionRoles(example: CircuitExample, tokens: readonly string[]): string[] {
  let sMentions = 0;
  return example.clean.map((t, p) => {
    if (p === example.clean.length - 1) return 'END';
    if (t === example.answer) return 'IO';
    if (t === example.wrong) return ++sMentions === 1 ? 'S1' : 'S2';
    return tokens[p].trim() || tokens[p];
  });
}

export type Grid = number[][];

export interface PatchingGrids {
  baselines: { clean: number; corrupted: number };
  /** Component name → [layer][position or head], normalised: 0 = corrupted run, 1 = clean run. */
  grids: Record<string, Grid>;
}

function splitGrids(result: PatchingResult): Record<string, Grid> {
  const data = result.values.toArray();
  const [components, layers, cols] = result.values.shape;
  result.values.dispose();
  const names = result.labels?.component ?? [];
  return Object.fromEntries(Array.from({ length: components }, (_, c) => [names[c],
    Array.from({ length: layers }, (_, l) => Array.from(data.subarray((c * layers + l) * cols, (c * layers + l + 1) * cols)))]));
}

function pairMetric(model: HookedTransformer, pairs: readonly CircuitExample[]) {
  const metric = logitDiff(pairs.map((p) => p.answer), pairs.map((p) => p.wrong));
  const baselines = metricBaselines(model, metric, { cleanTokens: pairs.map((p) => p.clean), corruptedTokens: pairs.map((p) => p.corrupted) });
  return { metric, baselines };
}

/** resid_pre / attn_out / mlp_out by layer × position, then z / q / k / v / pattern by layer × head. */
export async function activationPatchingGrids(model: HookedTransformer, pairs: readonly CircuitExample[], what: 'positions' | 'heads',
  control: SweepControl): Promise<PatchingGrids> {
  const { metric, baselines } = pairMetric(model, pairs);
  const options = { cleanTokens: pairs.map((p) => p.clean), corruptedTokens: pairs.map((p) => p.corrupted), metric: normalisedMetric(metric, baselines), ...control };
  const result = what === 'positions' ? await patchBlockEvery(model, options) : await patchHeadsEvery(model, options);
  return { baselines, grids: splitGrids(result) };
}

/**
 * Path patching from every earlier head to `receivers`, normalised as in Wang et al.: (patched −
 * clean) / (clean − corrupted), so 0 = no effect and −1 = the whole logit difference lost.
 */
export async function pathGrid(model: HookedTransformer, pairs: readonly CircuitExample[], receivers: readonly ReceiverInput[] | 'logits',
  control: SweepControl): Promise<Grid> {
  const { metric, baselines } = pairMetric(model, pairs);
  const result = await pathPatchingSweep(model, {
    cleanTokens: pairs.map((p) => p.clean), corruptedTokens: pairs.map((p) => p.corrupted), metric, receivers, ...control,
  });
  const data = result.values.toArray();
  const [layers, heads] = result.values.shape;
  result.values.dispose();
  const span = baselines.clean - baselines.corrupted;
  return Array.from({ length: layers }, (_, l) => Array.from(data.subarray(l * heads, (l + 1) * heads), (v) => (v - baselines.clean) / span));
}

export interface HeadProfile extends HeadRef {
  /** Attention from END (means over prompts) to IO, to S's first mention, to its repeat. */
  endToIo: number;
  endToS1: number;
  endToS2: number;
  /** Attention from S2 to S1 (duplicate token), to the token after S1 (induction), to the token before S2 (previous token). */
  s2ToS1: number;
  s2ToAfterS1: number;
  s2ToPrevious: number;
  /** Direct logit attribution of the head's END output to logit(IO) and to logit(S) (means over prompts). */
  dlaIo: number;
  dlaS: number;
}

/** Where every head looks at END and at S2, and what it writes to the IO and S logits, on the clean prompts. */
export function headProfiles(model: HookedTransformer, pairs: readonly CircuitExample[]): HeadProfile[] {
  const { nLayers, nHeads } = model.config;
  const rows = pairs.map((p) => p.clean);
  const names = Array.from({ length: nLayers }, (_, l) => [`blocks.${l}.attn.hook_pattern`, `blocks.${l}.attn.hook_z`]).flat();
  const { logits, cache } = model.runWithCache(rows, { names: [...names, 'ln_final.hook_scale'], logitPositions: 'last' });
  try {
    const B = rows.length;
    const T = rows[0].length;
    const dla = (tokens: number[]) => tidy(() => {
      const heads = stackHeadResults(model, cache, { pos: -1 }); // [layer·head, batch, d_model]
      return Array.from(logitAttrs(model, cache, heads.stack, tokens, { pos: -1 }).attributions.toArray()); // [layer·head, batch]
    });
    const toIo = dla(pairs.map((p) => p.answer));
    const toS = dla(pairs.map((p) => p.wrong));
    const profiles: HeadProfile[] = [];
    for (let l = 0; l < nLayers; l++) {
      const pattern = cache.get(`blocks.${l}.attn.hook_pattern`).toArray(); // [batch, head, query, key]
      for (let h = 0; h < nHeads; h++) {
        const sum = { endToIo: 0, endToS1: 0, endToS2: 0, s2ToS1: 0, s2ToAfterS1: 0, s2ToPrevious: 0, dlaIo: 0, dlaS: 0 };
        pairs.forEach((pair, b) => {
          const io = pair.clean.indexOf(pair.answer);
          const [s1, s2] = pair.clean.flatMap((t, p) => (t === pair.wrong ? [p] : []));
          const at = (q: number, k: number) => pattern[((b * nHeads + h) * T + q) * T + k];
          sum.endToIo += at(T - 1, io);
          sum.endToS1 += at(T - 1, s1);
          sum.endToS2 += at(T - 1, s2);
          sum.s2ToS1 += at(s2, s1);
          sum.s2ToAfterS1 += at(s2, s1 + 1);
          sum.s2ToPrevious += at(s2, s2 - 1);
          sum.dlaIo += toIo[(l * nHeads + h) * B + b];
          sum.dlaS += toS[(l * nHeads + h) * B + b];
        });
        const mean = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, v / B])) as typeof sum;
        profiles.push({ layer: l, head: h, ...mean });
      }
    }
    return profiles;
  } finally {
    logits.dispose();
    cache.dispose();
  }
}
