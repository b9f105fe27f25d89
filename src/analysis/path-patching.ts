// Path patching (Wang et al. 2022, "Interpretability in the Wild"; as in ARENA's IOI notebook):
// how much of the clean → corrupted difference flows from sender heads to receiver heads along the
// direct path, excluding paths through other heads.
//
//   1. Cache the clean and the corrupted run.
//   2. Run the clean input with the senders' outputs (hook_z) set to their corrupted values and
//      every other head's output frozen to its clean value (MLPs recompute, unless freezeMlps);
//      record the receivers' inputs.
//   3. Run the clean input again with only the receivers' inputs patched in from step 2, and
//      evaluate the metric. With receivers = 'logits', step 2's own logits are the answer (the
//      senders' direct effect on the output, plus what the recomputed MLPs add).
//
// A receiver's "input" is its query, key or value. Our hooks see q/k/v after the projection, so
// we patch the receiver head's slice of hook_q / hook_k / hook_v: q_h = W_Q^h · x is computed from
// x for that head alone, so patching q_h is patching the head's query input. Under grouped-query
// attention, k and v receivers name kv heads (a kv head feeds every query head of its group).
// For the opposite direction (senders clean, everything else corrupted), swap the two prompts.

import type { ActivationCache } from '../hooks/activation-cache.js';
import type { Hook } from '../hooks/hook-set.js';
import type { MaskInput, TokenInput } from '../models/inputs.js';
import type { HookedTransformer } from '../models/transformer.js';
import { noGrad, tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, IndexError } from '../util/errors.js';
import { metricValue, type Metric } from './metrics.js';
import { residualsEntering } from './patching-batch.js';
import type { PatchingResult } from './patching.js';
import {
  SweepProgress, assertSameLength, chunks, copiesPerPass, patchSlots, tileMask, tileRows, tokenRows,
  type SlotRegion, type SweepControl,
} from './sweep-runtime.js';

export interface HeadRef {
  readonly layer: number;
  readonly head: number;
}

/** A receiver: one input (q, k or v) of one head; `head` is a kv head for k and v under GQA. */
export interface ReceiverInput extends HeadRef {
  readonly input: 'q' | 'k' | 'v';
}

export interface PathPatchingOptions extends SweepControl {
  cleanTokens: TokenInput;
  corruptedTokens: TokenInput;
  metric: Metric;
  /** Receiver head inputs, or 'logits' for the senders' path to the output. */
  receivers: readonly ReceiverInput[] | 'logits';
  /** Also freeze every MLP output to its clean value in step 2 (default false: MLPs recompute). */
  freezeMlps?: boolean;
  attentionMask?: MaskInput;
  /** 'batched' (default): several sender sets per forward pass; 'loop': one at a time, full passes. */
  method?: 'batched' | 'loop';
}

/** The metric after path patching from one set of sender heads. */
export async function pathPatching(model: HookedTransformer, senders: readonly HeadRef[], options: PathPatchingOptions): Promise<number> {
  const [value] = await pathPatchValues(model, [senders], options);
  return value;
}

/**
 * Path patching from each single head (as sender) to the receivers: [layer, head] over the layers
 * before the last receiver layer (every layer for 'logits'). The caller owns `values`.
 */
export async function pathPatchingSweep(model: HookedTransformer, options: PathPatchingOptions): Promise<PatchingResult> {
  const c = model.config;
  const layers = options.receivers === 'logits' ? c.nLayers : Math.max(0, ...options.receivers.map((r) => r.layer));
  if (layers === 0) throw new ArgumentError('path patching sweep: receivers in layer 0 have no earlier heads to send to them');
  const senderSets: HeadRef[][] = [];
  for (let layer = 0; layer < layers; layer++) for (let head = 0; head < c.nHeads; head++) senderSets.push([{ layer, head }]);
  const values = await pathPatchValues(model, senderSets, options);
  return { values: tensor(Float32Array.from(values), [layers, c.nHeads], { backend: model.backend }), axes: ['layer', 'head'] };
}

interface PathRun {
  readonly model: HookedTransformer;
  readonly rows: number[][];
  readonly mask: number[][] | null;
  /** Clean hook_z of every layer (and hook_mlp_out with freezeMlps). */
  readonly clean: ActivationCache;
  /** Corrupted hook_z of every layer. */
  readonly corrupted: ActivationCache;
  readonly options: PathPatchingOptions;
}

/** The metric for each sender set, in order. */
async function pathPatchValues(model: HookedTransformer, senderSets: readonly (readonly HeadRef[])[], options: PathPatchingOptions): Promise<number[]> {
  const method = options.method ?? 'batched';
  if (method !== 'batched' && method !== 'loop') throw new ArgumentError(`method must be 'batched' or 'loop', got '${String(method)}'`);
  checkHeads(model, senderSets.flat(), options.receivers);
  const clean = tokenRows(model.config, options.cleanTokens, options.attentionMask);
  const corrupted = tokenRows(model.config, options.corruptedTokens, options.attentionMask);
  assertSameLength(clean.rows, corrupted.rows);
  const c = model.config;
  const zNames = Array.from({ length: c.nLayers }, (_, l) => `blocks.${l}.attn.hook_z`);
  const mlpNames = options.freezeMlps ? Array.from({ length: c.nLayers }, (_, l) => `blocks.${l}.hook_mlp_out`) : [];
  const record = (rows: number[][], names: string[]) => noGrad(() => {
    const { logits, cache } = model.runWithCache(rows, { names, attentionMask: clean.mask ?? undefined });
    logits.dispose();
    return cache;
  });
  const cleanCache = record(clean.rows, [...zNames, ...mlpNames]);
  let corruptedCache: ActivationCache | null = null;
  try {
    corruptedCache = record(corrupted.rows, zNames);
    const run: PathRun = { model, rows: clean.rows, mask: clean.mask, clean: cleanCache, corrupted: corruptedCache, options };
    const progress = new SweepProgress(senderSets.length, options);
    return method === 'loop' ? await pathLoop(run, senderSets, progress) : await pathBatched(run, senderSets, progress);
  } finally {
    cleanCache.dispose();
    corruptedCache?.dispose();
  }
}

/** Step 2's hooks: every head frozen to clean except each slot's senders (corrupted); MLPs optionally frozen. */
function freezeHooks(run: PathRun, senderSets: readonly (readonly HeadRef[])[], batch: number): Hook[] {
  const n = senderSets.length;
  const hooks: Hook[] = [];
  for (let layer = 0; layer < run.model.config.nLayers; layer++) {
    const name = `blocks.${layer}.attn.hook_z`;
    const regions: SlotRegion[] = senderSets.flatMap((set, slot) => set.filter((h) => h.layer === layer).map((h) => ({ slot, region: [null, h.head] })));
    hooks.push({
      name,
      fn: () => (regions.length === 0 ? tileRows(run.clean.get(name), n) : patchSlots(run.clean.get(name), run.corrupted.get(name), n, batch, regions)),
    });
    if (run.options.freezeMlps) {
      const mlp = `blocks.${layer}.hook_mlp_out`;
      hooks.push({ name: mlp, fn: () => tileRows(run.clean.get(mlp), n) });
    }
  }
  return hooks;
}

/** Receiver hook names and the regions (head slices) they patch, for `n` slots. */
function receiverRegions(receivers: readonly ReceiverInput[], n: number): Map<string, SlotRegion[]> {
  const byHook = new Map<string, SlotRegion[]>();
  for (const r of receivers) {
    const name = `blocks.${r.layer}.attn.hook_${r.input}`;
    const list = byHook.get(name) ?? [];
    for (let slot = 0; slot < n; slot++) list.push({ slot, region: [null, r.head] });
    byHook.set(name, list);
  }
  return byHook;
}

/**
 * Sender sets stacked along the batch axis. Below the first sender layer, step 2 equals the clean
 * run (every head frozen to clean, MLPs fed clean inputs), and step 3 equals it below the first
 * receiver layer: both start from the clean residual stream there.
 */
async function pathBatched(run: PathRun, senderSets: readonly (readonly HeadRef[])[], progress: SweepProgress): Promise<number[]> {
  const { model, rows, mask, options } = run;
  const batch = rows.length;
  const pos = rows[0].length;
  const metric = options.metric;
  const positions = metric.logitPositions ?? 'all';
  const receivers = options.receivers;
  const order = senderSets.map((_, i) => i).sort((a, b) => firstLayer(senderSets[a]) - firstLayer(senderSets[b]) || a - b);
  const groups = chunks(order, copiesPerPass(model.config, batch, pos, positions, options));
  const receiverStart = receivers === 'logits' ? null : Math.min(...receivers.map((r) => r.layer));
  const starts = new Set(groups.map((g) => firstLayer(senderSets[g[0]])));
  if (receiverStart !== null) starts.add(receiverStart);
  const residuals = residualsEntering(model, rows, mask, [...starts]);
  const values = new Array<number>(senderSets.length);
  try {
    for (const group of groups) {
      const sets = group.map((i) => senderSets[i]);
      const n = sets.length;
      const start = firstLayer(sets[0]);
      const chunkValues = noGrad(() => tidy(() => {
        const forward = (from: number, hooks: Hook[]) => model.forward(tileRows(residuals.get(from) as Tensor, n), {
          startAtLayer: from, hooks, logitPositions: positions, attentionMask: tileMask(mask, n),
        });
        const perSlot = (logits: Tensor) => sets.map((_, j) => metricValue(metric, logits.narrow(0, j * batch, batch)));
        if (receivers === 'logits') return perSlot(forward(start, freezeHooks(run, sets, batch)));
        const targets = receiverRegions(receivers, n);
        const { cache: recorded } = model.runWithCache(tileRows(residuals.get(start) as Tensor, n), {
          startAtLayer: start, stopAtLayer: Math.max(...receivers.map((r) => r.layer)) + 1,
          hooks: freezeHooks(run, sets, batch), names: [...targets.keys()], attentionMask: tileMask(mask, n),
        });
        try {
          const patchers: Hook[] = [...targets].map(([name, regions]) => ({
            name, fn: (act) => patchSlots(act, recorded.get(name), n, batch, regions),
          }));
          return perSlot(forward(receiverStart as number, patchers));
        } finally {
          recorded.dispose();
        }
      }));
      chunkValues.forEach((v, j) => { values[group[j]] = v; });
      await progress.advance(n);
    }
  } finally {
    for (const t of residuals.values()) t.dispose();
  }
  return values;
}

/** One sender set at a time, full forward passes, plain indexPut hooks: the oracle for pathBatched. */
async function pathLoop(run: PathRun, senderSets: readonly (readonly HeadRef[])[], progress: SweepProgress): Promise<number[]> {
  const { model, rows, mask, options } = run;
  const forwardOptions = { logitPositions: options.metric.logitPositions ?? 'all', attentionMask: mask ?? undefined };
  const values: number[] = [];
  for (const senders of senderSets) {
    values.push(noGrad(() => tidy(() => {
      const step2: Hook[] = [];
      for (let layer = 0; layer < model.config.nLayers; layer++) {
        const name = `blocks.${layer}.attn.hook_z`;
        step2.push({
          name,
          fn: () => senders.filter((h) => h.layer === layer).reduce(
            (z, h) => z.indexPut([null, null, h.head], run.corrupted.get(name).index(null, null, h.head)), run.clean.get(name)),
        });
        if (options.freezeMlps) step2.push({ name: `blocks.${layer}.hook_mlp_out`, fn: () => run.clean.get(`blocks.${layer}.hook_mlp_out`) });
      }
      if (options.receivers === 'logits') return metricValue(options.metric, model.forward(rows, { ...forwardOptions, hooks: step2 }));
      const names = [...new Set(options.receivers.map((r) => `blocks.${r.layer}.attn.hook_${r.input}`))];
      const { logits, cache } = model.runWithCache(rows, { ...forwardOptions, hooks: step2, names });
      logits.dispose();
      try {
        const step3: Hook[] = options.receivers.map((r) => {
          const name = `blocks.${r.layer}.attn.hook_${r.input}`;
          return { name, fn: (act: Tensor) => act.indexPut([null, null, r.head], cache.get(name).index(null, null, r.head)) };
        });
        return metricValue(options.metric, model.forward(rows, { ...forwardOptions, hooks: step3 }));
      } finally {
        cache.dispose();
      }
    })));
    await progress.advance(1);
  }
  return values;
}

function firstLayer(senders: readonly HeadRef[]): number {
  return senders.length === 0 ? 0 : Math.min(...senders.map((h) => h.layer));
}

function checkHeads(model: HookedTransformer, senders: readonly HeadRef[], receivers: PathPatchingOptions['receivers']): void {
  const c = model.config;
  const check = (h: HeadRef, heads: number, what: string) => {
    if (!Number.isInteger(h.layer) || h.layer < 0 || h.layer >= c.nLayers) throw new IndexError(`${what} layer ${h.layer} is out of range 0..${c.nLayers - 1}`);
    if (!Number.isInteger(h.head) || h.head < 0 || h.head >= heads) throw new IndexError(`${what} head ${h.head} is out of range 0..${heads - 1}`);
  };
  for (const h of senders) check(h, c.nHeads, 'sender');
  if (receivers === 'logits') return;
  if (!Array.isArray(receivers) || receivers.length === 0) throw new ArgumentError("receivers must be a non-empty list of { layer, head, input } or 'logits'");
  for (const r of receivers) {
    if (r.input !== 'q' && r.input !== 'k' && r.input !== 'v') throw new ArgumentError(`receiver input must be 'q', 'k' or 'v', got '${String(r.input)}'`);
    check(r, r.input === 'q' ? c.nHeads : c.nKvHeads, `receiver ${r.input}`);
  }
}
