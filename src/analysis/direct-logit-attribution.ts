// Direct logit attribution: how much each residual-stream component pushes a token's logit,
// through the final norm with the statistics of the real run.
//
// The final-norm correction. A logit is  (w ⊙ (x - mean x) / s + b) · W_U[:, t] + b_U[t]  with s the
// cached ln_final scale (RMSNorm: no centring, no b; Gemma: w → 1 + w). For fixed s this is affine
// in the residual x, and x is the sum of the components, so each component c gets
//     attribution(c) = ((c - mean c) / s) · (w ⊙ W_U[:, t])
// and what no component owns, b · W_U[:, t] + b_U[t], is reported as `constant`. Then
//     Σ_c attribution(c) + constant = the model's logit for t, exactly (to float rounding),
// when the components sum to the final residual (decomposeResid does). TransformerLens folds w
// into W_U and b into b_U instead; we keep the weights as the checkpoint has them, so the weight
// enters the direction and the bias enters the constant.

import type { ActivationCache } from '../hooks/activation-cache.js';
import type { HookedTransformer } from '../models/transformer.js';
import { tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkStack, targetGrid, type TokenTargets } from './cache-access.js';
import { applyLnToStack } from './cache-analysis.js';
import { normWeight, unembedBias, unembedRows } from './model-weights.js';

export interface LogitAttrsOptions {
  /** The stack was built with this position selected (its pos axis dropped). */
  pos?: number;
}

export type LogitAttributions = {
  /** [components, batch, pos] (or [components, batch]): each component's share of the target logit (difference). */
  attributions: Tensor;
  /** [batch, pos] (or [batch]): ln_final's bias and the unembedding bias projected on the target (difference). */
  constant: Tensor;
};

/** A token to attribute, or the logit difference token − against (e.g. IOI's correct − incorrect name). */
export type LogitTarget = TokenTargets | { token: TokenTargets; against: TokenTargets };

function isDifference(target: LogitTarget): target is { token: TokenTargets; against: TokenTargets } {
  return typeof target === 'object' && target !== null && !Array.isArray(target) && 'token' in target;
}

/**
 * Direct logit attribution of each entry of a raw residual stack (not yet normalised: this
 * applies ln_final's cached scale itself) to target tokens. `targets`: one id, one per batch row,
 * a [batch][pos] grid, or {token, against} for a logit difference. The caller owns both tensors.
 */
export function logitAttrs(model: HookedTransformer, cache: ActivationCache, stack: Tensor, targets: LogitTarget,
  options: LogitAttrsOptions = {}): LogitAttributions {
  const what = 'logitAttrs';
  const posSelected = options.pos !== undefined;
  checkStack(model, stack, posSelected, what);
  const batch = stack.shape[stack.ndim - (posSelected ? 2 : 3)];
  const pos = posSelected ? 1 : stack.shape[stack.ndim - 2];
  const gridOf = (t: TokenTargets) => targetGrid(model, t, batch, pos, what);
  const tokenGrid = gridOf(isDifference(targets) ? targets.token : targets);
  const againstGrid = isDifference(targets) ? gridOf(targets.against) : null;
  const outShape = posSelected ? [batch] : [batch, pos];
  return tidy(() => {
    const { direction, constant } = targetDirections(model, tokenGrid);
    let dir = direction;
    let offset = constant;
    if (againstGrid !== null) {
      const other = targetDirections(model, againstGrid);
      dir = dir.sub(other.direction);
      offset = offset.sub(other.constant);
    }
    const scaled = applyLnToStack(model, cache, stack, { pos: options.pos }); // [C, batch, (pos,) d]
    const directionShaped = dir.reshape([...outShape, model.config.dModel]);
    return {
      attributions: scaled.mul(directionShaped).sum(-1),
      constant: offset.reshape(outShape),
    };
  });
}

/**
 * For a [batch][pos] grid of tokens: the residual direction w ⊙ W_U[:, t] of each ([batch·pos,
 * d_model]) and the constant b · W_U[:, t] + b_U[t] ([batch·pos]).
 */
function targetDirections(model: HookedTransformer, grid: number[][]): { direction: Tensor; constant: Tensor } {
  const ids = grid.flat();
  const rows = unembedRows(model, ids); // [n, d_model]
  const weight = normWeight(model, model.params.lnFinal);
  const direction = weight === null ? rows : rows.mul(weight);
  const bias = model.params.lnFinal.bias;
  let constant = bias === null
    ? tensor(new Float32Array(ids.length), [ids.length], { backend: model.backend })
    : rows.matmul(bias.reshape(-1, 1)).reshape(ids.length);
  const unembedB = unembedBias(model, ids);
  if (unembedB !== null) constant = constant.add(unembedB);
  return { direction, constant };
}
