// The two engines of causal tracing. Each gives, for a list of restorations, the probability of
// the answer at the last position averaged over the noise samples, in a corrupted run where the
// restored states take their values from the clean run (ROME's trace_with_patch).
//
// loop: one forward pass of all noise samples per restoration, from the tokens (ROME's way; the oracle).
// batched: many restorations per pass, as the activation-patching sweeps do it. The corrupted run
// is computed once; a pass over restorations whose first restored layer is ≥ l and position ≥ p
// starts at block l from the corrupted residual stream and feeds only positions p.. (earlier
// positions come from the corrupted run's keys and values through a KV cache), with the samples of
// every restoration stacked along the batch axis.

import type { ActivationCache } from '../hooks/activation-cache.js';
import type { Hook } from '../hooks/hook-set.js';
import { planPasses, type Pass } from '../analysis/patching-passes.js';
import type { Patch } from '../analysis/patching-targets.js';
import { copiesPerPass, patchSlots, tileRows, type SlotRegion, type SweepControl, type SweepProgress } from '../analysis/sweep-runtime.js';
import { KVCache } from '../models/kv-cache.js';
import type { HookedTransformer } from '../models/transformer.js';
import { noGrad, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { SubjectRange } from './subject.js';
import { corruptSubjectHook } from './trace-noise.js';

/** What is restored: the residual stream after a block, or a block's MLP or attention output. */
export type TraceKind = 'resid' | 'mlp' | 'attn';

export const TRACE_KINDS: readonly TraceKind[] = ['resid', 'mlp', 'attn'];

/** The hook whose output a restoration of `kind` at `layer` replaces (ROME's layer output, mlp, attn). */
export function traceHookName(kind: TraceKind, layer: number): string {
  switch (kind) {
    case 'resid': return `blocks.${layer}.hook_resid_post`;
    case 'mlp': return `blocks.${layer}.hook_mlp_out`;
    case 'attn': return `blocks.${layer}.hook_attn_out`;
    default: return kind satisfies never;
  }
}

/**
 * The layers restored together around `layer`: ROME's window, [layer − ⌊w/2⌋, layer + ⌈w/2⌉)
 * clamped to the model (w = 1: the layer alone).
 */
export function windowLayers(layer: number, window: number, nLayers: number): number[] {
  const first = Math.max(0, layer - Math.floor(window / 2));
  const last = Math.min(nLayers, layer + Math.ceil(window / 2));
  return Array.from({ length: last - first }, (_, i) => first + i);
}

/** Clean states of one kind at `layers` and one position, written into the corrupted run. */
export interface Restoration {
  readonly kind: TraceKind;
  readonly layers: readonly number[];
  readonly position: number;
}

/** One prompt's tracing inputs. */
export interface TraceRun {
  readonly model: HookedTransformer;
  readonly tokens: readonly number[];
  readonly subject: SubjectRange;
  readonly answer: number;
  readonly samples: number;
  /** [samples, subject tokens, d_model] */
  readonly noise: Float32Array;
  /** Clean activations at every hook the restorations touch ([1, pos, d_model]). */
  readonly clean: ActivationCache;
}

/** P(answer) at the last position of each row, averaged over consecutive groups of `samples` rows. */
function meanAnswerProbability(logits: Tensor, answer: number, samples: number): number[] {
  return noGrad(() => tidy(() => {
    const [rows, , vocab] = logits.shape;
    const probs = logits.reshape(rows, vocab).softmax(-1).narrow(1, answer, 1);
    return Array.from(probs.reshape(rows / samples, samples).mean(1).toArray());
  }));
}

/** The samples × pos token batch: the prompt repeated once per noise sample. */
function sampleRows(run: TraceRun): number[][] {
  return Array.from({ length: run.samples }, () => [...run.tokens]);
}

/** P(answer) in the corrupted run with no restoration (ROME's low score). */
export function corruptedScore(run: TraceRun): number {
  const hook = corruptSubjectHook(run.noise, run.samples, run.subject);
  return noGrad(() => tidy(() => meanAnswerProbability(
    run.model.forward(sampleRows(run), { hooks: [hook], logitPositions: 'last' }), run.answer, run.samples,
  )[0]));
}

/** Hooks that write the clean state of each restoration's layers at its position, all sample rows. */
function restoreHooks(run: TraceRun, restoration: Restoration): Hook[] {
  const p = restoration.position;
  return restoration.layers.map((layer) => {
    const name = traceHookName(restoration.kind, layer);
    return { name, fn: (act: Tensor) => act.indexPut([null, p], run.clean.get(name).index(0, p)) };
  });
}

/** The score after each restoration, one full forward pass each. */
export async function restoreLoop(run: TraceRun, restorations: readonly Restoration[], progress: SweepProgress): Promise<Float64Array> {
  const values = new Float64Array(restorations.length);
  const corrupt = corruptSubjectHook(run.noise, run.samples, run.subject);
  for (let i = 0; i < restorations.length; i++) {
    values[i] = noGrad(() => tidy(() => meanAnswerProbability(run.model.forward(sampleRows(run), {
      hooks: [corrupt, ...restoreHooks(run, restorations[i])], logitPositions: 'last',
    }), run.answer, run.samples)[0]));
    await progress.advance(1);
  }
  return values;
}

/** Keys (after rotary) and values of a layer, under the names the KV cache is filled from. */
function keyValueNames(model: HookedTransformer, layer: number): [string, string] {
  const k = model.config.positional === 'rotary' ? 'hook_rot_k' : 'hook_k';
  return [`blocks.${layer}.attn.${k}`, `blocks.${layer}.attn.hook_v`];
}

/** The corrupted run's residual stream entering every block, and its keys and values. */
function corruptedRun(run: TraceRun): ActivationCache {
  const { model } = run;
  const names: string[] = [];
  for (let l = 0; l < model.config.nLayers; l++) names.push(`blocks.${l}.hook_resid_pre`, ...keyValueNames(model, l));
  return noGrad(() => {
    const { logits, cache } = model.runWithCache(sampleRows(run), {
      names, hooks: [corruptSubjectHook(run.noise, run.samples, run.subject)], logitPositions: 'last',
    });
    logits.dispose();
    return cache;
  });
}

/** The score after each restoration, many restorations per forward pass. */
export async function restoreBatched(run: TraceRun, restorations: readonly Restoration[], control: SweepControl,
  progress: SweepProgress): Promise<Float64Array> {
  const { model, samples } = run;
  const pos = run.tokens.length;
  // The pass planner of the patching sweeps only reads each item's first layer and position.
  const items: Patch[] = restorations.map((r, slot) => ({ hook: '', layer: Math.min(...r.layers), region: [r.position], slot }));
  const perPass = copiesPerPass(model.config, samples, pos, 'last', control);
  const passes = planPasses(items, restorations.map((r) => r.position), perPass, samples, pos, pos - 1);
  const values = new Float64Array(restorations.length);
  const corrupted = corruptedRun(run);
  try {
    for (const pass of passes) {
      const scores = runPass(run, pass, pass.indices.map((i) => restorations[i]), corrupted);
      scores.forEach((v, j) => { values[pass.indices[j]] = v; });
      await progress.advance(pass.indices.length);
    }
  } finally {
    corrupted.dispose();
  }
  return values;
}

/** One forward pass over n stacked copies of the noise samples, copy j restored by chunk[j]. */
function runPass(run: TraceRun, pass: Pass, chunk: readonly Restoration[], corrupted: ActivationCache): number[] {
  const { model, samples } = run;
  const pos = run.tokens.length;
  const n = chunk.length;
  const { prefix, startLayer } = pass;
  return noGrad(() => tidy(() => {
    const regions = new Map<string, SlotRegion[]>();
    chunk.forEach((r, slot) => {
      for (const layer of r.layers) {
        const name = traceHookName(r.kind, layer);
        regions.set(name, [...(regions.get(name) ?? []), { slot, region: [r.position - prefix] }]);
      }
    });
    const hooks: Hook[] = [...regions].map(([name, slots]) => {
      // [samples, suffix, d_model]: the clean state (batch 1) seen by every sample.
      const source = run.clean.get(name).narrow(1, prefix, pos - prefix).expand(samples, -1, -1);
      return { name, fn: (act: Tensor) => patchSlots(act, source, n, samples, slots) };
    });
    let kvCache: KVCache | undefined;
    if (prefix > 0) {
      kvCache = new KVCache(model.config.nLayers);
      for (let l = 0; l < model.config.nLayers; l++) {
        const [k, v] = keyValueNames(model, l).map((name) => tileRows(corrupted.get(name).narrow(1, 0, prefix), n));
        kvCache.append(l, k, v);
      }
    }
    try {
      const residual = corrupted.get(`blocks.${startLayer}.hook_resid_pre`).narrow(1, prefix, pos - prefix);
      const logits = model.forward(tileRows(residual, n), { startAtLayer: startLayer, hooks, kvCache, logitPositions: 'last' });
      return meanAnswerProbability(logits, run.answer, samples);
    } finally {
      kvCache?.dispose();
    }
  }));
}

/** Clean activations at the hooks of `kinds` (every layer), P(answer) and the top token of the clean run. */
export function cleanRun(model: HookedTransformer, tokens: readonly number[], kinds: readonly TraceKind[], answer: number | null):
  { cache: ActivationCache; top: number; topScore: number; answerScore: number | null } {
  const names = kinds.flatMap((kind) => Array.from({ length: model.config.nLayers }, (_, l) => traceHookName(kind, l)));
  return noGrad(() => {
    const { logits, cache } = model.runWithCache([[...tokens]], { names, logitPositions: 'last' });
    try {
      const probs = tidy(() => logits.reshape(-1).softmax(-1).toArray());
      let top = 0;
      for (let i = 1; i < probs.length; i++) if (probs[i] > probs[top]) top = i;
      return { cache, top, topScore: probs[top], answerScore: answer === null ? null : probs[answer] };
    } finally {
      logits.dispose();
    }
  });
}
