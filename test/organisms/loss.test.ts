// crossEntropy against an independent float64 computation (log-sum-exp by hand), and its gradient
// against central finite differences of that computation; the weighted form against its definition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import { tensor } from '../../src/tensor/index.js';
import { crossEntropy, shiftedBatch } from '../../src/organisms/loss.js';
import { ShapeError } from '../../src/util/errors.js';
import { TestRng } from '../models/helpers.js';

const backend = getBackend('ref');

/** Σ w·(logsumexp(row) − row[target]) / Σ w, in float64. */
function referenceLoss(logits: Float64Array, targets: readonly number[], vocab: number, weights?: readonly number[]): number {
  let total = 0;
  let weightSum = 0;
  targets.forEach((target, r) => {
    const row = logits.subarray(r * vocab, (r + 1) * vocab);
    const max = Math.max(...row);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    const w = weights?.[r] ?? 1;
    total += w * (max + Math.log(sum) - row[target]);
    weightSum += w;
  });
  return total / weightSum;
}

for (const [batch, pos, vocab] of [[1, 1, 3], [2, 3, 17], [3, 5, 65]]) {
  test(`crossEntropy [${batch}, ${pos}, ${vocab}]: value and gradient match float64 references`, () => {
    const rng = new TestRng(batch * 100 + vocab);
    const rows = batch * pos;
    const values = Float64Array.from({ length: rows * vocab }, () => 3 * rng.normal());
    const targets = Array.from({ length: rows }, () => rng.int(0, vocab));
    const weights = Array.from({ length: rows }, () => rng.uniform());
    for (const weighted of [false, true]) {
      const logits = tensor(values, [batch, pos, vocab], { dtype: 'float64', backend, requiresGrad: true });
      const ids = tensor(Int32Array.from(targets), [batch, pos], { dtype: 'int32', backend });
      const w = weighted ? tensor(Float64Array.from(weights), [batch, pos], { dtype: 'float64', backend }) : undefined;
      const loss = crossEntropy(logits, ids, w);
      const expected = referenceLoss(values, targets, vocab, weighted ? weights : undefined);
      assert.ok(Math.abs(loss.item() - expected) < 1e-12, `loss ${loss.item()} vs ${expected}`);
      loss.backward();
      const grad = logits.grad!.toArray();
      const eps = 1e-6;
      for (let i = 0; i < values.length; i += Math.max(1, Math.floor(values.length / 40))) {
        const plus = Float64Array.from(values);
        const minus = Float64Array.from(values);
        plus[i] += eps;
        minus[i] -= eps;
        const numeric = (referenceLoss(plus, targets, vocab, weighted ? weights : undefined)
          - referenceLoss(minus, targets, vocab, weighted ? weights : undefined)) / (2 * eps);
        assert.ok(Math.abs(grad[i] - numeric) < 1e-7, `d loss / d logits[${i}]: backward ${grad[i]}, finite differences ${numeric}`);
      }
      for (const t of [logits, ids, loss, ...(w ? [w] : [])]) t.dispose();
    }
  });
}

test('crossEntropy rejects targets or weights of the wrong shape', () => {
  const logits = tensor(new Float32Array(2 * 3 * 4), [2, 3, 4], { backend });
  const targets = tensor(new Int32Array(6), [3, 2], { dtype: 'int32', backend });
  assert.throws(() => crossEntropy(logits, targets), (e) => e instanceof ShapeError && /\[3, 2\]/.test(e.message));
  const good = tensor(new Int32Array(6), [2, 3], { dtype: 'int32', backend });
  const weights = tensor(new Float32Array(3), [3], { backend });
  assert.throws(() => crossEntropy(logits, good, weights), ShapeError);
  for (const t of [logits, targets, good, weights]) t.dispose();
});

test('shiftedBatch: inputs drop the last token, targets the first', () => {
  const { inputs, targets } = shiftedBatch([[1, 2, 3], [4, 5, 6]], backend);
  assert.deepEqual(inputs, [[1, 2], [4, 5]]);
  assert.deepEqual(targets.toNested(), [[2, 3], [5, 6]]);
  targets.dispose();
  assert.throws(() => shiftedBatch([[1, 2, 3], [4, 5]], backend), ShapeError);
});
