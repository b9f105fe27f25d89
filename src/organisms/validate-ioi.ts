// IOI validation on world-4l: activation patching of each attention head's output (z) at the END
// position, from clean IOI prompts into prompts with IO and S swapped, must localise the effect to
// a few heads that read the names at END — and among them a name mover (Wang et al. 2022): a head
// that attends from END to IO and writes IO's logit up. The heads are described by where END
// attends (IO, the first mention of S, the repeated S2) and by their direct effect on the logit
// difference, so the report says which kind each is (the paper's S-inhibition heads attend END →
// S2 and act through the name movers' queries, so their direct effect is small; path patching into
// a later name mover's query measures that, and is reported).

import { stackHeadResults } from '../analysis/cache-analysis.js';
import { logitAttrs } from '../analysis/direct-logit-attribution.js';
import { logitDiff } from '../analysis/metrics.js';
import { metricBaselines, runPatchPlan } from '../analysis/patching.js';
import { pathPatching } from '../analysis/path-patching.js';
import type { PatchPlan } from '../analysis/patching-targets.js';
import type { Tokenizer } from '../io/tokenizer.js';
import type { HookedTransformer } from '../models/transformer.js';
import { Rng, noGrad } from '../tensor/index.js';
import { ioiEvalSet } from './data/ioi.js';
import { wordToken } from './evaluate.js';
import { fmt, type ValidationCheck } from './validate-check.js';

/** What the check requires (effects are normalised: 0 = corrupted run, 1 = clean run). */
export const IOI_RULES = {
  /** A head whose END output restores at least this share of the logit difference carries the effect. */
  effectHead: 0.1,
  /** Localised: at most this share of all heads carry the effect ... */
  maxShareOfHeads: 0.25,
  /** ... and together they restore at least this much. */
  minTotalEffect: 0.5,
  /** Each of them attends from END to the names (IO, S1, S2 together) at least this much. */
  minAttentionToNames: 0.5,
};

interface IoiRows {
  clean: number[][];
  corrupted: number[][];
  io: number[];
  s: number[];
}

/** Held-out-name IOI prompts, grouped by token length (a patching run needs equal lengths); the corrupted prompt swaps IO and S everywhere. */
function ioiGroups(tokenizer: Tokenizer, count: number, seed: number): IoiRows[] {
  const groups = new Map<number, IoiRows>();
  for (const p of ioiEvalSet(new Rng(seed), count)) {
    const clean = tokenizer.encode(p.prompt, { addSpecialTokens: false });
    const io = wordToken(tokenizer, p.io);
    const s = wordToken(tokenizer, p.s);
    const corrupted = clean.map((t) => (t === io ? s : t === s ? io : t));
    const group = groups.get(clean.length) ?? { clean: [], corrupted: [], io: [], s: [] };
    group.clean.push(clean);
    group.corrupted.push(corrupted);
    group.io.push(io);
    group.s.push(s);
    groups.set(clean.length, group);
  }
  return [...groups.values()];
}

export interface IoiHead {
  layer: number;
  head: number;
  /** Normalised effect of patching this head's z at END alone. */
  effect: number;
  /** Attention from END to IO, to S's first mention and to its repeat (means over prompts). */
  attnIo: number;
  attnS1: number;
  attnS2: number;
  /** Direct logit attribution of the head's END output to logit(IO) − logit(S), in logits. */
  directEffect: number;
}

export interface IoiHeadReport {
  prompts: number;
  cleanLogitDiff: number;
  corruptedLogitDiff: number;
  /** Every head, by effect (largest first). */
  heads: IoiHead[];
}

/** z of each head at the last position: one patch per (layer, head). */
function endPositionPlan(model: HookedTransformer, length: number): PatchPlan {
  const { nLayers, nHeads } = model.config;
  const patches = Array.from({ length: nLayers * nHeads }, (_, slot) => {
    const layer = Math.floor(slot / nHeads);
    return { hook: `blocks.${layer}.attn.hook_z`, layer, region: [length - 1, slot % nHeads], slot };
  });
  return { patches, shape: [nLayers, nHeads], axes: ['layer', 'head'] };
}

/** Adds each head's END attention to IO / S1 / S2 and direct effect on IO − S, summed over the group's prompts. */
function describeHeads(model: HookedTransformer, g: IoiRows, sums: Omit<IoiHead, 'layer' | 'head' | 'effect'>[]): void {
  const { nLayers, nHeads } = model.config;
  const names = Array.from({ length: nLayers }, (_, l) => [`blocks.${l}.attn.hook_pattern`, `blocks.${l}.attn.hook_z`]).flat();
  noGrad(() => {
    const { logits, cache } = model.runWithCache(g.clean, { names: [...names, 'ln_final.hook_scale'], logitPositions: 'last' });
    try {
      const T = g.clean[0].length;
      const B = g.clean.length;
      const heads = stackHeadResults(model, cache, { pos: -1 }); // [layer·head, batch, d_model]
      const attrs = logitAttrs(model, cache, heads.stack, { token: g.io, against: g.s }, { pos: -1 });
      const direct = attrs.attributions.toArray(); // [layer·head, batch]
      [heads.stack, heads.outBias, attrs.attributions, attrs.constant].forEach((t) => t.dispose());
      for (let l = 0; l < nLayers; l++) {
        const pattern = cache.get(`blocks.${l}.attn.hook_pattern`).toArray(); // [batch, head, query, key]
        for (let h = 0; h < nHeads; h++) {
          const sum = sums[l * nHeads + h];
          g.clean.forEach((row, b) => {
            sum.directEffect += direct[(l * nHeads + h) * B + b];
            const end = ((b * nHeads + h) * T + (T - 1)) * T;
            let sMentions = 0;
            row.forEach((t, key) => {
              if (t === g.io[b]) sum.attnIo += pattern[end + key];
              else if (t === g.s[b]) {
                if (sMentions++ === 0) sum.attnS1 += pattern[end + key];
                else sum.attnS2 += pattern[end + key];
              }
            });
          });
        }
      }
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });
}

/** Patching effect, END attention and direct effect of every head on `count` held-out-name IOI prompts. */
export async function ioiHeadReport(model: HookedTransformer, tokenizer: Tokenizer, options: { count?: number; seed?: number } = {}): Promise<IoiHeadReport> {
  const { count = 24, seed = 2718 } = options;
  const { nLayers, nHeads } = model.config;
  const effect = new Float64Array(nLayers * nHeads);
  const sums = Array.from({ length: nLayers * nHeads }, () => ({ attnIo: 0, attnS1: 0, attnS2: 0, directEffect: 0 }));
  let clean = 0;
  let corrupted = 0;
  for (const g of ioiGroups(tokenizer, count, seed)) {
    const metric = logitDiff(g.io, g.s);
    const base = metricBaselines(model, metric, { cleanTokens: g.clean, corruptedTokens: g.corrupted });
    const result = await runPatchPlan(model, endPositionPlan(model, g.clean[0].length), { cleanTokens: g.clean, corruptedTokens: g.corrupted, metric });
    const values = result.values.toArray();
    result.values.dispose();
    const weight = g.clean.length / count;
    values.forEach((v, i) => { effect[i] += weight * (v - base.corrupted); });
    clean += weight * base.clean;
    corrupted += weight * base.corrupted;
    describeHeads(model, g, sums);
  }
  const span = clean - corrupted;
  const heads = sums.map((s, i) => ({
    layer: Math.floor(i / nHeads), head: i % nHeads, effect: effect[i] / span,
    attnIo: s.attnIo / count, attnS1: s.attnS1 / count, attnS2: s.attnS2 / count, directEffect: s.directEffect / count,
  }));
  heads.sort((a, b) => b.effect - a.effect);
  return { prompts: count, cleanLogitDiff: clean, corruptedLogitDiff: corrupted, heads };
}

/**
 * Path patching (clean run; the sender's output corrupted along one path only): the share of the
 * clean − corrupted logit difference that flows from `sender` into `receiver`'s query — how the
 * paper's S-inhibition heads act on the name movers (Q-composition).
 */
export async function queryPathEffect(model: HookedTransformer, tokenizer: Tokenizer, sender: IoiHead, receiver: IoiHead,
  options: { count?: number; seed?: number } = {}): Promise<number> {
  const { count = 24, seed = 2718 } = options;
  let lost = 0;
  let span = 0;
  for (const g of ioiGroups(tokenizer, count, seed)) {
    const metric = logitDiff(g.io, g.s);
    const inputs = { cleanTokens: g.clean, corruptedTokens: g.corrupted, metric };
    const base = metricBaselines(model, metric, inputs);
    const value = await pathPatching(model, [sender], { ...inputs, receivers: [{ layer: receiver.layer, head: receiver.head, input: 'q' }] });
    const weight = g.clean.length / count;
    lost += weight * (base.clean - value);
    span += weight * (base.clean - base.corrupted);
  }
  return lost / span;
}

/** A name mover: END attends to IO more than to both mentions of S, and the head writes IO − S up. */
export function isNameMover(h: IoiHead): boolean {
  return h.attnIo > h.attnS1 + h.attnS2 && h.directEffect > 0;
}

/** The verdict on a report (see IOI_RULES): localised to few heads, each reading the names at END, a name mover among them. */
export function ioiVerdict(report: IoiHeadReport, totalHeads: number): { pass: boolean; effectHeads: IoiHead[]; reasons: string[] } {
  const effectHeads = report.heads.filter((h) => h.effect >= IOI_RULES.effectHead);
  const total = effectHeads.reduce((sum, h) => sum + h.effect, 0);
  const reasons: string[] = [];
  if (!(report.cleanLogitDiff > report.corruptedLogitDiff)) reasons.push('clean logit diff not above corrupted');
  if (effectHeads.length === 0) reasons.push(`no head restores ≥ ${IOI_RULES.effectHead}`);
  if (effectHeads.length > IOI_RULES.maxShareOfHeads * totalHeads) reasons.push(`${effectHeads.length} of ${totalHeads} heads carry the effect (not localised)`);
  if (total < IOI_RULES.minTotalEffect) reasons.push(`the effect heads restore ${fmt(total)} together (< ${IOI_RULES.minTotalEffect})`);
  for (const h of effectHeads) {
    const names = h.attnIo + h.attnS1 + h.attnS2;
    if (names < IOI_RULES.minAttentionToNames) reasons.push(`L${h.layer}H${h.head} attends END → names ${fmt(names)} (< ${IOI_RULES.minAttentionToNames})`);
  }
  if (!effectHeads.some(isNameMover)) reasons.push('no effect head is a name mover (END → IO > END → S, direct effect on IO − S > 0)');
  return { pass: reasons.length === 0, effectHeads, reasons };
}

/** How the report names a head: the paper's S-inhibition heads attend from END to S2. */
function kind(h: IoiHead): string {
  if (isNameMover(h)) return 'name mover';
  if (h.attnS2 > h.attnIo + h.attnS1) return 'S-inhibition-like (END → S2)';
  return 'other';
}

/** world-4l: the IOI patching check (IOI_RULES), with each effect head's numbers. */
export async function ioiPatchingCheck(model: HookedTransformer, tokenizer: Tokenizer,
  options: { count?: number; seed?: number; organism?: string } = {}): Promise<ValidationCheck> {
  const { organism = 'world-4l' } = options;
  const report = await ioiHeadReport(model, tokenizer, options);
  const { pass, effectHeads, reasons } = ioiVerdict(report, model.config.nLayers * model.config.nHeads);
  const numbers: Record<string, number> = {
    prompts: report.prompts, clean_logit_diff: report.cleanLogitDiff, corrupted_logit_diff: report.corruptedLogitDiff, effect_heads: effectHeads.length,
  };
  for (const h of effectHeads) {
    const id = `L${h.layer}H${h.head}`;
    numbers[`${id}_patch_effect`] = h.effect;
    numbers[`${id}_attn_to_io`] = h.attnIo;
    numbers[`${id}_attn_to_s1`] = h.attnS1;
    numbers[`${id}_attn_to_s2`] = h.attnS2;
    numbers[`${id}_direct_effect`] = h.directEffect;
  }
  const described = effectHeads.map((h) => `L${h.layer}H${h.head} ${kind(h)} (effect ${fmt(h.effect)}, END→IO ${fmt(h.attnIo)} S1 ${fmt(h.attnS1)} `
    + `S2 ${fmt(h.attnS2)}, direct ${fmt(h.directEffect)})`);
  // Reported, not required: how much of each other effect head's effect reaches a later name mover's query.
  for (const sender of effectHeads.filter((h) => !isNameMover(h))) {
    for (const mover of effectHeads.filter((h) => isNameMover(h) && h.layer > sender.layer)) {
      const path = await queryPathEffect(model, tokenizer, sender, mover, options);
      numbers[`L${sender.layer}H${sender.head}_to_L${mover.layer}H${mover.head}_query_path`] = path;
      described.push(`path L${sender.layer}H${sender.head} → L${mover.layer}H${mover.head} query ${fmt(path)}`);
    }
  }
  return {
    organism,
    method: 'activation patching',
    status: pass ? 'pass' : 'fail',
    summary: `END z patching on ${report.prompts} held-out-name IOI prompts, logit diff IO−S clean ${fmt(report.cleanLogitDiff)} / corrupted `
      + `${fmt(report.corruptedLogitDiff)}; heads restoring ≥ ${IOI_RULES.effectHead}: ${described.join(', ') || 'none'}; expected a few heads reading `
      + `the names at END, a name mover among them${pass ? '' : ` — ${reasons.join('; ')}`}`,
    numbers,
  };
}
