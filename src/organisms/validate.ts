// Method validation on the model organisms: each analysis method is run where the answer is known
// by construction, and the check says whether the method finds it. The thresholds are structural
// (which layer, which token, more or fewer than the hidden size) so that a retrained organism with
// the same mechanism still passes. Head detection and superposition are here; IOI patching is in
// validate-ioi.ts, causal tracing in validate-tracing.ts.

import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { headScores, repeatedRandomTokens } from '../analysis/head-detection.js';
import { loadModel } from '../io/load.js';
import { openSafetensors } from '../io/safetensors.js';
import type { Tokenizer } from '../io/tokenizer.js';
import type { HookedTransformer } from '../models/transformer.js';
import { noGrad } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';
import { wordToken } from './evaluate.js';
import { superpositionStats } from './superposition.js';
import { fmt, type ValidationCheck } from './validate-check.js';
import { WORLD_4L } from './recipes.js';
import { ioiPatchingCheck } from './validate-ioi.js';
import { causalTracingCheck } from './validate-tracing.js';
import { WORLD_WORDS } from './world.js';

export type { CheckStatus, ValidationCheck } from './validate-check.js';
export { ioiPatchingCheck } from './validate-ioi.js';
export { causalTracingCheck } from './validate-tracing.js';

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
    checks.push(await causalTracingCheck(world.model, world.tokenizer, { factLayers: WORLD_4L.factLayers ?? [] }));
  } finally {
    world.model.dispose();
  }
  checks.push(await superpositionCheck(join(modelsFolder, 'superposition-toy')));
  return checks;
}

