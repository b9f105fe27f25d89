// Multi-head (and grouped-query) causal self-attention with TransformerLens's hook points:
// hook_q/k/v → (rotary: hook_rot_q/k) → hook_attn_scores → hook_pattern → hook_z.

import { linear } from '../nn/linear.js';
import { rotary, tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ModelConfig } from './config.js';
import type { AttentionParams, QkvParams } from './params.js';
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

/** [1, 1, pos, keys] with -Infinity where key j is after query i (absolute i = pastLength + i). */
function causalBias(ctx: RunContext, keys: number): Tensor {
  const { pos, pastLength } = ctx;
  const data = new Float32Array(pos * keys);
  for (let i = 0; i < pos; i++) {
    for (let j = pastLength + i + 1; j < keys; j++) data[i * keys + j] = -Infinity;
  }
  return tensor(data, [1, 1, pos, keys], { backend: ctx.backend });
}

/** x: the normalised block input [batch, pos, d_model] → attention output [batch, pos, d_model]. */
export function attention(x: Tensor, p: AttentionParams, layer: number, ctx: RunContext): Tensor {
  const c = ctx.config;
  const hooks = ctx.hooks;
  const name = `blocks.${layer}.attn.`;
  const { batch, pos } = ctx;
  const { nHeads: h, nKvHeads: kvh, dHead: dh } = c;
  const group = h / kvh;

  let { q, k, v } = projectQkv(x, p.qkv, c);
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
  return linear(z.reshape(batch, pos, h * dh), p.out);
}
