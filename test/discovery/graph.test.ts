// The edge graph against a brute-force enumeration from each component's place in the forward pass,
// for sequential, parallel-residual and grouped-query models; selection and pruning on hand-made masks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, type ComputeGraph } from '../../src/discovery/graph.js';
import { circuitFromEdges, selectCircuit } from '../../src/discovery/circuit.js';
import type { EdgeScores } from '../../src/discovery/attribution.js';
import { gpt2Config } from '../../src/models/arch/gpt2-config.js';
import { neoxConfig } from '../../src/models/arch/neox-config.js';
import { llamaLikeConfig } from '../../src/models/arch/llama-config.js';
import { ArgumentError } from '../../src/util/errors.js';

const gpt2 = gpt2Config({ model_type: 'gpt2', n_embd: 16, n_head: 2, n_layer: 3, n_positions: 8, vocab_size: 5 });
const neox = neoxConfig({ model_type: 'gpt_neox', hidden_size: 16, num_attention_heads: 2, num_hidden_layers: 2, intermediate_size: 8, max_position_embeddings: 8, vocab_size: 5 });
const llama = llamaLikeConfig({ model_type: 'llama', hidden_size: 16, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: 2, intermediate_size: 8, max_position_embeddings: 8, vocab_size: 5 }, 'llama');

/** Edge ids from first principles: a writer at step s feeds a reader at step t > s (input 0, layer-l heads 2l+1, MLP 2l+2). */
function bruteForceEdges(nLayers: number, nHeads: number, nKv: number, parallel: boolean): Set<string> {
  const writers: { id: string; step: number }[] = [{ id: 'input', step: 0 }];
  const readers: { id: string; step: number }[] = [];
  for (let l = 0; l < nLayers; l++) {
    for (let h = 0; h < nHeads; h++) {
      writers.push({ id: `a${l}.h${h}`, step: 2 * l + 1 });
      readers.push({ id: `a${l}.h${h}<q>`, step: 2 * l + 1 });
    }
    for (let g = 0; g < nKv; g++) {
      const name = nKv === nHeads ? `a${l}.h${g}` : `a${l}.g${g}`;
      readers.push({ id: `${name}<k>`, step: 2 * l + 1 }, { id: `${name}<v>`, step: 2 * l + 1 });
    }
    writers.push({ id: `m${l}`, step: 2 * l + 2 });
    // A parallel-residual MLP reads what its layer's attention reads.
    readers.push({ id: `m${l}`, step: parallel ? 2 * l + 1 : 2 * l + 2 });
  }
  readers.push({ id: 'logits', step: Infinity });
  const edges = new Set<string>();
  for (const w of writers) for (const r of readers) if (w.step < r.step) edges.add(`${w.id}->${r.id}`);
  return edges;
}

for (const [name, config] of [['gpt2 (sequential)', gpt2], ['neox (parallel residual)', neox], ['llama (GQA 4/2)', llama]] as const) {
  test(`${name}: the graph's edges are exactly those from earlier writers to later readers`, () => {
    const graph = buildGraph(config);
    const ids = graph.edges.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'edge ids are unique');
    assert.deepEqual(new Set(ids), bruteForceEdges(config.nLayers, config.nHeads, config.nKvHeads, config.parallelResidual));
    for (const e of graph.edges) assert.equal(e.id, `${graph.nodes[e.from].id}->${graph.inputs[e.to].id}`);
    assert.equal(graph.writers, 1 + config.nLayers * (config.nHeads + 1));
  });
}

test('under GQA a kv input feeds the query heads of its group', () => {
  const graph = buildGraph(llama);
  const k = graph.inputs.find((i) => i.id === 'a1.g1<k>');
  assert.deepEqual(k?.feeds.map((n) => graph.nodes[n].id), ['a1.h2', 'a1.h3']);
});

function fakeScores(graph: ComputeGraph, values: Record<string, number>): EdgeScores {
  const scores = Float64Array.from(graph.edges, (e) => values[e.id] ?? 0);
  return { graph, scores, method: 'eap', steps: 1, ablation: 'corrupted', metric: 'logit-diff', examples: 1, baselines: { clean: 1, corrupted: 0 } };
}

test('pruning keeps only edges on input → logits paths; selection by top-n and by threshold uses |score|', () => {
  const graph = buildGraph(gpt2);
  const chosen = ['input->a0.h0<v>', 'a0.h0->a2.h1<k>', 'a2.h1->logits', 'a1.h1->logits', 'input->a1.h0<q>', 'a0.h0->m0'];
  const circuit = circuitFromEdges(graph, chosen);
  const kept = graph.edges.filter((_, e) => circuit.edges[e]).map((e) => e.id);
  // a1.h1 receives nothing (dangling sender); a1.h0 and m0 reach nothing (dangling receivers).
  assert.deepEqual(kept, ['input->a0.h0<v>', 'a0.h0->a2.h1<k>', 'a2.h1->logits']);
  assert.equal(circuit.edgeCount, 3);
  const nodes = graph.nodes.filter((_, n) => circuit.nodes[n]).map((n) => n.id);
  assert.deepEqual(nodes, ['input', 'a0.h0', 'a2.h1', 'logits']);
  assert.equal(circuitFromEdges(graph, chosen, { prune: false }).edgeCount, chosen.length);

  const scores = fakeScores(graph, { 'input->logits': -3, 'm2->logits': 2, 'input->m2': 0.5, 'input->a0.h0<q>': 1 });
  const top2 = selectCircuit(scores, { topN: 2, prune: false });
  assert.deepEqual(graph.edges.filter((_, e) => top2.edges[e]).map((e) => e.id), ['input->logits', 'm2->logits']);
  // Pruned, m2 (which nothing from the input reaches among the two) goes.
  assert.deepEqual(graph.edges.filter((_, e) => selectCircuit(scores, { topN: 2 }).edges[e]).map((e) => e.id), ['input->logits']);
  const above = selectCircuit(scores, { threshold: 0.5 });
  assert.deepEqual(graph.edges.filter((_, e) => above.edges[e]).map((e) => e.id), ['input->m2', 'input->logits', 'm2->logits']);
  assert.throws(() => selectCircuit(scores, {}), ArgumentError);
  assert.throws(() => circuitFromEdges(graph, ['a0.h0->a0.h1<q>']), /unknown edge 'a0.h0->a0.h1<q>'/);
});
