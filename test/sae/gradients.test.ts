// Gradients of every architecture's training loss, in float64: autograd against central finite
// differences for every parameter entry where the loss is differentiable (standard L1, TopK with
// AuxK, BatchTopK, JumpReLU's x path and decoder), and JumpReLU's straight-through threshold
// gradient (which no finite difference gives) against SAELens's formula evaluated with plain loops.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import '../../src/backend/ref/index.js';
import { SparseAutoencoder, type SAEArchitecture, type SAEConfig } from '../../src/sae/sae.js';
import { TrainableSAE, auxKLoss, type TrainingCoefficients } from '../../src/sae/training-step.js';
import { noGrad, randn, tensor, tidy, type Tensor } from '../../src/tensor/index.js';

const D_IN = 5;
const D_SAE = 9;
const TOKENS = 6;

function config(architecture: SAEArchitecture, extra: Partial<SAEConfig> = {}): SAEConfig {
  return {
    architecture, d_in: D_IN, d_sae: D_SAE, k: architecture === 'batchtopk' ? 2.5 : 3, apply_b_dec_to_input: true,
    normalize_activations: 'none', hook_name: 'blocks.0.hook_resid_pre', hook_layer: 0, dtype: 'float64', ...extra,
  };
}

function data(seed: number, shape: number[]): Tensor {
  return randn(shape, { seed, dtype: 'float64', backend: 'ref' });
}

/** Randomises the SAE's biases and decoder norms so no term is trivially zero. */
function perturb(sae: SparseAutoencoder, seed: number): void {
  noGrad(() => tidy(() => {
    sae.W_enc.copy_(data(seed, [D_IN, D_SAE]).mul(0.6));
    sae.W_dec.copy_(data(seed + 1, [D_SAE, sae.dOut]).mul(0.5));
    sae.b_enc.copy_(data(seed + 2, [D_SAE]).mul(0.2));
    sae.b_dec.copy_(data(seed + 3, [sae.dOut]).mul(0.3));
  }));
}

/** Autograd gradients of the loss and central differences for every entry of every parameter. */
function checkAgainstFiniteDifferences(trainable: TrainableSAE, x: Tensor, y: Tensor, coefficients: TrainingCoefficients,
  dead: Uint8Array | null, params: Tensor[], what: string): void {
  for (const p of params) p.requiresGrad_();
  const out = trainable.forward(x, y, coefficients, dead);
  out.loss.backward();
  out.loss.dispose();
  out.features.dispose();
  out.reconstruction.dispose();
  const lossAt = () => {
    const o = trainable.forward(x, y, coefficients, dead);
    const value = o.losses.loss;
    for (const t of [o.loss, o.features, o.reconstruction]) t.dispose();
    return value;
  };
  const h = 1e-6;
  for (const [index, p] of params.entries()) {
    const analytic = p.grad!.toArray();
    assert.ok(analytic.some((g) => Math.abs(g) > 1e-8), `${what}: parameter ${index} gets a gradient`);
    const values = Float64Array.from(p.toArray());
    for (let i = 0; i < values.length; i++) {
      const set = (v: number) => noGrad(() => { const copy = Float64Array.from(values); copy[i] = v; tidy(() => p.copy_(tensor(copy, [...p.shape], { dtype: 'float64', backend: 'ref' }))); });
      set(values[i] + h);
      const plus = lossAt();
      set(values[i] - h);
      const minus = lossAt();
      set(values[i]);
      const numeric = (plus - minus) / (2 * h);
      assert.ok(Math.abs(numeric - analytic[i]) <= 1e-6 + 1e-5 * Math.abs(numeric),
        `${what}: parameter ${index} entry ${i}: autograd ${analytic[i]} vs finite difference ${numeric}`);
    }
    p.grad?.dispose();
    p.grad = null;
  }
  for (const p of params) p.requiresGrad = false;
}

const ZERO: TrainingCoefficients = { l1: 0, l0: 0, auxK: 0 };

describe('SAE training gradients (float64, finite differences)', () => {
  const x = data(100, [TOKENS, D_IN]).mul(1.5);

  test('standard: MSE + decoder-norm-weighted L1', () => {
    using sae = SparseAutoencoder.init(config('standard'), { seed: 1 });
    perturb(sae, 10);
    using trainable = new TrainableSAE(sae, { bandwidth: 0.05, topkThresholdLr: 0.01 });
    checkAgainstFiniteDifferences(trainable, x, x, { ...ZERO, l1: 0.7 }, null, trainable.parameters(), 'standard');
  });

  test('topk: MSE through the top-k selection', () => {
    using sae = SparseAutoencoder.init(config('topk'), { seed: 2 });
    perturb(sae, 20);
    using trainable = new TrainableSAE(sae, { bandwidth: 0.05, topkThresholdLr: 0.01 });
    checkAgainstFiniteDifferences(trainable, x, x, ZERO, null, trainable.parameters(), 'topk');
  });

  test('batchtopk: MSE through the batch-wide top-k', () => {
    using sae = SparseAutoencoder.init(config('batchtopk'), { seed: 3 });
    perturb(sae, 30);
    using trainable = new TrainableSAE(sae, { bandwidth: 0.05, topkThresholdLr: 0.01 });
    checkAgainstFiniteDifferences(trainable, x, x, ZERO, null, trainable.parameters(), 'batchtopk');
  });

  test('batchtopk keeps round(k·tokens) activations per batch; its threshold follows SAELens\'s EMA of the smallest kept one', () => {
    using sae = SparseAutoencoder.init(config('batchtopk'), { seed: 8 });
    perturb(sae, 80);
    using trainable = new TrainableSAE(sae, { bandwidth: 0.05, topkThresholdLr: 0.25 });
    const out = trainable.forward(x, x, ZERO, null);
    const f = Array.from(out.features.toArray()).filter((v) => v > 0);
    assert.ok(f.length <= Math.floor(2.5 * TOKENS) && f.length > 0, `${f.length} kept of at most ${Math.floor(2.5 * TOKENS)}`);
    const hidden = Array.from(noGrad(() => tidy(() => sae.hiddenPre(x).relu().toArray()))).sort((a, b) => b - a);
    assert.deepEqual(f.sort((a, b) => b - a), hidden.slice(0, f.length), 'the largest ReLU activations of the whole batch');
    assert.ok(Math.abs(trainable.topkThreshold - 0.25 * Math.min(...f)) < 1e-12, 'θ = (1 − lr)·0 + lr·min');
    trainable.syncInference();
    assert.deepEqual(Array.from(sae.threshold!.toArray()), new Array(D_SAE).fill(trainable.topkThreshold), 'inference threshold for every feature');
    for (const t of [out.loss, out.features, out.reconstruction]) t.dispose();
  });

  test('AuxK: gradient of the dead-feature loss for a fixed residual (SAELens detaches it)', () => {
    using sae = SparseAutoencoder.init(config('topk'), { seed: 7 });
    perturb(sae, 70);
    const residual = data(102, [TOKENS, D_IN]);
    const dead = Uint8Array.from({ length: D_SAE }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const params = sae.parameters();
    const lossOf = () => auxKLoss(sae, x, residual, dead, 0.5)!;
    // The value, with loops: k_aux = d_in/2 = 2 of the 3 dead features per token, raw pre-activations, no b_dec.
    const [xs, We, be, Wd, bd, r] = [x, sae.W_enc, sae.b_enc, sae.W_dec, sae.b_dec, residual].map((t) => Array.from(t.toArray()));
    const deadIds = [0, 3, 6];
    let expected = 0;
    for (let t = 0; t < TOKENS; t++) {
      const pre = deadIds.map((j) => {
        let v = be[j];
        for (let i = 0; i < D_IN; i++) v += (xs[t * D_IN + i] - bd[i]) * We[i * D_SAE + j];
        return { j, v };
      }).sort((a, b) => b.v - a.v).slice(0, 2);
      for (let i = 0; i < D_IN; i++) {
        const predicted = pre.reduce((sum, { j, v }) => sum + v * Wd[j * D_IN + i], 0);
        expected += (predicted - r[t * D_IN + i]) ** 2;
      }
    }
    expected *= (0.5 * Math.min(3 / 2, 1)) / TOKENS;
    const value = noGrad(() => tidy(() => lossOf().item()));
    assert.ok(Math.abs(value - expected) < 1e-10 * Math.max(1, expected), `AuxK value ${value} vs ${expected}`);
    for (const p of params) p.requiresGrad_();
    const loss = lossOf();
    loss.backward();
    loss.dispose();
    const h = 1e-6;
    for (const [index, p] of params.entries()) {
      const analytic = p.grad!.toArray();
      assert.ok(analytic.some((g) => Math.abs(g) > 1e-8), `AuxK: parameter ${index} gets a gradient`);
      const values = Float64Array.from(p.toArray());
      for (let i = 0; i < values.length; i++) {
        const at = (v: number) => noGrad(() => tidy(() => {
          const copy = Float64Array.from(values);
          copy[i] = v;
          p.copy_(tensor(copy, [...p.shape], { dtype: 'float64', backend: 'ref' }));
          return lossOf().item();
        }));
        const numeric = (at(values[i] + h) - at(values[i] - h)) / (2 * h);
        at(values[i]);
        assert.ok(Math.abs(numeric - analytic[i]) <= 1e-6 + 1e-5 * Math.abs(numeric), `AuxK: parameter ${index} entry ${i}: ${analytic[i]} vs ${numeric}`);
      }
      p.grad?.dispose();
      p.grad = null;
      p.requiresGrad = false;
    }
  });

  test('transcoder (standard): gradients with a separate target and no b_dec on the input', () => {
    const cfg = config('standard', { d_out: 4, hook_name_out: 'blocks.0.hook_mlp_out', hook_layer_out: 0 });
    using sae = SparseAutoencoder.init(cfg, { seed: 4 });
    perturb(sae, 40);
    using trainable = new TrainableSAE(sae, { bandwidth: 0.05, topkThresholdLr: 0.01 });
    const y = data(101, [TOKENS, 4]);
    checkAgainstFiniteDifferences(trainable, x, y, { ...ZERO, l1: 0.3 }, null, trainable.parameters(), 'transcoder');
  });

  test('jumprelu: encoder and decoder gradients by finite differences', () => {
    using sae = SparseAutoencoder.init(config('jumprelu'), { seed: 5, initialThreshold: 0.3 });
    perturb(sae, 50);
    using trainable = new TrainableSAE(sae, { bandwidth: 0.05, topkThresholdLr: 0.01 });
    // Not log θ: its straight-through gradient is not a derivative of the loss (next test).
    checkAgainstFiniteDifferences(trainable, x, x, { ...ZERO, l0: 0.2 }, null, trainable.parameters().slice(0, 4), 'jumprelu');
  });

  test('jumprelu: the log-threshold gradient equals SAELens\'s straight-through formula', () => {
    const bandwidth = 0.8;
    const l0 = 0.3;
    using sae = SparseAutoencoder.init(config('jumprelu'), { seed: 6, initialThreshold: 0.4 });
    perturb(sae, 60);
    using trainable = new TrainableSAE(sae, { bandwidth, topkThresholdLr: 0.01 });
    const logT = trainable.logThreshold!;
    logT.requiresGrad_();
    const out = trainable.forward(x, x, { ...ZERO, l0 }, null);
    out.loss.backward();
    const got = logT.grad!.toArray();
    // Reference, with loops: h = (x − b_dec) W_enc + b_enc; f = h·[h > θ]; x̂ = f W_dec + b_dec;
    // ∂L/∂f_j = (2/B) Σ_i (x̂ − x)_i W_dec[j, i]; ∂L/∂θ_j = Σ_t −(θ_j/ε) K ∂L/∂f_j − (l0/B)(1/ε) K; ∂/∂logθ = θ ∂/∂θ.
    const [xs, We, be, Wd, bd] = [x, sae.W_enc, sae.b_enc, sae.W_dec, sae.b_dec].map((t) => Array.from(t.toArray()));
    const theta = Array.from(logT.toArray(), Math.exp);
    const expected = new Float64Array(D_SAE);
    let inBand = 0;
    for (let t = 0; t < TOKENS; t++) {
      const h = Array.from({ length: D_SAE }, (_, j) => {
        let s = be[j];
        for (let i = 0; i < D_IN; i++) s += (xs[t * D_IN + i] - bd[i]) * We[i * D_SAE + j];
        return s;
      });
      const f = h.map((v, j) => (v > theta[j] ? v : 0));
      const xHat = Array.from({ length: D_IN }, (_, i) => {
        let s = bd[i];
        for (let j = 0; j < D_SAE; j++) s += f[j] * Wd[j * D_IN + i];
        return s;
      });
      for (let j = 0; j < D_SAE; j++) {
        const u = (h[j] - theta[j]) / bandwidth;
        const kernel = u > -0.5 && u < 0.5 ? 1 : 0;
        inBand += kernel;
        let dLdf = 0;
        for (let i = 0; i < D_IN; i++) dLdf += (2 / TOKENS) * (xHat[i] - xs[t * D_IN + i]) * Wd[j * D_IN + i];
        const dTheta = -(theta[j] / bandwidth) * kernel * dLdf - (l0 / TOKENS) * (1 / bandwidth) * kernel;
        expected[j] += theta[j] * dTheta;
      }
    }
    assert.ok(inBand >= 5, `the case puts pre-activations inside the kernel band (${inBand})`);
    for (let j = 0; j < D_SAE; j++) {
      assert.ok(Math.abs(got[j] - expected[j]) <= 1e-12 + 1e-9 * Math.abs(expected[j]), `feature ${j}: ${got[j]} vs ${expected[j]}`);
    }
    for (const t of [out.loss, out.features, out.reconstruction]) t.dispose();
    logT.grad?.dispose();
    logT.grad = null;
  });
});
