// The logit lens: its last row is the model's own output distribution, an intermediate row matches
// a plain-JS re-normalisation + unembedding ('fresh' and 'cached'), ranks count better tokens, and
// the heatmap view lines up with the tensors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logitLens, logitLensHeatmap, runLogitLens, type LensNorm } from '../../src/analysis/logit-lens.js';
import { dispose } from '../../src/tensor/index.js';
import { ArgumentError } from '../../src/util/errors.js';
import { FIXTURES, TestRng, assertClose, assertNoLeak, assertThrowsWith, fixture, matmulF64 } from './inspect-helpers.js';

/** Softmax of one row in float64. */
function softmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  const out = Float64Array.from(row, (x) => Math.exp(x - max));
  const total = out.reduce((a, b) => a + b, 0);
  return out.map((x) => x / total);
}

/** Indices of the k largest values, best first (ties: lower index). */
function topIndices(values: ArrayLike<number>, k: number): number[] {
  return Array.from(values, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map(([, i]) => i);
}

for (const name of FIXTURES) {
  for (const norm of ['fresh', 'cached'] as LensNorm[]) {
    test(`${name} (${norm}): the final row is the model's own distribution`, async () => {
      const { model, tokens } = await fixture(name);
      const c = model.config;
      const [batch, pos] = [tokens.length, tokens[0].length];
      const rng = new TestRng(11);
      const positions = [0, 5, -1];
      const targets = tokens.map(() => positions.map(() => rng.int(0, c.dVocab)));
      const { logits, cache } = model.runWithCache(tokens);
      try {
        const lens = logitLens(model, cache, { positions, targets, topK: 3, norm });
        assert.deepEqual(lens.positions, [0, 5, pos - 1]);
        assert.deepEqual([...lens.topTokens.shape], [c.nLayers + 1, batch, 3, 3]);
        const logitData = logits.toArray();
        const final = c.nLayers;
        const topTokens = lens.topTokens.toArray();
        const topProbs = lens.topProbs.toArray();
        const targetProbs = lens.targetProbs!.toArray();
        const targetRanks = lens.targetRanks!.toArray();
        for (let b = 0; b < batch; b++) {
          lens.positions.forEach((p, j) => {
            const row = logitData.subarray((b * pos + p) * c.dVocab, (b * pos + p + 1) * c.dVocab);
            const probs = softmax(row);
            const cell = (final * batch + b) * 3 + j;
            const expectedTop = topIndices(probs, 3);
            assert.deepEqual(Array.from(topTokens.subarray(cell * 3, cell * 3 + 3)), expectedTop, `top tokens b${b} p${p}`);
            assertClose(topProbs.subarray(cell * 3, cell * 3 + 3), expectedTop.map((t) => probs[t]), 1e-5, `top probs b${b} p${p}`);
            const t = targets[b][j];
            assertClose([targetProbs[cell]], [probs[t]], 1e-5, `target prob b${b} p${p}`);
            const better = probs.reduce((n, q) => n + (q > probs[t] ? 1 : 0), 0);
            assert.ok(Math.abs(targetRanks[cell] - better) <= 1, `rank ${targetRanks[cell]} vs ${better} (ties within float rounding)`);
          });
        }
        dispose(lens);
      } finally {
        logits.dispose();
        cache.dispose();
      }
    });
  }
}

for (const name of ['pythia-tiny', 'llama-tiny'] as const) {
  test(`${name}: an intermediate row matches a plain-JS norm + unembedding (fresh and cached)`, async () => {
    const { model, tokens } = await fixture(name);
    const c = model.config;
    const { logits, cache } = model.runWithCache(tokens);
    try {
      const b = 1;
      const p = 4;
      const layer = 1;
      const resid = cache.get(`blocks.${layer}.hook_resid_pre`).select(0, b).select(0, p);
      const x = Float64Array.from(resid.toArray());
      resid.dispose();
      const scaleT = cache.get('ln_final.hook_scale');
      const cachedScale = scaleT.toArray()[b * tokens[0].length + p];
      const w = model.params.lnFinal.weight!.toArray();
      const bias = model.params.lnFinal.bias?.toArray() ?? null;
      const unembed = model.params.unembed; // nn.Linear [vocab, d] in both fixtures
      assert.equal(unembed.transposed, true);
      const wU = unembed.weight.toArray();
      const wUT = new Float64Array(c.dModel * c.dVocab);
      for (let v = 0; v < c.dVocab; v++) for (let d = 0; d < c.dModel; d++) wUT[d * c.dVocab + v] = wU[v * c.dModel + d];

      for (const norm of ['fresh', 'cached'] as LensNorm[]) {
        const mean = c.norm === 'layernorm' ? x.reduce((a, v) => a + v, 0) / x.length : 0;
        const centered = x.map((v) => v - mean);
        const ownScale = Math.sqrt(centered.reduce((a, v) => a + v * v, 0) / x.length + c.normEps);
        const scale = norm === 'fresh' ? ownScale : cachedScale;
        const normalized = centered.map((v, d) => (v / scale) * w[d] + (bias ? bias[d] : 0));
        const expectedLogits = matmulF64(normalized, wUT, 1, c.dModel, c.dVocab);
        const probs = softmax(expectedLogits);
        const lens = logitLens(model, cache, { positions: [p], topK: 4, norm, targets: 17 });
        const cell = (layer * tokens.length + b) * 1;
        const topTokens = Array.from(lens.topTokens.toArray().subarray(cell * 4, cell * 4 + 4));
        assert.deepEqual(topTokens, topIndices(probs, 4), `${norm}: top tokens`);
        assertClose([lens.targetProbs!.toArray()[cell]], [probs[17]], 1e-5, `${norm}: target prob`);
        dispose(lens);
      }
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });
}

test('runLogitLens and the heatmap view agree with logitLens; no leaks; bad options are named', async () => {
  const { model, tokens } = await fixture('llama-tiny');
  const c = model.config;
  const next = tokens.map((row) => [...row.slice(1), row[0]]);
  assertNoLeak('runLogitLens', () => dispose(runLogitLens(model, tokens, { targets: next, norm: 'cached' })));
  const lens = runLogitLens(model, tokens, { targets: next });
  const map = logitLensHeatmap(lens, 1);
  assert.equal(map.rows.length, c.nLayers + 1);
  assert.deepEqual(map.columns, Array.from({ length: tokens[0].length }, (_, i) => i));
  const k = lens.topTokens.shape[3];
  const cell = (2 * tokens.length + 1) * tokens[0].length + 5;
  assert.equal(map.tokens[2][5], lens.topTokens.toArray()[cell * k]);
  assert.equal(map.values[2][5], lens.targetProbs!.toArray()[cell]);
  const { logits, cache } = model.runWithCache(tokens);
  try {
    assertThrowsWith(() => logitLens(model, cache, { topK: 0 }), ArgumentError, ['topK 0']);
    assertThrowsWith(() => logitLensHeatmap(lens, 2), ArgumentError, ['batch index 2']);
  } finally {
    dispose([logits, lens]);
    cache.dispose();
  }
});
