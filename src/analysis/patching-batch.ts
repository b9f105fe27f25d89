// The two engines of activation patching. Both give the metric of the corrupted run with one
// region of one activation replaced by the clean run's, for every patch of a plan.
//
// loop: one forward pass per patch, the whole model each time (TransformerLens's way; the oracle).
// batched: many patches per forward pass. The corrupted input is stacked n times along the batch
// axis and each hook patches only its own copy's rows. A pass skips what its patches cannot change
// (patching-passes.ts): the blocks below its first layer start from the corrupted run's cached
// resid_pre (startAtLayer), and the positions before its first patched position come from the
// corrupted run's keys and values (a KV cache). A resid_pre sweep over every (layer, pos) of a
// 12-layer model thus runs under half the token-blocks the loop runs, in fewer, larger matmuls.

import type { ActivationCache } from '../hooks/activation-cache.js';
import type { Hook, HookPointInfo } from '../hooks/hook-set.js';
import { KVCache } from '../models/kv-cache.js';
import type { HookedTransformer } from '../models/transformer.js';
import { noGrad, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { metricValue, type Metric } from './metrics.js';
import {
  firstAffectedPosition, maxPrefixFor, planPasses, suffixLogitPositions, type Pass,
} from './patching-passes.js';
import { regionsByHook, type Patch } from './patching-targets.js';
import {
  cleanActivation, copiesPerPass, patchSlots, tileMask, tileRows, type SweepControl, type SweepProgress,
} from './sweep-runtime.js';

/** Everything a sweep's forward passes share. */
export interface PatchRun {
  readonly model: HookedTransformer;
  /** Corrupted token rows [batch][pos] and their padding mask. */
  readonly rows: number[][];
  readonly mask: number[][] | null;
  /** Clean activations at every hook the patches touch; same batch and length as `rows`. */
  readonly clean: ActivationCache;
  readonly metric: Metric;
}

/** Checks that the clean cache holds every hook the patches need, with matching shapes. */
export function checkCleanCache(run: PatchRun, patches: readonly Patch[]): void {
  for (const hook of new Set(patches.map((p) => p.hook))) {
    cleanActivation(run.clean, hook, run.rows.length, run.rows[0].length);
  }
}

/** The metric after each patch (in the patches' order), one forward pass per patch. */
export async function patchLoop(run: PatchRun, patches: readonly Patch[], progress: SweepProgress): Promise<Float64Array> {
  const { model, rows, mask, clean, metric } = run;
  const values = new Float64Array(patches.length);
  for (let i = 0; i < patches.length; i++) {
    const patch = patches[i];
    values[i] = noGrad(() => tidy(() => {
      const source = cleanActivation(clean, patch.hook, rows.length, rows[0].length);
      const spec = [null, ...patch.region];
      const hook: Hook = { name: patch.hook, fn: (act) => act.indexPut(spec, source.index(...spec)) };
      const logits = model.forward(rows, {
        hooks: [hook], logitPositions: metric.logitPositions ?? 'all', attentionMask: mask ?? undefined,
      });
      return metricValue(metric, logits);
    }));
    await progress.advance(1);
  }
  return values;
}

/** The metric after each patch (in the patches' order), many patches per forward pass. */
export async function patchBatched(run: PatchRun, patches: readonly Patch[], control: SweepControl,
  progress: SweepProgress): Promise<Float64Array> {
  const { model, rows, mask, metric } = run;
  const batch = rows.length;
  const pos = rows[0].length;
  const positions = metric.logitPositions ?? 'all';
  const points = new Map(model.hookPoints.map((p) => [p.name, p]));
  const first = patches.map((p) => firstAffectedPosition(p, points));
  // Padding shifts positions per row, so suffixes are only cut from unpadded prompts.
  const maxPrefix = mask === null ? maxPrefixFor(positions, pos) : 0;
  const perPass = copiesPerPass(model.config, batch, pos, positions, control);
  const passes = planPasses(patches, first, perPass, batch, pos, maxPrefix);
  const residuals = residualsEntering(model, rows, mask, [...new Set(passes.map((p) => p.startLayer))]);
  const pastKV = passes.some((p) => p.prefix > 0) ? corruptedKeysValues(model, rows) : null;
  const values = new Float64Array(patches.length);
  try {
    for (const pass of passes) {
      const chunk = pass.indices.map((i) => patches[i]);
      const chunkValues = runPass(run, chunk, pass, residuals.get(pass.startLayer) as Tensor, pastKV, points);
      chunkValues.forEach((v, j) => { values[pass.indices[j]] = v; });
      await progress.advance(chunk.length);
    }
  } finally {
    for (const t of residuals.values()) t.dispose();
    pastKV?.dispose();
  }
  return values;
}

/** One forward pass over n stacked copies of the batch, each patched by one patch; the metric per copy. */
function runPass(run: PatchRun, chunk: readonly Patch[], pass: Pass, residual: Tensor, pastKV: ActivationCache | null,
  points: ReadonlyMap<string, HookPointInfo>): number[] {
  const { model, rows, mask, metric } = run;
  const batch = rows.length;
  const pos = rows[0].length;
  const n = chunk.length;
  const { prefix, startLayer } = pass;
  return noGrad(() => tidy(() => {
    const hooks: Hook[] = [...regionsByHook(chunk)].map(([name, regions]) => {
      const posAxis = (points.get(name)?.axes ?? []).findIndex((a) => a === 'pos' || a === 'query_pos');
      const clean = cleanActivation(run.clean, name, batch, pos);
      const source = prefix === 0 ? clean : clean.narrow(posAxis, prefix, pos - prefix);
      const shifted = prefix === 0 ? regions : regions.map(({ slot, region }) => ({
        slot, region: region.map((index, axis) => (axis === posAxis - 1 && index !== null ? index - prefix : index)),
      }));
      return { name, fn: (act: Tensor) => patchSlots(act, source, n, batch, shifted) };
    });
    let kvCache: KVCache | undefined;
    if (prefix > 0 && pastKV !== null) {
      kvCache = new KVCache(model.config.nLayers);
      for (let l = 0; l < model.config.nLayers; l++) {
        const [k, v] = pastKVNames(model, l).map((name) => tileRows((pastKV.get(name)).narrow(1, 0, prefix), n));
        kvCache.append(l, k, v);
      }
    }
    try {
      const input = prefix === 0 ? residual : residual.narrow(1, prefix, pos - prefix);
      const logits = model.forward(tileRows(input, n), {
        startAtLayer: startLayer, hooks, kvCache, attentionMask: tileMask(mask, n),
        logitPositions: suffixLogitPositions(metric.logitPositions ?? 'all', prefix),
      });
      return chunk.map((_, j) => metricValue(metric, logits.narrow(0, j * batch, batch)));
    } finally {
      kvCache?.dispose();
    }
  }));
}

/** The names under which the KV cache's keys (after rotary) and values of a layer are cached. */
function pastKVNames(model: HookedTransformer, layer: number): [string, string] {
  const k = model.config.positional === 'rotary' ? 'hook_rot_k' : 'hook_k';
  return [`blocks.${layer}.attn.${k}`, `blocks.${layer}.attn.hook_v`];
}

/** Keys and values of every layer in the unpatched corrupted run (what the KV cache would hold). */
function corruptedKeysValues(model: HookedTransformer, rows: number[][]): ActivationCache {
  const names = Array.from({ length: model.config.nLayers }, (_, l) => pastKVNames(model, l)).flat();
  return noGrad(() => {
    const { logits, cache } = model.runWithCache(rows, { names, logitPositions: 'last' });
    logits.dispose();
    return cache;
  });
}

/**
 * The residual stream entering each of `layers` in an unhooked run of `rows` (resid_pre; the
 * embedding output for layer 0). The caller owns the tensors.
 */
export function residualsEntering(model: HookedTransformer, rows: number[][], mask: number[][] | null,
  layers: readonly number[]): Map<number, Tensor> {
  const out = new Map<number, Tensor>();
  if (layers.length === 0) return out;
  const last = Math.max(...layers);
  const names = layers.filter((l) => l < last).map((l) => `blocks.${l}.hook_resid_pre`);
  noGrad(() => {
    // stopAtLayer returns the residual entering block `last`; the others are cached on the way.
    const { logits, cache } = model.runWithCache(rows, { names, stopAtLayer: last, attentionMask: mask ?? undefined });
    out.set(last, logits);
    for (const l of layers) {
      if (l === last) continue;
      out.set(l, cache.get(`blocks.${l}.hook_resid_pre`).clone());
    }
    cache.dispose();
  });
  return out;
}
