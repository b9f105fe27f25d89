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
