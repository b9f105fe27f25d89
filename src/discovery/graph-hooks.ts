// Where the graph's nodes live in the hooked model. Writers are read at:
//   input  blocks.0.hook_resid_pre       [batch, pos, d_model]  (token + position embeddings)
//   heads  blocks.{l}.attn.hook_result   [batch, pos, head, d_model]
//   MLP    blocks.{l}.hook_mlp_out       [batch, pos, d_model]
// and readers at:
//   q/k/v  blocks.{l}.hook_q_input, hook_k_input, hook_v_input   [batch, pos, head or kv_head, d_model]
//   MLP    blocks.{l}.hook_mlp_in        [batch, pos, d_model]
//   logits blocks.{last}.hook_resid_post [batch, pos, d_model]   (what ln_final reads)
// A hook group is one such hook and the consecutive nodes (or inputs) it holds.

import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../util/errors.js';
import { headNodeIndex, mlpNodeIndex, type ComputeGraph } from './graph.js';

export interface HookGroup {
  readonly hook: string;
  /** First node (writers) or input (readers) of the group. */
  readonly first: number;
  readonly count: number;
  /** The activation has a head axis: [batch, pos, count, d_model]; otherwise [batch, pos, d_model]. */
  readonly perHead: boolean;
}

export function writerGroups(graph: ComputeGraph): HookGroup[] {
  const groups: HookGroup[] = [{ hook: 'blocks.0.hook_resid_pre', first: 0, count: 1, perHead: false }];
  for (let l = 0; l < graph.nLayers; l++) {
    groups.push({ hook: `blocks.${l}.attn.hook_result`, first: headNodeIndex(graph, l, 0), count: graph.nHeads, perHead: true });
    groups.push({ hook: `blocks.${l}.hook_mlp_out`, first: mlpNodeIndex(graph, l), count: 1, perHead: false });
  }
  return groups;
}

export function readerGroups(graph: ComputeGraph): HookGroup[] {
  if (graph.nLayers === 0) throw new ArgumentError('circuit discovery needs a model with at least one layer');
  const groups: HookGroup[] = [];
  let first = 0;
  const add = (hook: string, count: number, perHead: boolean) => {
    groups.push({ hook, first, count, perHead });
    first += count;
  };
  for (let l = 0; l < graph.nLayers; l++) {
    add(`blocks.${l}.hook_q_input`, graph.nHeads, true);
    add(`blocks.${l}.hook_k_input`, graph.nKvHeads, true);
    add(`blocks.${l}.hook_v_input`, graph.nKvHeads, true);
    add(`blocks.${l}.hook_mlp_in`, 1, false);
  }
  add(`blocks.${graph.nLayers - 1}.hook_resid_post`, 1, false);
  return groups;
}

/** Writers before a reader group: its edges come from nodes 0 .. upstream - 1. */
export function upstreamOf(graph: ComputeGraph, reader: HookGroup): number {
  return graph.inputs[reader.first].upstream;
}

/** [batch, pos, (count,) d_model] → [batch, pos, count, d_model]. */
export function withHeadAxis(activation: Tensor, group: HookGroup): Tensor {
  return group.perHead ? activation : activation.unsqueeze(2);
}

/** [batch, pos, (count,) d_model] → [count, batch·pos·d_model]: one row per node. */
export function groupRows(activation: Tensor, group: HookGroup): Tensor {
  return withHeadAxis(activation, group).permute(2, 0, 1, 3).reshape(group.count, -1);
}

/** [batch, pos, (count,) d_model] → [batch·pos·d_model, count]: one column per input (rows ordered as groupRows'). */
export function groupColumns(activation: Tensor, group: HookGroup): Tensor {
  return withHeadAxis(activation, group).permute(0, 1, 3, 2).reshape(-1, group.count);
}
