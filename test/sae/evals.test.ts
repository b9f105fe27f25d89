// SAE evaluation: an SAE that reconstructs exactly (W_enc = [I, −I], W_dec = [I; −I], ReLU: x⁺ − x⁻ = x)
// scores EV 1, MSE 0, CE loss recovered 1, KL 0, L0 d; a random SAE's metrics equal a plain-loop
// float64 computation of SAELens's definitions (excluded tokens left out on both sides).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { densityHistogram, evaluateSAE } from '../../src/sae/evals.js';
import { SparseAutoencoder } from '../../src/sae/sae.js';
import { noGrad, tensor, tidy } from '../../src/tensor/index.js';
import { refBackend, tinyGpt2 } from '../analysis/intervention-helpers.js';

const D = 12;
const VOCAB = 29;
const HOOK = 'blocks.1.hook_resid_pre';
const ROWS = [[0, 5, 9, 4, 1, 7, 0, 2], [3, 2, 8, 5, 6, 0, 11, 4], [1, 1, 4, 20, 0, 9, 13, 2]];

function exactSAE(): SparseAutoencoder {
  const wEnc = new Float32Array(D * 2 * D);
  const wDec = new Float32Array(2 * D * D);
  for (let i = 0; i < D; i++) {
    wEnc[i * 2 * D + i] = 1;
    wEnc[i * 2 * D + D + i] = -1;
    wDec[i * D + i] = 1;
    wDec[(D + i) * D + i] = -1;
  }
  const backend = refBackend();
  return new SparseAutoencoder({
    architecture: 'standard', d_in: D, d_sae: 2 * D, apply_b_dec_to_input: true, normalize_activations: 'none', hook_name: HOOK, hook_layer: 1, dtype: 'float32',
  }, {
    W_enc: tensor(wEnc, [D, 2 * D], { backend }), b_enc: tensor(new Float32Array(2 * D), [2 * D], { backend }),
    W_dec: tensor(wDec, [2 * D, D], { backend }), b_dec: tensor(new Float32Array(D), [D], { backend }),
  });
}

function capture(model: HookedTransformer, rows: number[][], replace?: (act: Float32Array) => Float32Array): { act: Float32Array; logits: Float32Array } {
  let act: Float32Array | null = null;
  const logits = noGrad(() => tidy(() => model.forward(rows, {
    hooks: [{
      name: HOOK,
      fn: (a) => {
        act = Float32Array.from(a.toArray());
        return replace ? tensor(replace(act), [...a.shape], { backend: a.backend }) : undefined;
      },
    }],
  }).toArray()));
  return { act: act!, logits: Float32Array.from(logits) };
}

function logSoftmaxRow(logits: Float32Array, offset: number): Float64Array {
  let max = -Infinity;
  for (let v = 0; v < VOCAB; v++) max = Math.max(max, logits[offset + v]);
  let sum = 0;
  for (let v = 0; v < VOCAB; v++) sum += Math.exp(logits[offset + v] - max);
  return Float64Array.from({ length: VOCAB }, (_, v) => logits[offset + v] - max - Math.log(sum));
}

describe('evaluateSAE', () => {
  let model: HookedTransformer;
  before(() => { model = tinyGpt2({ layers: 2, d: D, heads: 2, vocab: VOCAB }, 77); });
  after(() => model.dispose());

  test('an exact reconstruction scores perfectly', async () => {
    using sae = exactSAE();
    const r = await evaluateSAE(model, sae, { rows: ROWS, batchRows: 2, excludeTokenIds: [] });
    assert.equal(r.tokens, 24);
    assert.ok(r.mse < 1e-12 && Math.abs(r.explainedVariance - 1) < 1e-9, `EV ${r.explainedVariance}, MSE ${r.mse}`);
    assert.ok(Math.abs(r.cosineSimilarity - 1) < 1e-6 && Math.abs(r.l2Ratio - 1) < 1e-6);
    assert.ok(Math.abs(r.ceLossRecovered! - 1) < 1e-5, `CE loss recovered ${r.ceLossRecovered}`);
    assert.ok(Math.abs(r.klWithSAE!) < 1e-6 && r.klZeroAblation! > 0.01, `KL ${r.klWithSAE}, zero ${r.klZeroAblation}`);
    assert.equal(r.l0, D, 'exactly one of x_i⁺, x_i⁻ fires per coordinate');
  });

  test('a random SAE: every metric equals the plain-loop reference', async () => {
    using sae = SparseAutoencoder.init({
      architecture: 'topk', k: 5, d_in: D, d_sae: 40, apply_b_dec_to_input: true, normalize_activations: 'none', hook_name: HOOK, hook_layer: 1, dtype: 'float32',
    }, { seed: 3, decoderInitNorm: 1, backend: refBackend() });
    noGrad(() => tidy(() => sae.b_dec.copy_(tensor(Float32Array.from({ length: D }, (_, i) => 0.1 * i - 0.5), [D], { backend: refBackend() }))));
    const exclude = new Set([0]);
    const r = await evaluateSAE(model, sae, { rows: ROWS, batchRows: 2, excludeTokenIds: [0] });

    const clean = capture(model, ROWS);
    const T = ROWS[0].length;
    const recon = noGrad(() => tidy(() => {
      const { features, reconstruction } = sae.run(tensor(clean.act, [ROWS.length, T, D], { backend: refBackend() }));
      return { f: Float32Array.from(features.toArray()), x: Float32Array.from(reconstruction.toArray()) };
    }));
    const keep = ROWS.flat().map((id) => !exclude.has(id));
    const spliced = (act: Float32Array) => Float32Array.from(act, (v, i) => (keep[Math.floor(i / D)] ? recon.x[i] : v));
    const withSae = capture(model, ROWS, spliced);
    const zero = capture(model, ROWS, (act) => new Float32Array(act.length));
    let n = 0; let sq = 0; let l0 = 0; let cos = 0;
    const mean = new Float64Array(D);
    let sumSq = 0;
    keep.forEach((k, t) => {
      if (!k) return;
      n++;
      let dot = 0; let nx = 0; let nh = 0;
      for (let i = 0; i < D; i++) {
        const a = clean.act[t * D + i];
        const b = recon.x[t * D + i];
        sq += (a - b) ** 2; dot += a * b; nx += a * a; nh += b * b; mean[i] += a; sumSq += a * a;
      }
      cos += dot / Math.sqrt(nx * nh);
      for (let j = 0; j < 40; j++) if (recon.f[t * 40 + j] > 0) l0++;
    });
    const variance = sumSq / n - mean.reduce((s, m) => s + (m / n) ** 2, 0);
    let positions = 0; const ce = [0, 0, 0]; const kl = [0, 0];
    ROWS.forEach((row, b) => {
      for (let p = 0; p < T - 1; p++) {
        if (!keep[b * T + p]) continue;
        positions++;
        const lps = [clean, withSae, zero].map((run) => logSoftmaxRow(run.logits, (b * T + p) * VOCAB));
        lps.forEach((lp, i) => { ce[i] -= lp[row[p + 1]]; });
        for (const [i, other] of [[0, 1], [1, 2]] as const) {
          for (let v = 0; v < VOCAB; v++) kl[i] += Math.exp(lps[0][v]) * (lps[0][v] - lps[other][v]);
        }
      }
    });
    const close = (got: number | undefined, want: number, what: string) =>
      assert.ok(got !== undefined && Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
    assert.equal(r.tokens, n);
    close(r.l0, l0 / n, 'L0');
    close(r.mse, sq / (n * D), 'MSE');
    close(r.explainedVariance, 1 - (sq / n) / variance, 'explained variance');
    close(r.cosineSimilarity, cos / n, 'cosine similarity');
    close(r.ceClean, ce[0] / positions, 'CE clean');
    close(r.ceWithSAE, ce[1] / positions, 'CE with SAE');
    close(r.ceZeroAblation, ce[2] / positions, 'CE zero-ablated');
    close(r.ceLossRecovered, (ce[2] - ce[1]) / (ce[2] - ce[0]), 'CE loss recovered');
    close(r.klWithSAE, kl[0] / positions, 'KL with SAE');
    close(r.klZeroAblation, kl[1] / positions, 'KL zero-ablated');
    const fired = r.featureDensity.reduce((s, p) => s + p, 0) * n;
    close(fired, l0, 'densities sum to the active count');
    assert.ok(r.explainedVariance < 0.99 && r.klWithSAE! > 1e-4, 'a random SAE is imperfect');
  });

  test('the density histogram bins log10 densities and counts never-fired features apart', () => {
    const h = densityHistogram([0, 1e-3, 0.5, 1, 2e-8, 0]);
    assert.equal(h.neverFired, 2);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), 4);
    const binOf = (p: number) => h.edges.findIndex((e, i) => i < h.counts.length && Math.log10(p) >= e && Math.log10(p) < h.edges[i + 1]);
    assert.equal(h.counts[binOf(1e-3)], 1);
    assert.equal(h.counts[h.counts.length - 1], 2, 'densities 0.5 and 1 share the top bin');
  });
});
