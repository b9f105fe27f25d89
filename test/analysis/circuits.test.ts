// Per-head weights read from the checkpoint layouts (GPT-2 Conv1D fused [q|k|v], NeoX fused per
// head, Llama separate with GQA) checked against the forward pass's own q/k/v, then the QK / OV
// circuits, full circuits, OV top tokens and copying scores against dense computations.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  copyingScore, copyingScoreOf, copyingScores, fullOVCircuit, fullQKCircuit, headOV, headQK, ovTopTokens,
} from '../../src/analysis/circuits.js';
import { headBias, headOutputWeight, headWeight, kvHeadOf, type QkvName } from '../../src/analysis/model-weights.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { dispose, tidy } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { IndexError } from '../../src/util/errors.js';
import { FIXTURES, assertClose, assertNoLeak, assertThrowsWith, fixture, matmulF64, maxAbs } from './inspect-helpers.js';

/** Dense float64 copy of a fresh tensor (a weight view), which it then disposes. */
function denseOf(t: Tensor): Float64Array {
  const data = Float64Array.from(t.toArray());
  t.dispose();
  return data;
}

/** diag(w) · M for M [d, k]. */
function scaleRows(m: Float64Array, w: ArrayLike<number> | null, cols: number): Float64Array {
  return w === null ? m : m.map((v, i) => v * w[Math.floor(i / cols)]);
}

/** The weight ln1 (or ln_final) multiplies by, as a plain array (Gemma's offset included). */
function normWeightArray(model: HookedTransformer, which: 'ln1' | 'final', layer = 0): Float64Array | null {
  const p = which === 'final' ? model.params.lnFinal : model.params.blocks[layer].ln1;
  return p.weight === null ? null : Float64Array.from(p.weight.toArray(), (v) => v + model.config.normWeightOffset);
}

for (const name of FIXTURES) {
  test(`${name}: W_Q/W_K/W_V and biases reproduce the forward pass's hook_q/k/v`, async () => {
    const { model, tokens } = await fixture(name);
    const c = model.config;
    const layer = 1;
    const { logits, cache } = model.runWithCache(tokens, {
      names: [`blocks.${layer}.ln1.hook_normalized`, ...['q', 'k', 'v'].map((x) => `blocks.${layer}.attn.hook_${x}`)],
    });
    try {
      // The block input after ln1 (LayerNorm's hook_normalized includes weight and bias; RMSNorm's lacks the weight).
      const x = tidy(() => {
        const normalized = cache.get(`blocks.${layer}.ln1.hook_normalized`);
        const w = model.params.blocks[layer].ln1.weight;
        return c.norm === 'rmsnorm' && w !== null ? normalized.mul(w.add(c.normWeightOffset)) : normalized.mul(1);
      });
      for (const which of ['Q', 'K', 'V'] as QkvName[]) {
        const hook = cache.get(`blocks.${layer}.attn.hook_${which.toLowerCase()}`);
        for (let h = 0; h < c.nHeads; h++) {
          const got = tidy(() => {
            const w = headWeight(model, layer, h, which);
            const b = headBias(model, layer, h, which);
            const y = x.matmul(w);
            return b === null ? y : y.add(b);
          });
          const headIndex = which === 'Q' ? h : kvHeadOf(c, h);
          const expected = tidy(() => hook.select(2, headIndex).contiguous());
          assertClose(got.toArray(), expected.toArray(), 1e-5, `${which} head ${h}`);
          dispose([got, expected]);
        }
      }
      x.dispose();
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });

  test(`${name}: OV and QK circuits (and full circuits) equal their dense products`, async () => {
    const { model } = await fixture(name);
    const c = model.config;
    const [layer, head] = [1, 3];
    const w1 = normWeightArray(model, 'ln1', layer);
    const wV = scaleRows(denseOf(headWeight(model, layer, head, 'V')), w1, c.dHead);
    const wQ = scaleRows(denseOf(headWeight(model, layer, head, 'Q')), w1, c.dHead);
    const wK = scaleRows(denseOf(headWeight(model, layer, head, 'K')), w1, c.dHead);
    const wO = denseOf(headOutputWeight(model, layer, head));
    const ovDense = matmulF64(wV, wO, c.dModel, c.dHead, c.dModel);
    const kT = new Float64Array(c.dHead * c.dModel);
    for (let i = 0; i < c.dModel; i++) for (let j = 0; j < c.dHead; j++) kT[j * c.dModel + i] = wK[i * c.dHead + j];
    const qkDense = matmulF64(wQ, kT, c.dModel, c.dHead, c.dModel);

    const ov = headOV(model, layer, head);
    const qk = headQK(model, layer, head);
    const [ovProduct, qkProduct] = [ov.product(), qk.product()];
    assertClose(ovProduct.toArray(), ovDense, 1e-5 * maxAbs(ovDense), 'OV');
    assertClose(qkProduct.toArray(), qkDense, 1e-5 * maxAbs(qkDense), 'QK');
    const unfolded = headOV(model, layer, head, { foldNormWeights: false });
    const unfoldedDense = matmulF64(denseOf(headWeight(model, layer, head, 'V')), wO, c.dModel, c.dHead, c.dModel);
    const unfoldedProduct = unfolded.product();
    assertClose(unfoldedProduct.toArray(), unfoldedDense, 1e-5 * maxAbs(unfoldedDense), 'OV without folding');

    // Full OV circuit rows: W_E[t] · OV · diag(w_f) W_U, for two tokens.
    const tokensToCheck = [3, c.dVocab - 1];
    const embed = model.params.embed.toArray();
    const wf = normWeightArray(model, 'final');
    const unembed = model.params.unembed;
    const full = fullOVCircuit(model, layer, head);
    const rows = full.rows(tokensToCheck);
    const rowData = rows.toArray();
    tokensToCheck.forEach((t, i) => {
      const e = Float64Array.from(embed.subarray(t * c.dModel, (t + 1) * c.dModel), (v) => v * c.embedScale);
      const out = matmulF64(e, ovDense, 1, c.dModel, c.dModel).map((v, d) => v * (wf ? wf[d] : 1));
      const logits = new Float64Array(c.dVocab);
      const w = unembed.weight.toArray();
      for (let v = 0; v < c.dVocab; v++) {
        let s = 0;
        for (let d = 0; d < c.dModel; d++) s += out[d] * (unembed.transposed ? w[v * c.dModel + d] : w[d * c.dVocab + v]);
        logits[v] = s;
      }
      assertClose(rowData.subarray(i * c.dVocab, (i + 1) * c.dVocab), logits, 1e-5 * Math.max(1e-3, maxAbs(logits)), `full OV row of token ${t}`);
      if (i === 0) {
        const { top, bottom } = ovTopTokens(model, layer, head, t, { k: 3 });
        const order = Array.from(logits, (v, j) => [v, j]).sort((p, q) => q[0] - p[0]);
        assert.deepEqual(top.map((s) => s.token), order.slice(0, 3).map(([, j]) => j), 'top tokens');
        assert.deepEqual(bottom.map((s) => s.token), order.slice(-3).reverse().map(([, j]) => j), 'bottom tokens');
      }
    });
    const fullQK = fullQKCircuit(model, layer, head);
    assert.deepEqual(fullQK.shape, [c.dVocab, c.dVocab]);
    assert.equal(fullQK.mdim, c.dHead);
    dispose([ovProduct, qkProduct, unfoldedProduct, rows]);
    for (const f of [ov, qk, unfolded, full, fullQK]) f.dispose();
  });
}

for (const name of ['pythia-tiny', 'llama-tiny'] as const) {
  test(`${name}: copying score = Σ Re λ / Σ |λ| with Σ λ = trace of the dense full OV circuit`, async () => {
    const { model } = await fixture(name);
    const c = model.config;
    const circuit = fullOVCircuit(model, 0, 1);
    const dense = circuit.product();
    const data = dense.toArray();
    let trace = 0;
    for (let i = 0; i < c.dVocab; i++) trace += data[i * c.dVocab + i];
    const { real, imag } = circuit.eigenvalues();
    const re = real.toArray();
    const im = imag.toArray();
    assertClose([Array.from(re).reduce((s, v) => s + v, 0)], [trace], 1e-4 * Math.max(1, Math.abs(trace)), 'Σ λ = trace');
    let traceSquare = 0; // trace(M²) = Σ λ²
    for (let i = 0; i < c.dVocab; i++) for (let j = 0; j < c.dVocab; j++) traceSquare += data[i * c.dVocab + j] * data[j * c.dVocab + i];
    const sumSquares = Array.from(re).reduce((s, v, i) => s + v * v - im[i] * im[i], 0);
    assertClose([sumSquares], [traceSquare], 1e-4 * Math.max(1, Math.abs(traceSquare)), 'Σ λ² = trace(M²)');
    const score = copyingScore(model, 0, 1);
    assertClose([score], [copyingScoreOf(circuit)], 1e-7, 'copyingScore');
    const all = copyingScores(model);
    assert.deepEqual([...all.shape], [c.nLayers, c.nHeads]);
    assertClose([all.toArray()[1]], [score], 1e-6, 'copyingScores[0, 1]');
    assert.ok(Array.from(all.toArray()).every((v) => v >= -1 - 1e-6 && v <= 1 + 1e-6));
    dispose([dense, real, imag, all]);
    circuit.dispose();
  });
}

test('circuit functions free their temporaries and check heads', async () => {
  const { model } = await fixture('llama-tiny');
  assertNoLeak('circuits', () => {
    headOV(model, 0, 0).dispose();
    headQK(model, 1, 3).dispose();
    fullOVCircuit(model, 0, 2).dispose();
    ovTopTokens(model, 1, 1, 5);
    copyingScore(model, 1, 0);
  });
  assertThrowsWith(() => headOV(model, 0, 4), IndexError, ['head 4', '0..3']);
  assertThrowsWith(() => ovTopTokens(model, 0, 0, 512), IndexError, ['token id 512']);
});
