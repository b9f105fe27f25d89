// A scored graph and its circuit as plain JSON (snake_case keys, as the CLI's other --json outputs)
// for the web UI, notebooks and other tools: every node and edge with its score and whether the
// circuit keeps it, how the scores were made, and the circuit's faithfulness when it was measured.

import type { EdgeScores } from './attribution.js';
import type { Circuit } from './circuit.js';
import type { CircuitEvaluation, FaithfulnessPoint } from './faithfulness.js';

export interface CircuitJson {
  format: 'dissect-circuit';
  version: 1;
  model: string | null;
  method: string;
  steps: number;
  metric: string;
  ablation: string;
  examples: number;
  baselines: { clean: number; corrupted: number };
  edge_total: number;
  circuit: { edges: number; edge_fraction: number; faithfulness: number | null; value: number | null; empty_value: number | null } | null;
  faithfulness_curve: { top_n: number; edges: number; faithfulness: number; value: number }[];
  nodes: { id: string; kind: string; layer: number | null; head: number | null; in_circuit: boolean }[];
  edges: { id: string; from: string; to: string; input: string; score: number; in_circuit: boolean }[];
}

export interface CircuitJsonExtras {
  model?: string;
  /** The circuit's evaluation, with the empty circuit's metric (CircuitEvaluator.empty). */
  evaluation?: CircuitEvaluation & { empty?: number };
  curve?: readonly FaithfulnessPoint[];
}

/** JSON numbers cannot be NaN or ±∞: those become null. */
function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

export function circuitToJson(scores: EdgeScores, circuit: Circuit | null, extras: CircuitJsonExtras = {}): CircuitJson {
  const { graph } = scores;
  const evaluation = extras.evaluation;
  return {
    format: 'dissect-circuit',
    version: 1,
    model: extras.model ?? null,
    method: scores.method,
    steps: scores.steps,
    metric: scores.metric,
    ablation: scores.ablation,
    examples: scores.examples,
    baselines: { clean: scores.baselines.clean, corrupted: scores.baselines.corrupted },
    edge_total: graph.edges.length,
    circuit: circuit === null ? null : {
      edges: circuit.edgeCount,
      edge_fraction: circuit.edgeCount / graph.edges.length,
      faithfulness: finiteOrNull(evaluation?.faithfulness),
      value: finiteOrNull(evaluation?.value),
      empty_value: finiteOrNull(evaluation?.empty),
    },
    faithfulness_curve: (extras.curve ?? []).map((p) => ({ top_n: p.topN, edges: p.edgeCount, faithfulness: p.faithfulness, value: p.value })),
    nodes: graph.nodes.map((n, i) => ({ id: n.id, kind: n.kind, layer: n.layer, head: n.head, in_circuit: circuit !== null && circuit.nodes[i] === 1 })),
    edges: graph.edges.map((e, i) => ({
      id: e.id,
      from: graph.nodes[e.from].id,
      to: graph.inputs[e.to].id,
      input: graph.inputs[e.to].kind,
      score: scores.scores[i],
      in_circuit: circuit !== null && circuit.edges[i] === 1,
    })),
  };
}
