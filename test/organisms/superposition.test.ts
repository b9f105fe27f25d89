// The superposition toy: its loss against a plain-JS float64 computation of Σ I_i (x_i − ReLU(WᵀWx + b)_i)²,
// a short training run that lowers it, and the shipped sweep showing superposition grow with sparsity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import { openSafetensors } from '../../src/io/safetensors.js';
import {
  SUPERPOSITION_TOY, disposeSuperposition, reconstructionLoss, sparseFeatures, superpositionStats, trainSuperposition,
} from '../../src/organisms/superposition.js';
import { Rng, tensor } from '../../src/tensor/index.js';
import { repoRoot } from '../io/fixture-paths.js';
import { TestRng } from '../models/helpers.js';

const backend = getBackend('ref');

test('reconstructionLoss equals the float64 definition on odd sizes', () => {
  for (const [batch, n, m] of [[1, 1, 1], [3, 17, 5], [65, 20, 3]]) {
    const rng = new TestRng(batch + n);
    const W = Float64Array.from({ length: m * n }, () => rng.normal());
    const b = Float64Array.from({ length: n }, () => rng.normal());
    const x = Float64Array.from({ length: batch * n }, () => (rng.uniform() < 0.5 ? 0 : rng.uniform()));
    const importance = Array.from({ length: n }, (_, i) => 0.9 ** i);
    let expected = 0;
    for (let r = 0; r < batch; r++) {
      const h = Array.from({ length: m }, (_, j) => { let s = 0; for (let i = 0; i < n; i++) s += W[j * n + i] * x[r * n + i]; return s; });
      for (let i = 0; i < n; i++) {
        let out = b[i];
        for (let j = 0; j < m; j++) out += W[j * n + i] * h[j];
        expected += importance[i] * (x[r * n + i] - Math.max(0, out)) ** 2;
      }
    }
    expected /= batch;
    const model = { W: tensor(W, [m, n], { dtype: 'float64', backend }), b: tensor(b, [n], { dtype: 'float64', backend }) };
    const xs = tensor(x, [batch, n], { dtype: 'float64', backend });
    const imp = tensor(Float64Array.from(importance), [n], { dtype: 'float64', backend });
    const loss = reconstructionLoss(model, xs, imp);
    assert.ok(Math.abs(loss.item() - expected) < 1e-10 * Math.max(1, expected), `[${batch}, ${n}, ${m}]: ${loss.item()} vs ${expected}`);
    for (const t of [model.W, model.b, xs, imp, loss]) t.dispose();
  }
});

test('sparseFeatures: the zero fraction follows the sparsity', () => {
  const data = sparseFeatures(new Rng(1), 1000, 20, 0.9);
  const zeros = data.filter((v) => v === 0).length / data.length;
  assert.ok(Math.abs(zeros - 0.9) < 0.01, `zero fraction ${zeros}`);
  assert.ok(data.every((v) => v >= 0 && v < 1));
});

test('a short run lowers the loss', () => {
  const config = { ...SUPERPOSITION_TOY, sparsities: [0.9], steps: 150, batchSize: 64, lr: 1e-2 };
  const losses: number[] = [];
  const run = trainSuperposition(config, { backend, onStep: (_, __, loss) => losses.push(loss) });
  disposeSuperposition(run.models);
  const early = losses.slice(0, 10).reduce((a, v) => a + v, 0) / 10;
  const late = losses.slice(-10).reduce((a, v) => a + v, 0) / 10;
  assert.ok(late < 0.7 * early, `loss ${early} → ${late}`);
});

test('shipped superposition-toy: dense features get m directions, sparse ones many more', async () => {
  const folder = join(repoRoot, 'models', 'superposition-toy');
  const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'));
  const file = await openSafetensors(join(folder, 'model.safetensors'));
  try {
    const W = await file.read('W');
    assert.deepEqual(W.shape, [config.n_instances, config.n_hidden, config.n_features]);
    const size = config.n_hidden * config.n_features;
    const stats = config.sparsities.map((_: number, i: number) =>
      superpositionStats((W.data as Float32Array).subarray(i * size, (i + 1) * size), config.n_hidden, config.n_features));
    const dense = stats[0];
    const sparsest = stats[stats.length - 1];
    assert.equal(config.sparsities[0], 0);
    assert.ok(dense.representedFeatures <= config.n_hidden, `dense: ${dense.representedFeatures} features in ${config.n_hidden} dims`);
    assert.ok(Math.abs(dense.dimensionsPerFeature - 1) < 0.1, `dense: ${dense.dimensionsPerFeature} dims per feature`);
    assert.ok(sparsest.representedFeatures >= 3 * config.n_hidden, `sparse: ${sparsest.representedFeatures} features in ${config.n_hidden} dims`);
    assert.ok(sparsest.dimensionsPerFeature < 0.3);
  } finally {
    await file.close();
  }
});
