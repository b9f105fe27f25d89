// Patching metrics against float64 computations over the raw logits.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  answerProbability, klDivergence, logitDiff, metricValue, normalisedMetric, rowMetric,
} from '../../src/analysis/metrics.js';
import { randn, tensor } from '../../src/tensor/index.js';
import { ArgumentError, IndexError, ShapeError } from '../../src/util/errors.js';
import { assertClose, refBackend } from './intervention-helpers.js';

const B = 3;
const P = 4;
const V = 17;

function logits(seed: number) {
  return randn([B, P, V], { seed, std: 2, backend: refBackend() });
}

/** log softmax of row b at position p, in float64. */
function logSoftmax(data: ArrayLike<number>, b: number, p: number): Float64Array {
  const row = Float64Array.from({ length: V }, (_, v) => data[(b * P + p) * V + v]);
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  return row.map((x) => x - lse);
}

describe('metrics', () => {
  test('logitDiff: per-prompt answer − wrong at the position, averaged; one-position logits read as that position', () => {
    const l = logits(1);
    const data = l.toArray();
    const answers = [1, 5, 16];
    const wrong = [2, 0, 3];
    for (const position of [-1, 0, 2]) {
      const p = position < 0 ? P + position : position;
      const rows = answers.map((a, b) => data[(b * P + p) * V + a] - data[(b * P + p) * V + wrong[b]]);
      const metric = logitDiff(answers, wrong, { position });
      assert.deepEqual(metric.logitPositions, position === -1 ? 'last' : [position]);
      const perRow = metric.perRow(l);
      assertClose(perRow.toArray(), rows, 1e-6, `perRow at ${position}`);
      perRow.dispose();
      assertClose([metricValue(metric, l)], [rows.reduce((s, x) => s + x, 0) / B], 1e-6, `mean at ${position}`);
      const one = l.narrow(1, p, 1);
      assertClose([metricValue(metric, one)], [metricValue(metric, l)], 0, 'logits of the one position read');
      one.dispose();
    }
    assertClose([metricValue(logitDiff(4, 7), l)], [answers.reduce((s, _, b) => s + data[(b * P + 3) * V + 4] - data[(b * P + 3) * V + 7], 0) / B], 1e-6, 'one id for all prompts');
    l.dispose();
  });

  test('answerProbability and klDivergence match float64 softmax maths', () => {
    const clean = logits(2);
    const run = logits(3);
    const cleanData = clean.toArray();
    const runData = run.toArray();
    const probs = [4, 9, 12].map((a, b) => Math.exp(logSoftmax(runData, b, 1)[a]));
    assertClose([metricValue(answerProbability([4, 9, 12], { position: 1 }), run)], [probs.reduce((s, x) => s + x, 0) / B], 1e-6, 'probability');
    let kl = 0;
    for (let b = 0; b < B; b++) {
      const lp = logSoftmax(cleanData, b, P - 1);
      const lq = logSoftmax(runData, b, P - 1);
      for (let v = 0; v < V; v++) kl += Math.exp(lp[v]) * (lp[v] - lq[v]) / B;
    }
    const metric = klDivergence(clean);
    assertClose([metricValue(metric, run)], [kl], 1e-5, 'KL(clean || run)');
    assertClose([metricValue(metric, clean)], [0], 1e-6, 'KL(clean || clean)');
    clean.dispose();
    run.dispose();
  });

  test('normalisedMetric maps corrupted → 0 and clean → 1, for tensor and number metrics', () => {
    const clean = logits(4);
    const corrupted = logits(5);
    const metric = logitDiff([1, 2, 3], [4, 5, 6]);
    const baselines = { clean: metricValue(metric, clean), corrupted: metricValue(metric, corrupted) };
    const normalised = normalisedMetric(metric, baselines);
    assertClose([metricValue(normalised, clean), metricValue(normalised, corrupted)], [1, 0], 1e-5, 'tensor metric');
    assert.equal(normalised.logitPositions, 'last');
    const rows = normalised.perRow(clean);
    assertClose([Array.from(rows.toArray()).reduce((s, x) => s + x, 0) / B], [1], 1e-5, 'perRow mean');
    rows.dispose();
    const plain = (l: typeof clean) => metricValue(metric, l) * 2;
    const numbers = normalisedMetric(plain, { clean: plain(clean), corrupted: plain(corrupted) });
    assertClose([metricValue(numbers, clean), metricValue(numbers, corrupted)], [1, 0], 1e-6, 'number metric');
    assert.throws(() => normalisedMetric(metric, { clean: 1, corrupted: 1 }), ArgumentError);
    clean.dispose();
    corrupted.dispose();
  });

  test('bad ids, shapes and return values are named; no buffers leak', () => {
    const backend = refBackend();
    const l = logits(6);
    const baseline = backend.liveBuffers();
    assert.throws(() => logitDiff(17, 0)(l), (err: Error) => err instanceof IndexError && err.message.includes('17'));
    assert.throws(() => logitDiff([1, 2], [3, 4])(l), (err: Error) => err instanceof ShapeError && err.message.includes('2 token ids for 3 prompts'));
    assert.throws(() => rowMetric((x) => x.sum(-1))(l), (err: Error) => err instanceof ShapeError && err.message.includes('[3, 4]'));
    assert.throws(() => metricValue((x) => x.sum([0, 1]), l), (err: Error) => err instanceof ShapeError && err.message.includes('[17]'));
    assert.equal(backend.liveBuffers(), baseline);
    assertClose([metricValue(() => tensor(2.5, { backend }), l)], [2.5], 0, 'a 0-d tensor metric');
    assert.equal(backend.liveBuffers(), baseline);
    l.dispose();
  });
});
