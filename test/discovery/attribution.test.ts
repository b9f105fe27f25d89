// Edge scores against single-edge ablation done naively (one forward pass per edge, plain hooks).
// On models that are affine in every edge, EAP is the exact first-order Taylor term, so EAP, EAP-IG
// and the activations variant must all equal the true effects. With one GELU MLP, EAP misses the
// effect of the one non-linear edge and EAP-IG converges to it as the steps grow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributeEdges, type AttributionMethod } from '../../src/discovery/attribution.js';
import { FAMILIES, randomPairs, tinyModel } from './tiny-models.js';
import { NaiveOracle } from './naive.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import type { EdgeScores } from '../../src/discovery/attribution.js';
import { CircuitEvaluator, faithfulnessCurve } from '../../src/discovery/faithfulness.js';

function naiveEffects(model: HookedTransformer, pairs: ReturnType<typeof randomPairs>, scores: EdgeScores): number[] {
  const oracle = new NaiveOracle(model, pairs, scores.graph.nodes);
  try {
    return scores.graph.edges.map((e) => oracle.edgeEffect(scores.graph.nodes[e.from], scores.graph.inputs[e.to]));
  } finally {
    oracle.dispose();
  }
}

for (const family of FAMILIES) {
  test(`${family}, affine in every edge: EAP, EAP-IG and EAP-IG over activations equal single-edge ablation`, async () => {
    const model = tinyModel(family, 7, { linear: true });
    const pairs = randomPairs(3, 5, 6);
    try {
      const eap = await attributeEdges(model, pairs, { method: 'eap' });
      const naive = naiveEffects(model, pairs, eap);
      const largest = Math.max(...naive.map(Math.abs));
      assert.ok(naive.filter((v) => Math.abs(v) > 0.05 * largest).length >= 8, 'enough edges carry an effect for the comparison to mean something');
      for (const method of ['eap', 'eap-ig', 'eap-ig-activations'] as AttributionMethod[]) {
        const scores = method === 'eap' ? eap : await attributeEdges(model, pairs, { method, steps: 3, batchSize: 2 });
        scores.scores.forEach((s, e) => {
          assert.ok(Math.abs(s - naive[e]) <= 2e-4 * Math.max(1, largest), `${method} ${eap.graph.edges[e].id}: score ${s} vs effect ${naive[e]}`);
        });
      }
    } finally {
      model.dispose();
    }
  });
}

test('one GELU MLP: EAP misses the non-linear edge; EAP-IG converges to its effect as steps grow; the linear edges stay exact', async () => {
  const model = tinyModel('gpt2', 5, { linear: true, geluMlp0: true });
  const pairs = randomPairs(9, 6, 6);
  try {
    const eap = await attributeEdges(model, pairs, { method: 'eap' });
    const naive = naiveEffects(model, pairs, eap);
    const edge = eap.graph.edges.findIndex((e) => e.id === 'input->m0');
    const effect = naive[edge];
    const largest = Math.max(...naive.map(Math.abs));
    eap.scores.forEach((s, e) => {
      if (e !== edge) assert.ok(Math.abs(s - naive[e]) <= 2e-4 * Math.max(1, largest), `EAP ${eap.graph.edges[e].id}: ${s} vs ${naive[e]}`);
    });
    const errors: number[] = [];
    for (const steps of [2, 8, 32]) {
      const ig = await attributeEdges(model, pairs, { method: 'eap-ig', steps });
      errors.push(Math.abs(ig.scores[edge] - effect));
    }
    const eapError = Math.abs(eap.scores[edge] - effect);
    assert.ok(eapError > 0.1 * Math.abs(effect), `the edge must be non-linear enough to matter: EAP ${eap.scores[edge]} vs effect ${effect}`);
    assert.ok(errors[0] > errors[1] && errors[1] > errors[2], `IG error must shrink with steps: ${errors.join(', ')}`);
    assert.ok(errors[2] < 0.05 * Math.abs(effect) && errors[2] < eapError / 5, `32 steps: error ${errors[2]} for effect ${effect} (EAP error ${eapError})`);
  } finally {
    model.dispose();
  }
});

test('progress reaches the total; an aborted signal rejects', async () => {
  const model = tinyModel('llama', 2);
  const pairs = randomPairs(1, 4, 5);
  try {
    const seen: [number, number][] = [];
    await attributeEdges(model, pairs, { method: 'eap-ig', steps: 2, batchSize: 2, onProgress: (done, total) => seen.push([done, total]) });
    const [done, total] = seen[seen.length - 1];
    assert.equal(done, total);
    assert.equal(total, 2 * (2 + 2), 'two batches, each: clean, corrupted and two gradient passes');
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await assert.rejects(attributeEdges(model, pairs, { signal: controller.signal }), /stop/);
  } finally {
    model.dispose();
  }
});

test('scoring, running circuits and the curve free every buffer they allocate (mean ablation included)', async () => {
  const model = tinyModel('llama', 4);
  const pairs = randomPairs(8, 4, 5);
  const backend = model.backend;
  try {
    const baseline = backend.liveBuffers();
    for (const method of ['eap', 'eap-ig', 'eap-ig-activations'] as AttributionMethod[]) {
      for (const ablation of ['corrupted', 'mean'] as const) await attributeEdges(model, pairs, { method, steps: 2, ablation, batchSize: 3 });
    }
    assert.equal(backend.liveBuffers(), baseline, 'after attribution');
    const scores = await attributeEdges(model, pairs, { method: 'eap' });
    for (const ablation of ['corrupted', 'mean'] as const) {
      const evaluator = await CircuitEvaluator.create(model, pairs, { ablation, batchSize: 3 });
      await faithfulnessCurve(evaluator, scores, [0, 5, 40]);
      evaluator.dispose();
    }
    assert.equal(backend.liveBuffers(), baseline, 'after circuits');
  } finally {
    model.dispose();
  }
});
