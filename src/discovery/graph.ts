// The computational graph of a transformer as edge attribution patching sees it (Hanna et al. 2024,
// after ACDC): every component that writes to the residual stream is a node — the input (token and
// position embeddings), each attention head and each MLP — and every component that reads it has
// inputs: each head's query, key and value input (the residual before ln1), each MLP's input (the
// residual before ln2) and the logits (the final residual). The residual stream is the sum of what
// the nodes before a reader wrote, so there is an edge from every earlier writer to every reader:
//
//   input → heads of layer 0 (q, k, v) → [sequential: MLP 0 reads layer-0 heads too] → heads of
//   layer 1 → … → logits.
//
// Heads of one layer never feed each other. With a parallel residual (GPT-NeoX, GPT-J) the MLP of a
// layer reads the same residual as its attention, so it receives no edge from that layer's heads.
// Under grouped-query attention k and v are read once per kv head: the k/v input of kv head g feeds
// every query head of its group.
//
// Edge ids follow the reference implementation: 'input->a0.h1<q>', 'a0.h1->m1', 'm3->logits'
// (k/v inputs of a kv head: 'a2.g0<k>').

import type { ModelConfig } from '../models/config.js';

export type NodeKind = 'input' | 'head' | 'mlp' | 'logits';

export interface GraphNode {
  /** 'input', 'a{layer}.h{head}', 'm{layer}' or 'logits'. */
  readonly id: string;
  readonly kind: NodeKind;
  /** Block index; null for input and logits. */
  readonly layer: number | null;
  readonly head: number | null;
}

export type InputKind = 'q' | 'k' | 'v' | 'mlp' | 'logits';

/** One place a node reads the residual stream. */
export interface GraphInput {
  /** 'a1.h0<q>', 'a1.h0<k>' (or 'a1.g0<k>' for a kv head under GQA), 'm1', 'logits'. */
  readonly id: string;
  readonly kind: InputKind;
  readonly layer: number | null;
  /** Query head for q, kv head for k and v (the same as the head without GQA); null otherwise. */
  readonly head: number | null;
  /** Indices (into `nodes`) of the nodes this input feeds: one, or a kv head's query heads. */
  readonly feeds: readonly number[];
  /** How many writers come before it: its edges come from writers[0 .. upstream - 1]. */
  readonly upstream: number;
}

export interface GraphEdge {
  readonly id: string;
  /** Index into `writers` (and `nodes`: writers are nodes 0 .. writers.length - 1). */
  readonly from: number;
  /** Index into `inputs`. */
  readonly to: number;
}

export interface ComputeGraph {
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly parallelResidual: boolean;
  /** Writers first, in computation order (input, layer 0 heads, MLP 0, layer 1 heads, ...), then logits. */
  readonly nodes: readonly GraphNode[];
  /** How many of `nodes` write to the residual stream (all but logits). */
  readonly writers: number;
  /** Readers, in computation order: per layer q of every head, k and v of every kv head, the MLP; then logits. */
  readonly inputs: readonly GraphInput[];
  /** Every edge, grouped by input in `inputs` order, then by writer. */
  readonly edges: readonly GraphEdge[];
}

/** Index of head `head` of `layer` among the nodes. */
export function headNodeIndex(graph: Pick<ComputeGraph, 'nHeads'>, layer: number, head: number): number {
  return 1 + layer * (graph.nHeads + 1) + head;
}

/** Index of the MLP of `layer` among the nodes. */
export function mlpNodeIndex(graph: Pick<ComputeGraph, 'nHeads'>, layer: number): number {
  return 1 + layer * (graph.nHeads + 1) + graph.nHeads;
}

/** The edge graph of a model with this config. */
export function buildGraph(config: ModelConfig): ComputeGraph {
  const { nLayers, nHeads, nKvHeads, parallelResidual } = config;
  const nodes: GraphNode[] = [{ id: 'input', kind: 'input', layer: null, head: null }];
  for (let layer = 0; layer < nLayers; layer++) {
    for (let head = 0; head < nHeads; head++) nodes.push({ id: `a${layer}.h${head}`, kind: 'head', layer, head });
    nodes.push({ id: `m${layer}`, kind: 'mlp', layer, head: null });
  }
  const writers = nodes.length;
  nodes.push({ id: 'logits', kind: 'logits', layer: null, head: null });
  const graph = { nHeads };
  const group = nHeads / nKvHeads;
  const inputs: GraphInput[] = [];
  for (let layer = 0; layer < nLayers; layer++) {
    const before = headNodeIndex(graph, layer, 0);
    for (let head = 0; head < nHeads; head++) {
      inputs.push({ id: `a${layer}.h${head}<q>`, kind: 'q', layer, head, feeds: [headNodeIndex(graph, layer, head)], upstream: before });
    }
    for (const kind of ['k', 'v'] as const) {
      for (let kv = 0; kv < nKvHeads; kv++) {
        const feeds = Array.from({ length: group }, (_, i) => headNodeIndex(graph, layer, kv * group + i));
        const id = group === 1 ? `a${layer}.h${kv}<${kind}>` : `a${layer}.g${kv}<${kind}>`;
        inputs.push({ id, kind, layer, head: kv, feeds, upstream: before });
      }
    }
    const mlp = mlpNodeIndex(graph, layer);
    inputs.push({ id: `m${layer}`, kind: 'mlp', layer, head: null, feeds: [mlp], upstream: parallelResidual ? before : mlp });
  }
  inputs.push({ id: 'logits', kind: 'logits', layer: null, head: null, feeds: [writers], upstream: writers });
  const edges: GraphEdge[] = [];
  inputs.forEach((input, to) => {
    for (let from = 0; from < input.upstream; from++) edges.push({ id: `${nodes[from].id}->${input.id}`, from, to });
  });
  return { nLayers, nHeads, nKvHeads, parallelResidual, nodes, writers, inputs, edges };
}
