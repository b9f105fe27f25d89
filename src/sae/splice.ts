// Splicing SAEs into a model's forward pass (SAELens's HookedSAETransformer.run_with_saes): the
// activation at an SAE's hook is replaced by its reconstruction — optionally plus the error term
// x − SAE(x), so the model's output is unchanged unless features are edited — and feature edits
// (ablate, set, scale, add) apply to the feature activations before decoding. A transcoder reads
// its input hook and replaces its output hook. Hooks are plain `Hook`s, so they also work in
// generate() (feature ablation or steering while generating) and in every analysis that takes hooks.

import type { Hook } from '../hooks/hook-set.js';
import type { ForwardOptions, HookedTransformer } from '../models/transformer.js';
import type { TokenInput } from '../models/inputs.js';
import { keep, tensor, tidy, type Tensor } from '../tensor/index.js';
import { ArgumentError, IndexError, ShapeError, fmtShape } from '../util/errors.js';
import { isTranscoder, runTimeNorm, type SparseAutoencoder } from './sae.js';

/** A change to one feature's activation before decoding. */
export interface FeatureEdit {
  feature: number;
  /** 'ablate': set to 0; 'set': set to value; 'scale': multiply by value; 'add': add value. */
  mode: 'ablate' | 'set' | 'scale' | 'add';
  value?: number;
  /** Positions the edit applies to (default: all). */
  positions?: readonly number[];
}

export interface SpliceOptions {
  /** Add the SAE's error x − SAE(x) back, so only feature edits change the activation. Default false. */
  keepError?: boolean;
  edits?: readonly FeatureEdit[];
  /** Receives the feature activations [batch, pos, d_sae] of each forward pass (owned by the pass; keep() to hold them). */
  onFeatures?: (features: Tensor) => void;
}

/** [..., d] view of a per-token activation [batch, pos, ...rest] whose trailing axes hold d values (hook_z: heads × d_head). */
function tokenRows(act: Tensor, d: number, hook: string): Tensor {
  const [batch, pos] = act.shape;
  if (act.size !== batch * pos * d) {
    throw new ShapeError(`SAE at '${hook}': activation of shape ${fmtShape(act.shape)} does not hold ${d} values per token`);
  }
  return act.ndim === 3 ? act : act.reshape(batch, pos, d);
}

function checkEdits(sae: SparseAutoencoder, edits: readonly FeatureEdit[]): void {
  for (const e of edits) {
    if (!Number.isInteger(e.feature) || e.feature < 0 || e.feature >= sae.dSae) {
      throw new IndexError(`feature edit: feature ${e.feature} is out of range 0..${sae.dSae - 1}`);
    }
    if (e.mode !== 'ablate' && typeof e.value !== 'number') throw new ArgumentError(`feature edit '${e.mode}' of feature ${e.feature} needs a value`);
  }
}

/** features [batch, pos, d_sae] with the edits applied (a new tensor). */
export function applyFeatureEdits(features: Tensor, edits: readonly FeatureEdit[]): Tensor {
  let out = features;
  const [batch, pos, dSae] = features.shape;
  for (const e of edits) {
    const mask = new Float32Array(pos * dSae);
    const positions = e.positions ?? Array.from({ length: pos }, (_, p) => p);
    for (const p of positions) {
      if (p < 0 || p >= pos) throw new IndexError(`feature edit: position ${p} is out of range 0..${pos - 1}`);
      mask[p * dSae + e.feature] = 1;
    }
    const m = tensor(mask, [1, pos, dSae], { dtype: features.dtype, backend: features.backend });
    const keepRest = m.neg().add(1);
    switch (e.mode) {
      case 'ablate': out = out.mul(keepRest); break;
      case 'set': out = out.mul(keepRest).add(m.mul(e.value!)); break;
      case 'scale': out = out.mul(keepRest.add(m.mul(e.value!))); break;
      case 'add': out = out.add(m.mul(e.value!)); break;
      default: throw new ArgumentError(`feature edit mode '${String(e.mode)}' is not one of ablate, set, scale, add`);
    }
  }
  if (out.shape[0] !== batch) throw new ShapeError('internal: feature edit changed the batch');
  return out;
}

/** The replacement for activation x [batch, pos, d_in] (and, for transcoders, its actual output y). */
function reconstruct(sae: SparseAutoencoder, x: Tensor, actual: Tensor, options: SpliceOptions): Tensor {
  const { undo } = runTimeNorm(sae.cfg, x);
  const features = sae.encode(x);
  options.onFeatures?.(features);
  const edited = options.edits?.length ? applyFeatureEdits(features, options.edits) : features;
  let out = undo(sae.decode(edited));
  if (options.keepError) {
    const clean = edited === features ? out : undo(sae.decode(features));
    out = out.add(actual.sub(clean));
  }
  return out;
}

/**
 * Hooks that splice `sae` into a forward pass (one hook for an SAE, two for a transcoder). Use them
 * with model.forward / runWithHooks / generate.
 */
export function saeHooks(sae: SparseAutoencoder, options: SpliceOptions = {}): Hook[] {
  checkEdits(sae, options.edits ?? []);
  if (!isTranscoder(sae.cfg)) {
    return [{
      name: sae.hookName,
      fn: (act) => {
        const x = tokenRows(act, sae.dIn, sae.hookName);
        const out = reconstruct(sae, x, x, options);
        return out.shape.length === act.ndim ? out : out.reshape(act.shape);
      },
    }];
  }
  let input: Tensor | null = null;
  return [
    { name: sae.hookName, fn: (act) => { input = tokenRows(act, sae.dIn, sae.hookName); } },
    {
      name: sae.outputHookName,
      fn: (act) => {
        if (input === null) throw new ArgumentError(`transcoder: '${sae.outputHookName}' ran before its input hook '${sae.hookName}'`);
        const y = tokenRows(act, sae.dOut, sae.outputHookName);
        const out = reconstruct(sae, input, y, options);
        input = null;
        return out.shape.length === act.ndim ? out : out.reshape(act.shape);
      },
    },
  ];
}

export interface RunWithSAEsResult {
  /** The model's output (logits, or the residual stream with stopAtLayer); the caller owns it. */
  logits: Tensor;
  /** Feature activations [batch, pos, d_sae] per SAE (by the hook it replaces); the caller owns them. */
  features: Map<string, Tensor>;
}

/**
 * Runs the model with each SAE spliced in (SAELens's run_with_saes) and returns the output and
 * the feature activations. Extra hooks in `forward.hooks` run too (after the SAEs at shared hooks).
 */
export function runWithSAEs(model: HookedTransformer, tokens: TokenInput, saes: readonly SparseAutoencoder[],
  options: SpliceOptions & { forward?: ForwardOptions } = {}): RunWithSAEsResult {
  const outputs = new Set<string>();
  for (const sae of saes) {
    if (outputs.has(sae.outputHookName)) throw new ArgumentError(`two SAEs replace '${sae.outputHookName}'; splice one per hook`);
    outputs.add(sae.outputHookName);
  }
  const features = new Map<string, Tensor>();
  try {
    const hooks = saes.flatMap((sae) => saeHooks(sae, {
      ...options,
      onFeatures: (f) => {
        features.get(sae.outputHookName)?.dispose();
        features.set(sae.outputHookName, keep(f.clone()));
        options.onFeatures?.(f);
      },
    }));
    const forward = options.forward ?? {};
    const logits = tidy(() => model.forward(tokens, { ...forward, hooks: [...hooks, ...(forward.hooks ?? [])] }));
    return { logits, features };
  } catch (err) {
    for (const f of features.values()) f.dispose();
    throw err;
  }
}

/**
 * A hook adding coefficient × W_dec[feature] (the feature's decoder direction) to the activation at
 * the SAE's output hook, at every position or the given ones — feature steering as Neuronpedia does
 * it. For generate({ hooks }).
 */
export function featureSteeringHook(sae: SparseAutoencoder, feature: number, coefficient: number, positions?: readonly number[]): Hook {
  if (!Number.isInteger(feature) || feature < 0 || feature >= sae.dSae) throw new IndexError(`steering: feature ${feature} is out of range 0..${sae.dSae - 1}`);
  return {
    name: sae.outputHookName,
    fn: (act) => {
      const x = tokenRows(act, sae.dOut, sae.outputHookName);
      const direction = sae.W_dec.select(0, feature).mul(coefficient); // [d_out]
      let added: Tensor;
      if (positions === undefined) {
        added = x.add(direction);
      } else {
        const mask = new Float32Array(x.shape[1]);
        for (const p of positions) if (p >= 0 && p < mask.length) mask[p] = 1;
        added = x.add(tensor(mask, [1, x.shape[1], 1], { dtype: x.dtype, backend: x.backend }).mul(direction));
      }
      return added.shape.length === act.ndim ? added : added.reshape(act.shape);
    },
  };
}
