// A circuit: the edges kept from the graph. Selection ranks edges by |score| and keeps the top n or
// those above a threshold; pruning then drops every edge that is not on a path from the input to
// the logits through kept edges (as the reference's Graph.prune), because such an edge cannot
// change the output: its sender receives only ablated inputs, or its receiver reaches nothing.

import { ArgumentError } from '../util/errors.js';
import type { EdgeScores } from './attribution.js';
import type { ComputeGraph } from './graph.js';

export interface Circuit {
  readonly graph: ComputeGraph;
  /** 1 for each edge (graph.edges order) in the circuit. */
  readonly edges: Uint8Array;
  /** 1 for each node on a kept path (input and logits included when any edge is kept). */
  readonly nodes: Uint8Array;
  readonly edgeCount: number;
}

export interface CircuitSelection {
  /** Keep the n edges of largest |score| (before pruning). */
  topN?: number;
  /** Keep every edge with |score| ≥ threshold (before pruning). */
  threshold?: number;
  /** Drop edges off input → logits paths (default true). */
  prune?: boolean;
}

/** Edge indices by decreasing |score| (ties: graph order). */
export function rankEdges(scores: Float64Array): number[] {
  return Array.from(scores.keys()).sort((a, b) => Math.abs(scores[b]) - Math.abs(scores[a]) || a - b);
}

/** The circuit of the best-scoring edges. */
export function selectCircuit(scores: EdgeScores, selection: CircuitSelection): Circuit {
  const { topN, threshold } = selection;
  if ((topN === undefined) === (threshold === undefined)) throw new ArgumentError('give exactly one of topN and threshold');
  const chosen = new Uint8Array(scores.scores.length);
  if (topN !== undefined) {
    if (!Number.isInteger(topN) || topN < 0) throw new ArgumentError(`topN must be a non-negative integer, got ${topN}`);
    for (const e of rankEdges(scores.scores).slice(0, topN)) chosen[e] = 1;
  } else {
    if (!(Number(threshold) >= 0)) throw new ArgumentError(`threshold must be a non-negative number, got ${threshold}`);
    scores.scores.forEach((s, e) => { if (Math.abs(s) >= (threshold as number)) chosen[e] = 1; });
  }
  return circuitFromEdges(scores.graph, chosen, { prune: selection.prune ?? true });
}

/** A circuit from an edge mask (1 = kept) or a list of edge ids, pruned unless `prune` is false. */
export function circuitFromEdges(graph: ComputeGraph, edges: Uint8Array | readonly string[], options: { prune?: boolean } = {}): Circuit {
  let mask: Uint8Array;
  if (edges instanceof Uint8Array) {
    if (edges.length !== graph.edges.length) throw new ArgumentError(`edge mask has ${edges.length} entries; the graph has ${graph.edges.length} edges`);
    mask = Uint8Array.from(edges, (v) => (v ? 1 : 0));
  } else {
    const index = new Map(graph.edges.map((e, i) => [e.id, i]));
    mask = new Uint8Array(graph.edges.length);
    for (const id of edges) {
      const i = index.get(id);
      if (i === undefined) throw new ArgumentError(`unknown edge '${id}' (edges look like 'input->a0.h1<q>', 'a0.h1->m1', 'm3->logits')`);
      mask[i] = 1;
    }
  }
  const reach = reachability(graph, mask);
  const kept = options.prune ?? true
    ? Uint8Array.from(mask, (v, e) => (v && reach.fromInput[graph.edges[e].from] && reach.toLogits[graph.edges[e].to] ? 1 : 0))
    : mask;
  const nodes = new Uint8Array(graph.nodes.length);
  kept.forEach((v, e) => {
    if (!v) return;
    const edge = graph.edges[e];
    nodes[edge.from] = 1;
    for (const n of graph.inputs[edge.to].feeds) nodes[n] = 1;
  });
  return { graph, edges: kept, nodes, edgeCount: kept.reduce((a, b) => a + b, 0) };
}

/**
 * fromInput[node]: reached from the input through kept edges. toLogits[input]: the input feeds a
 * node that reaches the logits through kept edges. One pass each way suffices: inputs are in
 * computation order and every edge runs forward in it.
 */
function reachability(graph: ComputeGraph, mask: Uint8Array): { fromInput: Uint8Array; toLogits: Uint8Array } {
  const byInput: number[][] = graph.inputs.map(() => []);
  graph.edges.forEach((e, i) => { if (mask[i]) byInput[e.to].push(e.from); });
  const fromInput = new Uint8Array(graph.nodes.length);
  fromInput[0] = 1;
  graph.inputs.forEach((input, i) => {
    if (byInput[i].some((from) => fromInput[from])) for (const n of input.feeds) fromInput[n] = 1;
  });
  const reachesLogits = new Uint8Array(graph.nodes.length);
  reachesLogits[graph.writers] = 1;
  const toLogits = new Uint8Array(graph.inputs.length);
  for (let i = graph.inputs.length - 1; i >= 0; i--) {
    if (!graph.inputs[i].feeds.some((n) => reachesLogits[n])) continue;
    toLogits[i] = 1;
    for (const from of byInput[i]) reachesLogits[from] = 1;
  }
  return { fromInput, toLogits };
}
