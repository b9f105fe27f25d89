// Method validation on the model organisms: each analysis method is run where the answer is known
// by construction, and the check says whether the method finds it. The thresholds are structural
// (which layer, which token, more or fewer than the hidden size) so that a retrained organism with
// the same mechanism still passes.

import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { headScores, repeatedRandomTokens } from '../analysis/head-detection.js';
import { logitDiff } from '../analysis/metrics.js';
import { activationPatching, metricBaselines } from '../analysis/patching.js';
import { loadModel } from '../io/load.js';
import { openSafetensors } from '../io/safetensors.js';
import type { Tokenizer } from '../io/tokenizer.js';
import type { HookedTransformer } from '../models/transformer.js';
import { Rng, noGrad } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';
import { ioiEvalSet } from './data/ioi.js';
import { wordToken } from './evaluate.js';
import { superpositionStats } from './superposition.js';
import { WORLD_WORDS } from './world.js';

export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface ValidationCheck {
  organism: string;
  method: string;
  status: CheckStatus;
  /** One line: what was measured against what was expected. */
  summary: string;
  /** The measured numbers the verdict rests on. */
  numbers: Record<string, number>;
}

/** Head scores need this much more in the expected layer than anywhere else. */
const HEAD_MARGIN = 0.1;

function layerMax(scores: number[][], layer: number): number {
  return Math.max(...scores[layer]);
}

function othersMax(scores: number[][], layer: number): number {
  return Math.max(...scores.flatMap((row, l) => (l === layer ? [] : row)));
}

/** [layer][head] scores of one detection kind on repeated random tokens. */
function detectionScores(model: HookedTransformer, rows: number[][]): { induction: number[][]; previous: number[][] } {
  const c = model.config;
  const names = Array.from({ length: c.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  return noGrad(() => {
    const { logits, cache } = model.runWithCache(rows, { names, logitPositions: 'last' });
    try {
      const read = (kind: 'induction' | 'previous_token') => {
        const t = headScores(model, cache, rows, kind);
        const data = t.toArray();
        t.dispose();
        return Array.from({ length: c.nLayers }, (_, l) => Array.from(data.subarray(l * c.nHeads, (l + 1) * c.nHeads)));
      };
      return { induction: read('induction'), previous: read('previous_token') };
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });
}

/**
 * attn-only-2l: on repeated random tokens the best induction head is in layer 1 and the best
 * previous-token head in layer 0, each at least HEAD_MARGIN above every head of the other layer.
 */
export function headDetectionCheck(model: HookedTransformer, tokenizer: Tokenizer, organism = 'attn-only-2l'): ValidationCheck {
  if (model.config.nLayers !== 2) throw new ArgumentError(`headDetectionCheck expects a 2-layer model, got ${model.config.nLayers} layers`);
  // Random ids from the span of the world's word tokens: byte tokens the training text never
  // produced would leave the heads with embeddings they never learned to read.
  const words = WORLD_WORDS.map((w) => wordToken(tokenizer, w));
  const rows = repeatedRandomTokens(model, { length: 20, batch: 8, seed: 0, low: Math.min(...words), high: Math.max(...words) + 1 });
  const { induction, previous } = detectionScores(model, rows);
  const numbers = {
    induction_layer1_max: layerMax(induction, 1),
    induction_layer0_max: layerMax(induction, 0),
    previous_token_layer0_max: layerMax(previous, 0),
    previous_token_layer1_max: layerMax(previous, 1),
  };
  const inductionMargin = numbers.induction_layer1_max - othersMax(induction, 1);
  const previousMargin = numbers.previous_token_layer0_max - othersMax(previous, 0);
  const pass = inductionMargin >= HEAD_MARGIN && previousMargin >= HEAD_MARGIN;
  return {
    organism,
    method: 'head detection',
    status: pass ? 'pass' : 'fail',
    summary: `induction best in L1 (${fmt(numbers.induction_layer1_max)} vs L0 ${fmt(numbers.induction_layer0_max)}), `
      + `previous-token best in L0 (${fmt(numbers.previous_token_layer0_max)} vs L1 ${fmt(numbers.previous_token_layer1_max)}); margin ≥ ${HEAD_MARGIN}`,
    numbers,
  };
}

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

/** Attention from the last position to the IO token and to the S tokens (both mentions), averaged over prompts. */
function endAttention(model: HookedTransformer, groups: readonly IoiRows[], heads: readonly (readonly [number, number])[]): { io: number; s: number }[] {
  const c = model.config;
  const sums = heads.map(() => ({ io: 0, s: 0 }));
  let prompts = 0;
  const layers = [...new Set(heads.map(([l]) => l))];
  for (const g of groups) {
    noGrad(() => {
      const { logits, cache } = model.runWithCache(g.clean, { names: layers.map((l) => `blocks.${l}.attn.hook_pattern`), logitPositions: 'last' });
      try {
        const T = g.clean[0].length;
        heads.forEach(([l, h], k) => {
          const pattern = cache.get(`blocks.${l}.attn.hook_pattern`).toArray(); // [batch, head, query, key]
          g.clean.forEach((row, b) => {
            const base = ((b * c.nHeads + h) * T + (T - 1)) * T;
            row.forEach((t, key) => {
              if (t === g.io[b]) sums[k].io += pattern[base + key];
              else if (t === g.s[b]) sums[k].s += pattern[base + key];
            });
          });
        });
      } finally {
        logits.dispose();
        cache.dispose();
      }
    });
    prompts += g.clean.length;
  }
  return sums.map(({ io, s }) => ({ io: io / prompts, s: s / prompts }));
}

/**
 * world-4l: patching each head's z (all positions) from clean IOI prompts into name-swapped ones
 * restores the logit difference IO − S; the heads that restore most attend from the last position
 * to IO more than to S (name movers). Effects are normalised: 0 = corrupted, 1 = clean.
 */
export async function ioiPatchingCheck(model: HookedTransformer, tokenizer: Tokenizer,
  options: { count?: number; seed?: number; topHeads?: number; organism?: string } = {}): Promise<ValidationCheck> {
  const { count = 24, seed = 2718, topHeads = 2, organism = 'world-4l' } = options;
  const c = model.config;
  const groups = ioiGroups(tokenizer, count, seed);
  const effect = new Float64Array(c.nLayers * c.nHeads);
  let clean = 0;
  let corrupted = 0;
  for (const g of groups) {
    const metric = logitDiff(g.io, g.s);
    const base = metricBaselines(model, metric, { cleanTokens: g.clean, corruptedTokens: g.corrupted });
    const result = await activationPatching(model, 'z', { cleanTokens: g.clean, corruptedTokens: g.corrupted, metric });
    const values = result.values.toArray();
    result.values.dispose();
    const weight = g.clean.length / count;
    values.forEach((v, i) => { effect[i] += weight * (v - base.corrupted); });
    clean += weight * base.clean;
    corrupted += weight * base.corrupted;
  }
  const ranked = Array.from(effect.keys()).sort((a, b) => effect[b] - effect[a]).slice(0, topHeads);
  const heads = ranked.map((i) => [Math.floor(i / c.nHeads), i % c.nHeads] as const);
  const attention = endAttention(model, groups, heads);
  const span = clean - corrupted;
  const numbers: Record<string, number> = { prompts: count, clean_logit_diff: clean, corrupted_logit_diff: corrupted };
  heads.forEach(([l, h], k) => {
    numbers[`L${l}H${h}_patch_effect`] = effect[ranked[k]] / span;
    numbers[`L${l}H${h}_attn_to_io`] = attention[k].io;
    numbers[`L${l}H${h}_attn_to_s`] = attention[k].s;
  });
  const pass = span > 0 && attention.every((a) => a.io > a.s);
  const described = heads.map(([l, h], k) => `L${l}H${h} (effect ${fmt(effect[ranked[k]] / span)}, END→IO ${fmt(attention[k].io)} vs →S ${fmt(attention[k].s)})`);
  return {
    organism,
    method: 'activation patching',
    status: pass ? 'pass' : 'fail',
    summary: `z patching on ${count} held-out-name IOI prompts, logit diff IO−S clean ${fmt(clean)} / corrupted ${fmt(corrupted)}; `
      + `top heads ${described.join(', ')}; expected END→IO > END→S`,
    numbers,
  };
}

/**
 * superposition-toy: the dense model (S = 0) represents at most n_hidden features and the
 * sparsest more than n_hidden (features with ‖W_i‖ > 0.5).
 */
export async function superpositionCheck(folder: string, organism = 'superposition-toy'): Promise<ValidationCheck> {
  const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as { n_hidden: number; n_features: number; sparsities: number[] };
  const file = await openSafetensors(join(folder, 'model.safetensors'));
  let W: Float32Array;
  try {
    W = Float32Array.from((await file.read('W')).data as ArrayLike<number>);
  } finally {
    await file.close();
  }
  const size = config.n_hidden * config.n_features;
  if (W.length !== size * config.sparsities.length) {
    throw new ArgumentError(`${folder}: W has ${W.length} values, expected ${config.sparsities.length} × ${config.n_hidden} × ${config.n_features}`);
  }
  const stats = config.sparsities.map((_, i) => superpositionStats(W.subarray(i * size, (i + 1) * size), config.n_hidden, config.n_features));
  const denseIndex = config.sparsities.indexOf(Math.min(...config.sparsities));
  const sparseIndex = config.sparsities.indexOf(Math.max(...config.sparsities));
  const dense = stats[denseIndex].representedFeatures;
  const sparse = stats[sparseIndex].representedFeatures;
  const numbers: Record<string, number> = { n_hidden: config.n_hidden, n_features: config.n_features };
  config.sparsities.forEach((s, i) => { numbers[`represented_at_S=${s}`] = stats[i].representedFeatures; });
  const pass = config.sparsities[denseIndex] === 0 && dense <= config.n_hidden && sparse > config.n_hidden;
  return {
    organism,
    method: 'superposition',
    status: pass ? 'pass' : 'fail',
    summary: `features represented in ${config.n_hidden} dims: ${dense} at S=${config.sparsities[denseIndex]} (expected ≤ ${config.n_hidden}), `
      + `${sparse} at S=${config.sparsities[sparseIndex]} (expected > ${config.n_hidden}); by S: ${stats.map((s) => s.representedFeatures).join(' ')}`,
    numbers,
  };
}

/** Causal tracing (ROME's corrupted-subject restoration) has no implementation yet. */
export function causalTracingCheck(organism = 'world-4l'): ValidationCheck {
  return { organism, method: 'causal tracing', status: 'skipped', summary: 'skipped (not implemented)', numbers: {} };
}

/** Every check on the organisms in `modelsFolder` (holding attn-only-2l, world-4l and superposition-toy). */
export async function validateOrganisms(modelsFolder: string): Promise<ValidationCheck[]> {
  const checks: ValidationCheck[] = [];
  const attnOnly = await loadModel(join(modelsFolder, 'attn-only-2l'));
  try {
    if (attnOnly.tokenizer === null) throw new ArgumentError(`${join(modelsFolder, 'attn-only-2l')} has no tokenizer.json; head detection needs it`);
    checks.push(headDetectionCheck(attnOnly.model, attnOnly.tokenizer));
  } finally {
    attnOnly.model.dispose();
  }
  const world = await loadModel(join(modelsFolder, 'world-4l'));
  try {
    if (world.tokenizer === null) throw new ArgumentError(`${join(modelsFolder, 'world-4l')} has no tokenizer.json; the IOI check needs it`);
    checks.push(await ioiPatchingCheck(world.model, world.tokenizer));
  } finally {
    world.model.dispose();
  }
  checks.push(await superpositionCheck(join(modelsFolder, 'superposition-toy')));
  checks.push(causalTracingCheck());
  return checks;
}

function fmt(x: number): string {
  return x.toFixed(3);
}
