// Activation patching (as TransformerLens's patching.py): run the corrupted prompt, replace one
// activation region with its value from the clean run, and record the metric — for every layer
// and position (or head) of one kind of activation. A patch that moves the metric from the
// corrupted value towards the clean one marks an activation that carries the difference.
//
//   const metric = logitDiff(answer, wrong);
//   const { values, axes } = await activationPatching(model, 'resid_pre', { cleanTokens, corruptedTokens, metric });
//   // values: [layer, pos]; normalisedMetric(metric, baselines) maps corrupted → 0, clean → 1.

import type { ActivationCache } from '../hooks/activation-cache.js';
import type { MaskInput, TokenInput } from '../models/inputs.js';
import type { HookedTransformer } from '../models/transformer.js';
import { noGrad, tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../util/errors.js';
import { metricValue, type Metric } from './metrics.js';
import { checkCleanCache, patchBatched, patchLoop, type PatchRun } from './patching-batch.js';
import { planFor, stackedPlan, type PatchPlan, type PatchTarget } from './patching-targets.js';
import { SweepProgress, assertSameLength, tokenRows, type SweepControl } from './sweep-runtime.js';

export interface ActivationPatchingOptions extends SweepControl {
  /** The prompt(s) patched into: [pos] or [batch, pos]. */
  corruptedTokens: TokenInput;
  /** Clean activations (model.runWithCache(cleanTokens)); must hold every hook the sweep patches. */
  cleanCache?: ActivationCache;
  /** Instead of cleanCache: the clean prompt(s); only the activations the sweep needs are cached. */
  cleanTokens?: TokenInput;
  /** Evaluated on the logits of each patched run (see metrics.ts). */
  metric: Metric;
  /** Padding mask shared by the clean and corrupted prompts. */
  attentionMask?: MaskInput;
  /** 'batched' (default): many patches per forward pass; 'loop': one full forward pass per patch. */
  method?: 'batched' | 'loop';
}

/** A sweep's result. The caller owns `values` (dispose it, or let a tidy do it). */
export interface PatchingResult {
  /** The metric after each patch, float32, shaped by `axes` (e.g. [layer, pos]). */
  values: Tensor;
  axes: readonly string[];
  /** Names of the entries of categorical axes, e.g. { component: ['resid_pre', 'attn_out', 'mlp_out'] }. */
  labels?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Patches the clean activation of `target` into the corrupted run at every (layer, position) —
 * or (layer, head), (layer, pos, head), (layer, head, dest_pos), depending on the target (see
 * PatchTarget) — and returns the metric of each patched run.
 */
export async function activationPatching(model: HookedTransformer, target: PatchTarget,
  options: ActivationPatchingOptions): Promise<PatchingResult> {
  const pos = tokenRows(model.config, options.corruptedTokens, options.attentionMask).rows[0].length;
  return runPatchPlan(model, planFor(target, model.config, pos), options);
}

/** resid_pre, attn_out and mlp_out at every (layer, pos), stacked: [3, layer, pos] (TL's get_act_patch_block_every). */
export async function patchBlockEvery(model: HookedTransformer, options: ActivationPatchingOptions): Promise<PatchingResult> {
  const pos = tokenRows(model.config, options.corruptedTokens, options.attentionMask).rows[0].length;
  return runPatchPlan(model, stackedPlan(['resid_pre', 'attn_out', 'mlp_out'], model.config, pos), options);
}

/**
 * z, q, k, v and pattern of every head over all positions, stacked: [5, layer, head] (TL's
 * get_act_patch_attn_head_all_pos_every). Under grouped-query attention the k and v rows hold
 * nKvHeads values and NaN beyond (TransformerLens pads with zeros, which reads as "no effect").
 */
export async function patchHeadsEvery(model: HookedTransformer, options: ActivationPatchingOptions): Promise<PatchingResult> {
  const pos = tokenRows(model.config, options.corruptedTokens, options.attentionMask).rows[0].length;
  return runPatchPlan(model, stackedPlan(['z', 'q', 'k', 'v', 'pattern'], model.config, pos), options);
}

/** Runs any plan (planFor, stackedPlan, or a hand-made list of patches — TL's index_df). */
export async function runPatchPlan(model: HookedTransformer, plan: PatchPlan, options: ActivationPatchingOptions): Promise<PatchingResult> {
  const method = options.method ?? 'batched';
  if (method !== 'batched' && method !== 'loop') throw new ArgumentError(`method must be 'batched' or 'loop', got '${String(method)}'`);
  if (typeof options.metric !== 'function') throw new ArgumentError(`metric must be a function of the logits, got ${typeof options.metric}`);
  const corrupted = tokenRows(model.config, options.corruptedTokens, options.attentionMask);
  const hooks = [...new Set(plan.patches.map((p) => p.hook))];
  const { cache, owned } = cleanCacheFor(model, options, corrupted.rows, hooks);
  try {
    const run: PatchRun = { model, rows: corrupted.rows, mask: corrupted.mask, clean: cache, metric: options.metric };
    checkCleanCache(run, plan.patches);
    const progress = new SweepProgress(plan.patches.length, options);
    const values = method === 'loop'
      ? await patchLoop(run, plan.patches, progress)
      : await patchBatched(run, plan.patches, options, progress);
    const size = plan.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size).fill(NaN);
    plan.patches.forEach((p, i) => { data[p.slot] = values[i]; });
    const result: PatchingResult = { values: tensor(data, [...plan.shape], { backend: model.backend }), axes: plan.axes };
    if (plan.labels) result.labels = plan.labels;
    return result;
  } finally {
    if (owned) cache.dispose();
  }
}

/** The user's clean cache, or one computed from cleanTokens holding only `hooks` (owned: we dispose it). */
function cleanCacheFor(model: HookedTransformer, options: ActivationPatchingOptions, corruptedRows: number[][],
  hooks: readonly string[]): { cache: ActivationCache; owned: boolean } {
  if (options.cleanCache !== undefined && options.cleanTokens !== undefined) {
    throw new ArgumentError('give cleanCache or cleanTokens, not both');
  }
  if (options.cleanCache !== undefined) return { cache: options.cleanCache, owned: false };
  if (options.cleanTokens === undefined) throw new ArgumentError('activation patching needs cleanCache or cleanTokens');
  const clean = tokenRows(model.config, options.cleanTokens, options.attentionMask);
  assertSameLength(clean.rows, corruptedRows);
  const cache = noGrad(() => {
    const { logits, cache: recorded } = model.runWithCache(clean.rows, { names: [...hooks], attentionMask: clean.mask ?? undefined });
    logits.dispose();
    return recorded;
  });
  return { cache, owned: true };
}

/** The metric on the clean and on the corrupted run: the anchors of normalisedMetric. */
export function metricBaselines(model: HookedTransformer, metric: Metric,
  inputs: { cleanTokens: TokenInput; corruptedTokens: TokenInput; attentionMask?: MaskInput }): { clean: number; corrupted: number } {
  const run = (tokens: TokenInput): number => noGrad(() => tidy(() => metricValue(metric, model.forward(tokens, {
    logitPositions: metric.logitPositions ?? 'all', attentionMask: inputs.attentionMask,
  }))));
  return { clean: run(inputs.cleanTokens), corrupted: run(inputs.corruptedTokens) };
}
