// Multi-head (and grouped-query) causal self-attention with TransformerLens's hook points:
// hook_q/k/v → (rotary: hook_rot_q/k) → hook_attn_scores → hook_pattern → hook_z (→ hook_result).

import { linear } from '../nn/linear.js';
import { rotary, tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ModelConfig } from './config.js';
import type { AttentionParams, Linear, QkvParams } from './params.js';
import type { RunContext } from './run-context.js';

interface Qkv {
  q: Tensor; // [batch, pos, head, d_head]
  k: Tensor; // [batch, pos, kv_head, d_head]
  v: Tensor; // [batch, pos, kv_head, d_head]
}

function projectQkv(x: Tensor, qkv: QkvParams, c: ModelConfig): Qkv {
  const [batch, pos] = x.shape;
  const { nHeads: h, nKvHeads: kvh, dHead: dh } = c;
  switch (qkv.kind) {
    case 'fused-blocks': {
      // GPT-2: output axis is [q | k | v], each nHeads * dHead wide.
      const fused = linear(x, qkv.linear);
      const width = h * dh;
      return {
        q: fused.narrow(2, 0, width).reshape(batch, pos, h, dh),
        k: fused.narrow(2, width, width).reshape(batch, pos, h, dh),
        v: fused.narrow(2, 2 * width, width).reshape(batch, pos, h, dh),
      };
    }
    case 'fused-per-head': {
      // GPT-NeoX: output axis is [head][q | k | v][d_head].
      const fused = linear(x, qkv.linear).reshape(batch, pos, h, 3, dh);
      return { q: fused.select(3, 0), k: fused.select(3, 1), v: fused.select(3, 2) };
    }
    case 'separate':
      return {
        q: linear(x, qkv.q).reshape(batch, pos, h, dh),
        k: linear(x, qkv.k).reshape(batch, pos, kvh, dh),
        v: linear(x, qkv.v).reshape(batch, pos, kvh, dh),
      };
    default:
      return qkv satisfies never;
  }
}

/**
 * What attention reads: the normalised block input shared by every head, or (when a split-input
 * hook is requested) one normalised input per query head for q and per kv head for k and v, each
 * [batch, pos, head, d_model].
 */
export type AttentionInput =
  | { readonly kind: 'shared'; readonly x: Tensor }
  | { readonly kind: 'split'; readonly q: Tensor; readonly k: Tensor; readonly v: Tensor };

/** W as [in, out] whatever the checkpoint layout. */
function inOut(layer: Linear): Tensor {
  return layer.transposed ? layer.weight.mT : layer.weight;
}

/** The projection of q (0), k (1) or v (2) as per-head weights [heads, d_model, d_head] and bias [heads, 1, d_head]. */
function headProjection(qkv: QkvParams, which: 0 | 1 | 2, c: ModelConfig): { weight: Tensor; bias: Tensor | null } {
  const { nHeads: h, nKvHeads: kvh, dHead: dh, dModel: d } = c;
  switch (qkv.kind) {
    case 'fused-blocks': {
      const width = h * dh;
      const bias = qkv.linear.bias?.narrow(0, which * width, width).reshape(h, 1, dh) ?? null;
      return { weight: inOut(qkv.linear).narrow(1, which * width, width).reshape(d, h, dh).permute(1, 0, 2), bias };
    }
    case 'fused-per-head': {
      const bias = qkv.linear.bias?.reshape(h, 3, dh).select(1, which).unsqueeze(1) ?? null;
      return { weight: inOut(qkv.linear).reshape(d, h, 3, dh).select(2, which).permute(1, 0, 2), bias };
    }
    case 'separate': {
      const layer = [qkv.q, qkv.k, qkv.v][which];
      const heads = which === 0 ? h : kvh;
      return { weight: inOut(layer).reshape(d, heads, dh).permute(1, 0, 2), bias: layer.bias?.reshape(heads, 1, dh) ?? null };
    }
    default:
      return qkv satisfies never;
  }
}

/** x [batch, pos, heads, d_model] → [batch, pos, heads, d_head], each head through its own slice of the projection. */
function projectPerHead(x: Tensor, projection: { weight: Tensor; bias: Tensor | null }): Tensor {
  const [batch, pos, heads, d] = x.shape;
  const rows = x.permute(2, 0, 1, 3).reshape(heads, batch * pos, d);
  const projected = rows.matmul(projection.weight); // [heads, batch·pos, d_head]
  const biased = projection.bias ? projected.add(projection.bias) : projected;
  return biased.reshape(heads, batch, pos, -1).permute(1, 2, 0, 3);
}

function projectSplitQkv(input: { q: Tensor; k: Tensor; v: Tensor }, qkv: QkvParams, c: ModelConfig): Qkv {
  return {
    q: projectPerHead(input.q, headProjection(qkv, 0, c)),
    k: projectPerHead(input.k, headProjection(qkv, 1, c)),
    v: projectPerHead(input.v, headProjection(qkv, 2, c)),
  };
}

/** z [batch, pos, head, d_head] → each head's output z_h · W_O[h], [batch, pos, head, d_model] (no bias). */
function headResults(z: Tensor, out: Linear, c: ModelConfig): Tensor {
  const [batch, pos, h, dh] = z.shape;
  const weight = inOut(out).reshape(h, dh, -1); // [head, d_head, d_model]
  const rows = z.permute(2, 0, 1, 3).reshape(h, batch * pos, dh);
  return rows.matmul(weight).reshape(h, batch, pos, c.dModel).permute(1, 2, 0, 3);
}

/** [1, 1, pos, keys] with -Infinity where key j is after query i (absolute i = pastLength + i). */
function causalBias(ctx: RunContext, keys: number): Tensor {
  const { pos, pastLength } = ctx;
  const data = new Float32Array(pos * keys);
  for (let i = 0; i < pos; i++) {
    for (let j = pastLength + i + 1; j < keys; j++) data[i * keys + j] = -Infinity;
  }
  return tensor(data, [1, 1, pos, keys], { backend: ctx.backend });
}

/** The normalised block input (shared or split per head) → attention output [batch, pos, d_model]. */
export function attention(input: AttentionInput, p: AttentionParams, layer: number, ctx: RunContext): Tensor {
  const c = ctx.config;
  const hooks = ctx.hooks;
  const name = `blocks.${layer}.attn.`;
  const { batch, pos } = ctx;
  const { nHeads: h, nKvHeads: kvh, dHead: dh } = c;
  const group = h / kvh;

  let { q, k, v } = input.kind === 'shared' ? projectQkv(input.x, p.qkv, c) : projectSplitQkv(input, p.qkv, c);
  q = hooks.apply(`${name}hook_q`, q);
  k = hooks.apply(`${name}hook_k`, k);
  v = hooks.apply(`${name}hook_v`, v);
  if (c.positional === 'rotary' && ctx.cos !== null && ctx.sin !== null) {
    const options = { rotaryDim: c.rotaryDim, layout: c.rotaryLayout };
    q = hooks.apply(`${name}hook_rot_q`, rotary(q, ctx.cos, ctx.sin, options));
    k = hooks.apply(`${name}hook_rot_k`, rotary(k, ctx.cos, ctx.sin, options));
  }
  if (ctx.kvCache !== null) ({ k, v } = ctx.kvCache.append(layer, k, v));
  const keys = k.shape[1];

  // Grouped-query attention without repeating k/v: the `group` query heads that share a kv head
  // are stacked along the query axis, so one batched matmul per kv head serves all of them.
  const qHeads = q.permute(0, 2, 1, 3); // [batch, head, pos, d_head]
  const kT = k.permute(0, 2, 3, 1); // [batch, kv_head, d_head, keys]
  let scores = group === 1
    ? qHeads.matmul(kT)
    : qHeads.contiguous().reshape(batch, kvh, group * pos, dh).matmul(kT).reshape(batch, h, pos, keys);
  let scale = c.attnScale;
  if (c.attnScaleByInverseLayer) scale /= layer + 1;
  scores = scores.mul(scale); // [batch, head, query_pos, key_pos]
  if (ctx.paddingBias !== null) scores = scores.add(ctx.paddingBias);
  if (ctx.windowBias !== null) scores = scores.add(ctx.windowBias);

  let pattern: Tensor;
  if (hooks.has(`${name}hook_attn_scores`)) {
    // The hook sees masked scores (-Infinity above the diagonal), as in TransformerLens.
    const masked = hooks.apply(`${name}hook_attn_scores`, scores.add(causalBias(ctx, keys)));
    pattern = masked.softmax(-1);
  } else {
    pattern = scores.softmax(-1, { causal: { offset: ctx.pastLength } });
  }
  pattern = hooks.apply(`${name}hook_pattern`, pattern);

  const vHeads = v.permute(0, 2, 1, 3); // [batch, kv_head, keys, d_head]
  const zHeads = group === 1
    ? pattern.matmul(vHeads)
    : pattern.reshape(batch, kvh, group * pos, keys).matmul(vHeads).reshape(batch, h, pos, dh);
  const z = hooks.apply(`${name}hook_z`, zHeads.permute(0, 2, 1, 3)); // [batch, pos, head, d_head]
  if (!hooks.has(`${name}hook_result`)) return linear(z.reshape(batch, pos, h * dh), p.out);
  const summed = hooks.apply(`${name}hook_result`, headResults(z, p.out, c)).sum(2);
  return p.out.bias ? summed.add(p.out.bias) : summed;
}
