// The hook points of a model, generated from its structure (never typed by hand elsewhere), with
// TransformerLens's names and axis names. DESIGN.md lists them.

import type { HookPointInfo } from '../hooks/hook-set.js';
import type { ModelConfig } from './config.js';

const RESID = ['batch', 'pos', 'd_model'] as const;
const HEAD_VECTORS = ['batch', 'pos', 'head', 'd_head'] as const;
const KV_VECTORS = ['batch', 'pos', 'kv_head', 'd_head'] as const;
const ATTENTION = ['batch', 'head', 'query_pos', 'key_pos'] as const;
const MLP = ['batch', 'pos', 'd_mlp'] as const;
const SCALE = ['batch', 'pos', '1'] as const;
const HEAD_RESID = ['batch', 'pos', 'head', 'd_model'] as const;
const KV_RESID = ['batch', 'pos', 'kv_head', 'd_model'] as const;

function point(name: string, layer: number | null, axes: readonly string[]): HookPointInfo {
  return Object.freeze({ name, layer, axes });
}

function normPoints(prefix: string, layer: number | null): HookPointInfo[] {
  return [point(`${prefix}.hook_scale`, layer, SCALE), point(`${prefix}.hook_normalized`, layer, RESID)];
}

/** Every hook point of a model with this config, in the order the forward pass reaches them. */
export function hookPointsFor(config: ModelConfig): HookPointInfo[] {
  const points: HookPointInfo[] = [point('hook_embed', null, RESID)];
  if (config.positional === 'learned') points.push(point('hook_pos_embed', null, RESID));
  const kvAxes = config.nKvHeads === config.nHeads ? HEAD_VECTORS : KV_VECTORS;
  for (let l = 0; l < config.nLayers; l++) {
    const b = `blocks.${l}`;
    points.push(point(`${b}.hook_resid_pre`, l, RESID));
    points.push(...normPoints(`${b}.ln1`, l));
    points.push(point(`${b}.attn.hook_q`, l, HEAD_VECTORS));
    points.push(point(`${b}.attn.hook_k`, l, kvAxes));
    points.push(point(`${b}.attn.hook_v`, l, kvAxes));
    if (config.positional === 'rotary') {
      points.push(point(`${b}.attn.hook_rot_q`, l, HEAD_VECTORS));
      points.push(point(`${b}.attn.hook_rot_k`, l, kvAxes));
    }
    points.push(point(`${b}.attn.hook_attn_scores`, l, ATTENTION));
    points.push(point(`${b}.attn.hook_pattern`, l, ATTENTION));
    points.push(point(`${b}.attn.hook_z`, l, HEAD_VECTORS));
    points.push(point(`${b}.hook_attn_out`, l, RESID));
    if (!config.parallelResidual) points.push(point(`${b}.hook_resid_mid`, l, RESID));
    points.push(...normPoints(`${b}.ln2`, l));
    points.push(point(`${b}.mlp.hook_pre`, l, MLP));
    if (config.gatedMlp) points.push(point(`${b}.mlp.hook_pre_linear`, l, MLP));
    points.push(point(`${b}.mlp.hook_post`, l, MLP));
    points.push(point(`${b}.hook_mlp_out`, l, RESID));
    points.push(point(`${b}.hook_resid_post`, l, RESID));
  }
  points.push(...normPoints('ln_final', null));
  return points;
}

/**
 * Hook points that exist only when asked for by exact name (TransformerLens's use_attn_in,
 * use_split_qkv_input, use_attn_result and use_hook_mlp_in): hooking one switches its layer to the
 * per-head computation, which costs time and memory, so patterns never match them and runWithCache
 * records them only when named. Circuit discovery (edge attribution patching) needs them:
 *   blocks.{l}.hook_attn_in           [batch, pos, head, d_model]  one residual copy per head (not under GQA)
 *   blocks.{l}.hook_q_input           [batch, pos, head, d_model]  the residual before ln1, per query head
 *   blocks.{l}.hook_k_input, hook_v_input  per kv head ([batch, pos, kv_head, d_model] under GQA)
 *   blocks.{l}.attn.hook_result       [batch, pos, head, d_model]  z · W_O of each head; attn_out = Σ heads + b_O
 *   blocks.{l}.hook_mlp_in            [batch, pos, d_model]        the residual before ln2 (resid_pre with parallel residual)
 */
export function optInHookPointsFor(config: ModelConfig): HookPointInfo[] {
  const points: HookPointInfo[] = [];
  const grouped = config.nKvHeads !== config.nHeads;
  const kvAxes = grouped ? KV_RESID : HEAD_RESID;
  for (let l = 0; l < config.nLayers; l++) {
    const b = `blocks.${l}`;
    // One shared per-head input for q, k and v cannot serve kv heads that several query heads share.
    if (!grouped) points.push(point(`${b}.hook_attn_in`, l, HEAD_RESID));
    points.push(point(`${b}.hook_q_input`, l, HEAD_RESID));
    points.push(point(`${b}.hook_k_input`, l, kvAxes));
    points.push(point(`${b}.hook_v_input`, l, kvAxes));
    points.push(point(`${b}.attn.hook_result`, l, HEAD_RESID));
    points.push(point(`${b}.hook_mlp_in`, l, RESID));
  }
  return points;
}
