// Attribution patching against real activation patching (sign of the large effects, correlation
// overall) and against finite differences of interpolated patches (the gradient itself).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attributionPatching, type AttributionTarget } from '../../src/analysis/attribution-patching.js';
import { logitDiff, metricValue } from '../../src/analysis/metrics.js';
import { activationPatching } from '../../src/analysis/patching.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { noGrad, tidy } from '../../src/tensor/index.js';
import { ArgumentError } from '../../src/util/errors.js';
import { loadFixture } from '../models/helpers.js';
import { correlation, promptPair, refBackend, tinyGpt2 } from './intervention-helpers.js';

const TARGETS: AttributionTarget[] = ['resid_pre', 'attn_out', 'mlp_out', 'z'];

async function compareWithPatching(model: HookedTransformer, clean: number[][], corrupted: number[][], minCorrelation: number): Promise<void> {
  const metric = logitDiff([11, 12], [13, 14]);
  const { corruptedValue, estimates } = attributionPatching(model, { cleanTokens: clean, corruptedTokens: corrupted, metric });
  const expectedCorrupted = noGrad(() => tidy(() => metricValue(metric, model.forward(corrupted))));
  assert.ok(Math.abs(corruptedValue - expectedCorrupted) < 1e-5, `corrupted value ${corruptedValue} vs ${expectedCorrupted}`);
  const estimated: number[] = [];
  const actual: number[] = [];
  for (const target of TARGETS) {
    const result = estimates[target];
    assert.ok(result, `estimates for ${target}`);
    const patched = await activationPatching(model, target, { cleanTokens: clean, corruptedTokens: corrupted, metric });
    assert.deepEqual(result.values.shape, patched.values.shape, `${target} shape`);
    assert.deepEqual(result.axes, patched.axes);
    estimated.push(...result.values.toArray());
    actual.push(...Array.from(patched.values.toArray(), (v) => v - corruptedValue));
    result.values.dispose();
    patched.values.dispose();
  }
  const largest = Math.max(...actual.map(Math.abs));
  assert.ok(largest > 1e-3, `the corruption must move the metric (largest effect ${largest})`);
  const big = actual.map((v, i) => i).filter((i) => Math.abs(actual[i]) > 0.3 * largest);
  assert.ok(big.length >= 2, 'several large components');
  for (const i of big) assert.equal(Math.sign(estimated[i]), Math.sign(actual[i]), `component ${i}: estimate ${estimated[i]}, real effect ${actual[i]}`);
  const r = correlation(estimated, actual);
  assert.ok(r > minCorrelation, `correlation ${r} <= ${minCorrelation}`);
}

describe('attribution patching', () => {
  // The fixtures are near-linear (HF's std-0.02 init), the regime attribution patching is meant
  // for. Even there the estimate for resid_pre of layer 0 at the swapped token is poor (a whole
  // token embedding is no small step; TransformerLens's demo shows the same), so the overall
  // correlation is only required to be clearly positive.
  for (const name of ['gpt2-tiny', 'pythia-tiny', 'llama-tiny']) {
    test(`${name}: signs of the large effects agree with activation patching, and the two correlate`, async () => {
      const model = await loadFixture(name);
      const { clean, corrupted } = promptPair(2, 6, 500, [2], 31);
      await compareWithPatching(model, clean, corrupted, 0.3);
      model.dispose();
    });
  }

  test('each estimate is the derivative of the interpolated patch (central finite differences)', () => {
    const model = tinyGpt2({ layers: 2, d: 16, heads: 2, vocab: 31 }, 800);
    const { clean, corrupted } = promptPair(1, 5, 31, [1], 4);
    const metric = logitDiff(3, 4);
    const { estimates } = attributionPatching(model, { cleanTokens: clean, corruptedTokens: corrupted, metric, targets: ['resid_mid', 'z_by_pos'] });
    const cleanCache = model.runWithCache(clean).cache;
    const corruptedCache = model.runWithCache(corrupted).cache;
    // The metric with the activation at `spec` moved a fraction t of the way from corrupted to clean.
    const interpolated = (name: string, spec: (number | null)[], t: number) => noGrad(() => tidy(() => {
      const from = corruptedCache.get(name).index(...spec);
      const moved = from.add(cleanCache.get(name).index(...spec).sub(from).mul(t));
      return metricValue(metric, model.runWithHooks(corrupted, [{ name, fn: (act) => act.indexPut(spec, moved) }]));
    }));
    const eps = 0.02;
    const checks: [string, AttributionTarget, (number | null)[], number][] = [
      ['blocks.0.hook_resid_mid', 'resid_mid', [null, 1], 0 * 5 + 1],
      ['blocks.1.hook_resid_mid', 'resid_mid', [null, 4], 1 * 5 + 4],
      ['blocks.1.attn.hook_z', 'z_by_pos', [null, 4, 1], 1 * 10 + 4 * 2 + 1],
      ['blocks.1.attn.hook_z', 'z_by_pos', [null, 3, 0], 1 * 10 + 3 * 2 + 0],
    ];
    for (const [name, target, spec, flat] of checks) {
      const derivative = (interpolated(name, spec, eps) - interpolated(name, spec, -eps)) / (2 * eps);
      const estimate = estimates[target]?.values.toArray()[flat] ?? NaN;
      assert.ok(Math.abs(estimate - derivative) <= 0.02 * Math.abs(derivative) + 1e-4, `${name} ${JSON.stringify(spec)}: estimate ${estimate}, finite difference ${derivative}`);
    }
    for (const r of Object.values(estimates)) r?.values.dispose();
    cleanCache.dispose();
    corruptedCache.dispose();
    model.dispose();
  });

  test('a metric that returns a number is refused; nothing leaks', () => {
    const model = tinyGpt2({ layers: 2, d: 16, heads: 2, vocab: 31 }, 900);
    const backend = refBackend();
    const baseline = backend.liveBuffers();
    assert.throws(() => attributionPatching(model, { cleanTokens: [[1, 2, 3]], corruptedTokens: [[1, 5, 3]], metric: () => 1 }),
      (err: Error) => err instanceof ArgumentError && err.message.includes('one-element Tensor'));
    assert.equal(backend.liveBuffers(), baseline);
    const result = attributionPatching(model, { cleanTokens: [[1, 2, 3]], corruptedTokens: [[1, 5, 3]], metric: logitDiff(1, 2) });
    for (const r of Object.values(result.estimates)) r?.values.dispose();
    assert.equal(backend.liveBuffers(), baseline);
    model.dispose();
  });
});
