// Neurons as key-value memories: top-activating contexts against a brute-force scan of the cached
// hook_post (rows of mixed lengths, several batches), the gated activation act(gate) · up, and the
// value vector's vocabulary projection against a dense computation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { neuronValueTokens, topActivatingExamples } from '../../src/analysis/neurons.js';
import { IndexError } from '../../src/util/errors.js';
import { TestRng, assertClose, assertNoLeak, assertThrowsWith, fixture } from './inspect-helpers.js';

for (const name of ['gpt2-tiny', 'llama-tiny'] as const) {
  test(`${name}: top-activating examples equal a brute-force scan`, async () => {
    const { model } = await fixture(name);
    const c = model.config;
    const rng = new TestRng(4);
    const rows = [...rng.tokens(5, 12, c.dVocab), ...rng.tokens(3, 7, c.dVocab)];
    const layer = 1;
    const neurons = [3, 0, c.dMlp - 1];
    // Brute force: every activation of every row from a cache of that row alone.
    const all: { neuron: number; row: number; position: number; activation: number }[] = [];
    rows.forEach((row, r) => {
      const names = [`blocks.${layer}.mlp.hook_post`, `blocks.${layer}.mlp.hook_pre`,
        ...(c.gatedMlp ? [`blocks.${layer}.mlp.hook_pre_linear`] : [])];
      const { logits, cache } = model.runWithCache([row], { names });
      const post = cache.get(names[0]).toArray();
      if (c.gatedMlp) {
        // hook_post is act(gate) · up: silu(hook_pre) · hook_pre_linear.
        const pre = cache.get(names[1]).toArray();
        const up = cache.get(names[2]).toArray();
        const expected = Array.from(pre, (g, i) => (g / (1 + Math.exp(-g))) * up[i]);
        assertClose(post, expected, 1e-5, 'gated activation');
      }
      neurons.forEach((n) => row.forEach((_, p) => all.push({ neuron: n, row: r, position: p, activation: post[p * c.dMlp + n] })));
      logits.dispose();
      cache.dispose();
    });
    const progress: number[][] = [];
    const examples = topActivatingExamples(model, rows, layer, neurons, {
      k: 4, batchSize: 2, window: { before: 3, after: 1 }, onProgress: (done, total) => progress.push([done, total]),
    });
    assert.deepEqual(progress, [[2, 8], [4, 8], [5, 8], [7, 8], [8, 8]], 'batches of 2 within each length group');
    neurons.forEach((n, j) => {
      const expected = all.filter((e) => e.neuron === n).sort((a, b) => b.activation - a.activation).slice(0, 4);
      assert.deepEqual(examples[j].map((e) => [e.row, e.position]), expected.map((e) => [e.row, e.position]), `neuron ${n} positions`);
      assertClose(examples[j].map((e) => e.activation), expected.map((e) => e.activation), 1e-5, `neuron ${n} activations`);
      for (const e of examples[j]) {
        assert.equal(e.contextStart, Math.max(0, e.position - 3));
        assert.deepEqual(e.context, rows[e.row].slice(e.contextStart, e.position + 2));
      }
    });
  });
}

test('llama-tiny: a neuron value vector read through ln_final and W_U', async () => {
  const { model } = await fixture('llama-tiny');
  const c = model.config;
  const [layer, neuron] = [0, 17];
  // down_proj is an nn.Linear [d_model, d_mlp]: the value vector is its column.
  const down = model.params.blocks[layer].mlp.out.weight.toArray();
  const value = Float64Array.from({ length: c.dModel }, (_, d) => down[d * c.dMlp + neuron]);
  const wf = model.params.lnFinal.weight!.toArray();
  const wU = model.params.unembed.weight.toArray(); // [vocab, d]
  for (const throughFinalNorm of [true, false]) {
    const logits = Array.from({ length: c.dVocab }, (_, v) => {
      let s = 0;
      for (let d = 0; d < c.dModel; d++) s += value[d] * (throughFinalNorm ? wf[d] : 1) * wU[v * c.dModel + d];
      return s;
    });
    const order = logits.map((x, v) => [x, v]).sort((a, b) => b[0] - a[0]);
    const result = neuronValueTokens(model, layer, neuron, { k: 5, throughFinalNorm });
    assertClose(result.value.toArray(), value, 0, 'value vector');
    assert.deepEqual(result.top.map((t) => t.token), order.slice(0, 5).map(([, v]) => v));
    assert.deepEqual(result.bottom.map((t) => t.token), order.slice(-5).reverse().map(([, v]) => v));
    assertClose(result.top.map((t) => t.value), order.slice(0, 5).map(([x]) => x), 1e-5, 'top logits');
    result.value.dispose();
  }
});

test('neuron analyses free their temporaries and name bad arguments', async () => {
  const { model, tokens } = await fixture('pythia-tiny');
  assertNoLeak('neurons', () => {
    topActivatingExamples(model, tokens, 0, 5);
    neuronValueTokens(model, 1, 2).value.dispose();
  });
  assertThrowsWith(() => topActivatingExamples(model, tokens, 2, 0), IndexError, ['layer 2']);
  assertThrowsWith(() => topActivatingExamples(model, tokens, 0, [256]), IndexError, ['neuron 256', '0..255']);
  assertThrowsWith(() => neuronValueTokens(model, 0, -1), IndexError, ['neuron -1']);
});
