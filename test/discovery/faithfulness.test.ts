// Running circuits on non-linear random models of each family, against naive interventions: the
// full circuit is the clean run (faithfulness 1) and the empty one the corrupted run (0); a circuit
// missing one edge equals ablating that edge alone; a circuit missing every edge out of two heads in
// successive layers equals patching both heads' outputs (so the correction uses the outputs of the
// run itself, not the clean ones); with mean ablation, missing every edge out of a node equals
// replacing its output by its mean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { circuitFromEdges } from '../../src/discovery/circuit.js';
import { CircuitEvaluator, faithfulnessCurve } from '../../src/discovery/faithfulness.js';
import { attributeEdges } from '../../src/discovery/attribution.js';
import { headNodeIndex, mlpNodeIndex } from '../../src/discovery/graph.js';
import { FAMILIES, VOCAB, randomPairs, tinyModel } from './tiny-models.js';
import { NaiveOracle } from './naive.js';

const TOLERANCE = 2e-5;

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= TOLERANCE * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

for (const family of FAMILIES) {
  test(`${family}: full circuit = clean run, empty = corrupted run, one edge missing = that edge ablated, two heads cut = both patched`, async () => {
    const model = tinyModel(family, 21);
    const pairs = randomPairs(4, 5, 6);
    const evaluator = await CircuitEvaluator.create(model, pairs);
    const graph = evaluator.graph;
    const oracle = new NaiveOracle(model, pairs, graph.nodes);
    try {
      const all = new Uint8Array(graph.edges.length).fill(1);
      const full = await evaluator.evaluate(circuitFromEdges(graph, all, { prune: false }));
      close(full.value, oracle.clean, 'full circuit');
      close(evaluator.clean, oracle.clean, 'clean baseline');
      assert.ok(Math.abs(full.faithfulness - 1) < 1e-6);
      const empty = await evaluator.evaluate(circuitFromEdges(graph, new Uint8Array(graph.edges.length)));
      const corrupted = oracle.patchedWriters([graph.nodes[0]], 'corrupted');
      close(empty.value, corrupted, 'empty circuit');
      assert.ok(Math.abs(empty.faithfulness) < 1e-4, `empty faithfulness ${empty.faithfulness}`);
      assert.ok(Math.abs(oracle.clean - corrupted) > 0.1, 'clean and corrupted runs differ');

      for (const id of ['input->a0.h1<q>', 'a0.h0->a1.h1<k>', 'input->m1', 'm0->logits', 'a1.h0->logits']) {
        const e = graph.edges.findIndex((edge) => edge.id === id);
        if (e < 0) continue; // GQA names k inputs by kv head
        const mask = Uint8Array.from(all);
        mask[e] = 0;
        const missing = await evaluator.evaluate(circuitFromEdges(graph, mask, { prune: false }));
        close(missing.value - oracle.clean, oracle.edgeEffect(graph.nodes[graph.edges[e].from], graph.inputs[graph.edges[e].to]), `without ${id}`);
      }

      const cut = [headNodeIndex(graph, 0, 1), headNodeIndex(graph, 1, 0)];
      const mask = Uint8Array.from(graph.edges, (e) => (cut.includes(e.from) ? 0 : 1));
      const twoCut = await evaluator.evaluate(circuitFromEdges(graph, mask, { prune: false }));
      const patched = oracle.patchedWriters(cut.map((n) => graph.nodes[n]), 'corrupted');
      close(twoCut.value, patched, 'two heads cut');
      assert.ok(Math.abs(patched - oracle.patchedWriters([graph.nodes[cut[0]]], 'corrupted')) > 1e-3, 'the layer-1 head matters on its own');
    } finally {
      oracle.dispose();
      evaluator.dispose();
      model.dispose();
    }
  });
}

test('mean ablation: every edge out of a node missing = its output replaced by the mean; the empty circuit scores 0', async () => {
  const model = tinyModel('gpt2', 8);
  const pairs = randomPairs(6, 4, 5);
  const evaluator = await CircuitEvaluator.create(model, pairs, { ablation: 'mean', batchSize: 4 });
  const graph = evaluator.graph;
  const oracle = new NaiveOracle(model, pairs, graph.nodes);
  try {
    for (const node of [headNodeIndex(graph, 0, 0), mlpNodeIndex(graph, 0), headNodeIndex(graph, 1, 1)]) {
      const mask = Uint8Array.from(graph.edges, (e) => (e.from === node ? 0 : 1));
      const result = await evaluator.evaluate(circuitFromEdges(graph, mask, { prune: false }));
      close(result.value, oracle.patchedWriters([graph.nodes[node]], 'mean'), `${graph.nodes[node].id} mean-ablated`);
    }
    const empty = await evaluator.evaluate(circuitFromEdges(graph, new Uint8Array(graph.edges.length)));
    assert.ok(Math.abs(empty.faithfulness) < 1e-9);
    close(evaluator.empty, oracle.patchedWriters(graph.nodes.slice(0, graph.writers), 'mean'), 'every writer mean-ablated');
  } finally {
    oracle.dispose();
    evaluator.dispose();
    model.dispose();
  }
});

test('faithfulness curve: the edge counts asked for, pruned counts no larger, ending at the full circuit', async () => {
  const model = tinyModel('neox', 3);
  const pairs = randomPairs(2, 4, 5);
  const evaluator = await CircuitEvaluator.create(model, pairs);
  try {
    const scores = await attributeEdges(model, pairs, { method: 'eap-ig', steps: 2 });
    const counts = [0, 3, 10, scores.graph.edges.length];
    const curve = await faithfulnessCurve(evaluator, scores, counts);
    assert.deepEqual(curve.map((p) => p.topN), counts);
    for (const p of curve) assert.ok(p.edgeCount <= p.topN);
    assert.ok(Math.abs(curve[0].faithfulness) < 1e-4);
    assert.ok(Math.abs(curve[curve.length - 1].faithfulness - 1) < 1e-6);
  } finally {
    evaluator.dispose();
    model.dispose();
  }
});

test("metric 'prob': the evaluator's baselines are the answer's mean probability on the clean and corrupted prompts", async () => {
  const model = tinyModel('gpt2', 12);
  const pairs = randomPairs(7, 3, 5);
  const evaluator = await CircuitEvaluator.create(model, pairs, { metric: 'prob' });
  try {
    const probability = (rows: number[][]) => {
      const logits = model.forward(rows, { logitPositions: 'last' });
      const values = logits.toArray();
      logits.dispose();
      return rows.reduce((sum, _, b) => {
        const row = Array.from(values.subarray(b * VOCAB, (b + 1) * VOCAB));
        const max = Math.max(...row);
        const z = row.reduce((s, v) => s + Math.exp(v - max), 0);
        return sum + Math.exp(row[pairs[b].answer] - max) / z;
      }, 0) / rows.length;
    };
    close(evaluator.clean, probability(pairs.map((p) => p.clean)), 'clean probability');
    close(evaluator.empty, probability(pairs.map((p) => p.corrupted)), 'corrupted probability');
  } finally {
    evaluator.dispose();
    model.dispose();
  }
});
