// One transformer block (pre-norm; sequential or NeoX's parallel residual) and its norms and MLP,
// with TransformerLens's hook points.

import { activate } from '../nn/activation.js';
import { linear } from '../nn/linear.js';
import { layerNorm, rmsNorm } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { attention, type AttentionInput } from './attention.js';
import type { BlockParams, MlpParams, NormParams } from './params.js';
import type { RunContext } from './run-context.js';

/**
 * LayerNorm or RMSNorm with hook_scale ([batch, pos, 1], the divisor sqrt(var + eps)) and
 * hook_normalized. As in TransformerLens, LayerNorm's hook_normalized includes weight and bias,
 * RMSNorm's does not (the weight multiplies after the hook). The fused kernel runs unless a hook
 * needs an intermediate.
 */
export function norm(x: Tensor, p: NormParams, prefix: string, ctx: RunContext): Tensor {
  const c = ctx.config;
  const hooks = ctx.hooks;
  const scaleName = `${prefix}.hook_scale`;
  const normalizedName = `${prefix}.hook_normalized`;
  const isLayerNorm = c.norm === 'layernorm';
  if (!hooks.has(scaleName)) {
    if (isLayerNorm) return hooks.apply(normalizedName, layerNorm(x, p.weight, p.bias, c.normEps));
    if (!hooks.has(normalizedName)) return rmsNorm(x, p.weight, c.normEps, { weightOffset: c.normWeightOffset });
    const normalized = hooks.apply(normalizedName, rmsNorm(x, null, c.normEps));
    return applyRmsWeight(normalized, p, c.normWeightOffset);
  }
  // Unfused: a hook reads or replaces the scale.
  const centered = isLayerNorm ? x.sub(x.mean(-1, { keepdim: true })) : x;
  const scale = hooks.apply(scaleName, centered.square().mean(-1, { keepdim: true }).add(c.normEps).sqrt());
  const divided = centered.div(scale);
  if (isLayerNorm) {
    const weighted = p.weight ? divided.mul(p.weight) : divided;
    return hooks.apply(normalizedName, p.bias ? weighted.add(p.bias) : weighted);
  }
  return applyRmsWeight(hooks.apply(normalizedName, divided), p, c.normWeightOffset);
}

function applyRmsWeight(normalized: Tensor, p: NormParams, weightOffset: number): Tensor {
  if (p.weight === null) return normalized;
  return normalized.mul(weightOffset === 0 ? p.weight : p.weight.add(weightOffset));
}

/** x [batch, pos, d_model] → [batch, pos, d_model]; gated MLPs compute out(act(gate x) * (in x)). */
export function mlp(x: Tensor, p: MlpParams, layer: number, ctx: RunContext): Tensor {
  const hooks = ctx.hooks;
  const name = `blocks.${layer}.mlp.`;
  let post: Tensor;
  if (p.gate !== null) {
    const gatePre = hooks.apply(`${name}hook_pre`, linear(x, p.gate));
    const up = hooks.apply(`${name}hook_pre_linear`, linear(x, p.in));
    post = activate(gatePre, ctx.config.act).mul(up);
  } else {
    post = activate(hooks.apply(`${name}hook_pre`, linear(x, p.in)), ctx.config.act);
  }
  return linear(hooks.apply(`${name}hook_post`, post), p.out);
}

const SPLIT_INPUT_HOOKS = ['hook_attn_in', 'hook_q_input', 'hook_k_input', 'hook_v_input'] as const;

/**
 * ln1 of the block input, shared by every head — or, when a split-input hook listens, one copy of
 * the residual per head for each of q, k and v (TransformerLens's use_split_qkv_input), normalised
 * separately so that a hook can give each head's query, key and value its own input. As in
 * TransformerLens, ln1's hooks then run once for each of q, k and v, with a head axis.
 */
function attentionInput(resid: Tensor, p: BlockParams, layer: number, ctx: RunContext): AttentionInput {
  const hooks = ctx.hooks;
  const name = `blocks.${layer}.`;
  if (!SPLIT_INPUT_HOOKS.some((hook) => hooks.has(name + hook))) return { kind: 'shared', x: norm(resid, p.ln1, `${name}ln1`, ctx) };
  const { batch, pos, config: c } = ctx;
  const perHead = (heads: number) => resid.unsqueeze(2).expand(batch, pos, heads, c.dModel);
  const shared = hooks.has(`${name}hook_attn_in`) ? hooks.apply(`${name}hook_attn_in`, perHead(c.nHeads)) : null;
  const split = (hook: string, heads: number) => norm(hooks.apply(name + hook, shared ?? perHead(heads)), p.ln1, `${name}ln1`, ctx);
  return { kind: 'split', q: split('hook_q_input', c.nHeads), k: split('hook_k_input', c.nKvHeads), v: split('hook_v_input', c.nKvHeads) };
}

/** resid_pre [batch, pos, d_model] → resid_post. */
export function block(residPre: Tensor, p: BlockParams, layer: number, ctx: RunContext): Tensor {
  const hooks = ctx.hooks;
  const name = `blocks.${layer}.`;
  const resid = hooks.apply(`${name}hook_resid_pre`, residPre);
  const attnOut = hooks.apply(`${name}hook_attn_out`, attention(attentionInput(resid, p, layer, ctx), p.attn, layer, ctx));
  if (ctx.config.parallelResidual) {
    const mlpIn = hooks.apply(`${name}hook_mlp_in`, resid);
    const mlpOut = hooks.apply(`${name}hook_mlp_out`, mlp(norm(mlpIn, p.ln2, `${name}ln2`, ctx), p.mlp, layer, ctx));
    return hooks.apply(`${name}hook_resid_post`, resid.add(attnOut).add(mlpOut));
  }
  const residMid = hooks.apply(`${name}hook_resid_mid`, resid.add(attnOut));
  const mlpIn = hooks.apply(`${name}hook_mlp_in`, residMid);
  const mlpOut = hooks.apply(`${name}hook_mlp_out`, mlp(norm(mlpIn, p.ln2, `${name}ln2`, ctx), p.mlp, layer, ctx));
  return hooks.apply(`${name}hook_resid_post`, residMid.add(mlpOut));
}
