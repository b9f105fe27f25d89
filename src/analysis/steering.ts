// Steering vectors (activation addition, Turner et al. "ActAdd"; contrastive activation addition):
// add c · v to the residual stream at one layer. v is given, or is the mean difference of the
// residual stream between contrasting prompts ("Love" − "Hate"), read at each prompt's last
// position or averaged over all positions.
//
// The hook works per forward pass, so it steers runWithHooks and every step of generation (pass it
// in generate's `hooks`). In KV-cached generation a step's activation holds only the new token
// ([batch, 1, d_model]): positions 'all' and 'last' steer it, explicit position lists count from
// the start of each call and so apply to the prompt pass only.

import type { Hook } from '../hooks/hook-set.js';
import type { HookedTransformer } from '../models/transformer.js';
import { noGrad, tensor, tidy } from '../tensor/index.js';
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError, IndexError, ShapeError, fmtShape } from '../util/errors.js';
import { tokenRows } from './sweep-runtime.js';

/** Which residual-stream hook of the layer: blocks.{layer}.hook_{point}. */
export type ResidualPoint = 'resid_pre' | 'resid_mid' | 'resid_post';

export interface SteeringSite {
  layer: number;
  /** Default 'resid_pre' (the residual entering the block). */
  point?: ResidualPoint;
}

export interface SteeringOptions extends SteeringSite {
  /** c in resid + c · v. Default 1. */
  coefficient?: number;
  /** 'all' (default), 'last' (each call's last position), or positions within each call. */
  positions?: 'all' | 'last' | readonly number[];
}

export interface ContrastOptions extends SteeringSite {
  /** Prompts of the direction's positive side; rows may differ in length. */
  positive: readonly (readonly number[])[];
  /** Prompts of the negative side; rows may differ in length. */
  negative: readonly (readonly number[])[];
  /** Read each prompt's last position (default) or average over all its positions. */
  at?: 'last' | 'all';
}

function hookName(model: HookedTransformer, site: SteeringSite): string {
  const c = model.config;
  if (!Number.isInteger(site.layer) || site.layer < 0 || site.layer >= c.nLayers) {
    throw new IndexError(`steering layer ${site.layer} is out of range 0..${c.nLayers - 1}`);
  }
  const point = site.point ?? 'resid_pre';
  if (point !== 'resid_pre' && point !== 'resid_mid' && point !== 'resid_post') {
    throw new ArgumentError(`steering point must be 'resid_pre', 'resid_mid' or 'resid_post', got '${String(point)}'`);
  }
  if (point === 'resid_mid' && c.parallelResidual) throw new ArgumentError('resid_mid does not exist in a parallel-residual model');
  return `blocks.${site.layer}.hook_${point}`;
}

/**
 * mean over positive prompts − mean over negative prompts of the residual stream at the site
 * (float32 [d_model], owned by the caller).
 */
export function contrastVector(model: HookedTransformer, options: ContrastOptions): Tensor {
  const name = hookName(model, options);
  const at = options.at ?? 'last';
  if (at !== 'last' && at !== 'all') throw new ArgumentError(`at must be 'last' or 'all', got '${String(at)}'`);
  const positive = meanResidual(model, name, options.positive, at, 'positive');
  const negative = meanResidual(model, name, options.negative, at, 'negative');
  return tensor(Float32Array.from(positive, (v, i) => v - negative[i]), [model.config.dModel], { backend: model.backend });
}

/** Mean over prompts of the activation at `name` (at the last position or averaged over positions), in float64. */
function meanResidual(model: HookedTransformer, name: string, prompts: readonly (readonly number[])[], at: 'last' | 'all', what: string): Float64Array {
  if (!Array.isArray(prompts) || prompts.length === 0) throw new ArgumentError(`contrastVector: ${what} needs at least one prompt`);
  const d = model.config.dModel;
  const sum = new Float64Array(d);
  // Prompts of equal length run as one batch; no padding is needed.
  const byLength = new Map<number, number[][]>();
  for (const row of prompts) {
    const rows = tokenRows(model.config, [row]).rows;
    byLength.set(rows[0].length, [...(byLength.get(rows[0].length) ?? []), rows[0]]);
  }
  for (const [length, rows] of byLength) {
    const reduced = noGrad(() => tidy(() => {
      // The returned residual is left to the tidy: with resid_post it is the cached tensor itself.
      const { cache } = model.runWithCache(rows, { names: [name], stopAtLayer: Number(name.split('.')[1]) + 1 });
      try {
        const act = cache.get(name); // [rows, pos, d_model]
        return (at === 'last' ? act.select(1, length - 1) : act.mean(1)).sum(0).toArray();
      } finally {
        cache.dispose();
      }
    }));
    for (let i = 0; i < d; i++) sum[i] += reduced[i];
  }
  return sum.map((v) => v / prompts.length);
}

/**
 * A hook adding coefficient · vector ([d_model]) to the residual stream at the site. The vector's
 * values are copied, so the caller may dispose it.
 */
export function steeringHook(model: HookedTransformer, vector: Tensor | ArrayLike<number>, options: SteeringOptions): Hook {
  const name = hookName(model, options);
  const d = model.config.dModel;
  const values = vector instanceof Tensor ? vector.toArray() : Float32Array.from(vector);
  if (values.length !== d || (vector instanceof Tensor && vector.ndim !== 1)) {
    throw new ShapeError(`steering vector must have shape [${d}] (d_model), got ${vector instanceof Tensor ? fmtShape(vector.shape) : `${values.length} values`}`);
  }
  const coefficient = options.coefficient ?? 1;
  if (!Number.isFinite(coefficient)) throw new ArgumentError(`coefficient must be a finite number, got ${coefficient}`);
  const positions = options.positions ?? 'all';
  if (positions !== 'all' && positions !== 'last' && !(Array.isArray(positions) && positions.every(Number.isInteger))) {
    throw new ArgumentError(`positions must be 'all', 'last' or a list of integer positions, got ${JSON.stringify(positions)}`);
  }
  const scaled = Float32Array.from(values, (v) => v * coefficient);
  return {
    name,
    fn: (act) => {
      const addend = tensor(scaled, [d], { dtype: act.dtype, backend: act.backend });
      if (positions === 'all') return act.add(addend);
      const pos = act.shape[1];
      const chosen = positions === 'last' ? [pos - 1] : (positions as readonly number[]).filter((p) => p >= -pos && p < pos);
      if (chosen.length === 0) return undefined;
      const mask = new Float32Array(pos);
      for (const p of chosen) mask[p < 0 ? p + pos : p] = 1;
      return act.add(tensor(mask, [pos, 1], { dtype: act.dtype, backend: act.backend }).mul(addend));
    },
  };
}
