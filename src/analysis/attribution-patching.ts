// Attribution patching (Nanda, "Attribution Patching: Activation Patching At Industrial Scale"):
// a first-order estimate of every activation patch at once. Patching the clean activation a_clean
// into the corrupted run changes the metric by about
//
//     (a_clean − a_corrupted) · ∂metric/∂a  (gradient evaluated on the corrupted run)
//
// summed over batch and feature axes. This follows TransformerLens's attribution-patching demo:
// one clean forward (activations only) and one corrupted forward + backward. The gradient is taken
// at the corrupted run because that is the run the patch is applied to.
//
// Gradients with respect to many intermediate activations at once: each hooked activation gets a
// zero tensor `delta` (requiresGrad) added to it; after backward, delta.grad is ∂metric/∂activation
// with every downstream path intact. (Detaching the activation instead would cut the paths from one
// hooked point to the next.)

import type { Hook } from '../hooks/hook-set.js';
import type { MaskInput, TokenInput } from '../models/inputs.js';
import type { HookedTransformer } from '../models/transformer.js';
import { enableGrad, keep, noGrad, stack, tidy, zeros } from '../tensor/index.js';
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../util/errors.js';
import type { Metric } from './metrics.js';
import type { PatchingResult } from './patching.js';
import { assertSameLength, tokenRows } from './sweep-runtime.js';

/** Per (layer, pos): resid_pre, resid_mid, attn_out, mlp_out. Per (layer, head): z; per (layer, pos, head): z_by_pos. */
export type AttributionTarget = 'resid_pre' | 'resid_mid' | 'attn_out' | 'mlp_out' | 'z' | 'z_by_pos';

export interface AttributionPatchingOptions {
  cleanTokens: TokenInput;
  corruptedTokens: TokenInput;
  /** Must return a 0-d Tensor (it is differentiated); the built-in metrics do. */
  metric: Metric;
  attentionMask?: MaskInput;
  /** Default: resid_pre, attn_out, mlp_out and z. */
  targets?: readonly AttributionTarget[];
}

export interface AttributionPatchingResult {
  /** The metric on the corrupted run. */
  corruptedValue: number;
  /** Estimated metric change (patched − corrupted) per component, by target; the caller owns the tensors. */
  estimates: Partial<Record<AttributionTarget, PatchingResult>>;
}

const DEFAULT_TARGETS: readonly AttributionTarget[] = ['resid_pre', 'attn_out', 'mlp_out', 'z'];

function hookOf(target: AttributionTarget, layer: number): string {
  switch (target) {
    case 'resid_pre': case 'resid_mid': case 'attn_out': case 'mlp_out': return `blocks.${layer}.hook_${target}`;
    case 'z': case 'z_by_pos': return `blocks.${layer}.attn.hook_z`;
    default: return target satisfies never;
  }
}

/** Axes summed away from grad · (clean − corrupted), and the result's axis names. */
function reduction(target: AttributionTarget): { sumAxes: number[]; axes: string[] } {
  switch (target) {
    case 'resid_pre': case 'resid_mid': case 'attn_out': case 'mlp_out': return { sumAxes: [0, 2], axes: ['layer', 'pos'] };
    case 'z': return { sumAxes: [0, 1, 3], axes: ['layer', 'head'] };
    case 'z_by_pos': return { sumAxes: [0, 3], axes: ['layer', 'pos', 'head'] };
    default: return target satisfies never;
  }
}

/** Estimates of activation patching for every component of each target, from two forward passes and one backward. */
export function attributionPatching(model: HookedTransformer, options: AttributionPatchingOptions): AttributionPatchingResult {
  const c = model.config;
  const targets: AttributionTarget[] = [...new Set(options.targets ?? DEFAULT_TARGETS)];
  if (targets.includes('resid_mid') && c.parallelResidual) throw new ArgumentError('resid_mid does not exist in a parallel-residual model');
  const clean = tokenRows(c, options.cleanTokens, options.attentionMask);
  const corrupted = tokenRows(c, options.corruptedTokens, options.attentionMask);
  assertSameLength(clean.rows, corrupted.rows);
  const names = [...new Set(targets.flatMap((t) => Array.from({ length: c.nLayers }, (_, l) => hookOf(t, l))))];
  const forwardOptions = { logitPositions: options.metric.logitPositions ?? 'all', attentionMask: clean.mask ?? undefined };

  const cleanRun = noGrad(() => model.runWithCache(clean.rows, { ...forwardOptions, names }));
  cleanRun.logits.dispose();
  const deltas = new Map<string, Tensor>();
  const corruptedActs = new Map<string, Tensor>();
  try {
    const addDelta: Hook = {
      name: names,
      fn: (act, point) => {
        const delta = keep(zeros(act.shape, { dtype: act.dtype, backend: act.backend }).requiresGrad_());
        deltas.set(point.name, delta);
        corruptedActs.set(point.name, keep(act.detach()));
        return act.add(delta);
      },
    };
    const corruptedValue = enableGrad(() => tidy(() => {
      const value = options.metric(model.forward(corrupted.rows, { ...forwardOptions, hooks: [addDelta] }));
      if (!(value instanceof Tensor) || value.size !== 1) {
        throw new ArgumentError(`attribution patching differentiates the metric, so it must return a one-element Tensor; got ${value instanceof Tensor ? `shape ${fmtShape(value.shape)}` : typeof value}`);
      }
      value.backward();
      return value.item();
    }));
    const estimates: Partial<Record<AttributionTarget, PatchingResult>> = {};
    for (const target of targets) {
      const { sumAxes, axes } = reduction(target);
      const values = noGrad(() => tidy(() => stack(Array.from({ length: c.nLayers }, (_, l) => {
        const name = hookOf(target, l);
        const delta = deltas.get(name) as Tensor;
        const diff = cleanRun.cache.get(name).sub(corruptedActs.get(name) as Tensor);
        if (delta.grad === null) return zeros(diff.shape, { dtype: diff.dtype, backend: diff.backend }).sum(sumAxes);
        if (delta.grad.shape.join() !== diff.shape.join()) throw new ShapeError(`gradient at '${name}' has shape ${fmtShape(delta.grad.shape)}, activation ${fmtShape(diff.shape)}`);
        return delta.grad.mul(diff).sum(sumAxes);
      }), 0)));
      estimates[target] = { values, axes };
    }
    return { corruptedValue, estimates };
  } finally {
    cleanRun.cache.dispose();
    for (const t of deltas.values()) t.dispose();
    for (const t of corruptedActs.values()) t.dispose();
  }
}
