// `dissect report induction` on attn-only-2l with a small probe: the HTML is well-formed and
// self-contained, has every section, and its numbers agree with the library computed directly —
// the organisms' own induction metric (an independent implementation of the loss split and the
// head scores), dense K-composition, and path patching run one sender at a time.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { headOV, headQK, inductionMetrics, loadModel, pathPatching, tidy, type HeadRef, type LoadedModel, type Tensor } from '../../src/index.js';
import { makeTempDir, repoRoot } from '../io/fixture-paths.js';
import { assertWellFormedReport, hasValue, parseReport, type ParsedReport } from './report-helpers.js';
import { dissect } from './run-cli.js';

const MODEL = join(repoRoot, 'models', 'attn-only-2l');
const LENGTH = 10;
const BATCH = 4;

interface InductionData {
  pool: { ids: number[] };
  rows: number[][];
  loss: { firstHalf: number; secondHalf: number; byPosition: number[] };
  scores: { induction: number[][]; previous_token: number[][] };
  pairs: { receiver: HeadRef; kComposition: { head: HeadRef; value: number }; pathPatching: { head: HeadRef; value: number } }[];
  pathPatching: { corrupted: number[][] };
}

describe('dissect report induction', () => {
  const temp = makeTempDir('report-induction');
  let report: ParsedReport;
  let data: InductionData;
  let loaded: LoadedModel;
  let stderr = '';

  before(async () => {
    const result = await dissect(['report', 'induction', MODEL, '--out', temp.dir, '--length', String(LENGTH), '--batch', String(BATCH), '--example-length', '5']);
    assert.equal(result.code, 0, result.stderr);
    stderr = result.stderr;
    assert.match(result.stdout, /^wrote .*induction\.html \(\d+ kB, [\d.]+ s\)\n$/);
    report = parseReport(readFileSync(join(temp.dir, 'induction.html'), 'utf8'));
    data = report.data as unknown as InductionData;
    loaded = await loadModel(MODEL);
  });
  after(() => {
    loaded?.model.dispose();
    temp.cleanup();
  });

  test('well-formed, self-contained, every section with claim, method, figures and verdict; progress on stderr', () => {
    assertWellFormedReport(report, ['loss', 'heads', 'pairing', 'pattern']);
    assert.match(report.title, /Induction heads in attn-only-2l/);
    for (let i = 1; i <= 4; i++) assert.match(stderr, new RegExp(`\\[induction ${i}/4\\] .+\\n {2}done in [\\d.]+ s`));
  });

  test('loss halves and head scores equal inductionMetrics on the same rows', () => {
    const { model } = loaded;
    const ref = inductionMetrics(model, data.pool.ids, { length: LENGTH, batch: BATCH, seed: 0, bos: model.config.bosTokenId as number });
    assert.ok(Math.abs(data.loss.firstHalf - ref.firstHalfLoss) < 1e-4, `${data.loss.firstHalf} vs ${ref.firstHalfLoss}`);
    assert.ok(Math.abs(data.loss.secondHalf - ref.secondHalfLoss) < 1e-4, `${data.loss.secondHalf} vs ${ref.secondHalfLoss}`);
    const loss = report.sections.find((s) => s.id === 'loss');
    assert.ok(loss && hasValue(loss.values, data.loss.firstHalf) && hasValue(loss.values, data.loss.secondHalf), 'the table shows both halves');
    assert.equal(loss?.verdictStatus, data.loss.secondHalf < 0.5 * data.loss.firstHalf ? 'met' : 'not met');
    ref.inductionScores.forEach((row, l) => row.forEach((v, h) => assert.ok(Math.abs(v - data.scores.induction[l][h]) < 1e-5, `induction L${l}H${h}`)));
    ref.previousTokenScores.forEach((row, l) => row.forEach((v, h) => assert.ok(Math.abs(v - data.scores.previous_token[l][h]) < 1e-5, `previous L${l}H${h}`)));
  });

  test('K-composition of the top pair equals the dense computation', () => {
    const { model } = loaded;
    const { receiver, kComposition } = data.pairs[0];
    const frobenius = (t: Tensor) => t.square().sum().sqrt().item();
    const expected = tidy(() => {
      const ov = headOV(model, kComposition.head.layer, kComposition.head.head);
      const qk = headQK(model, receiver.layer, receiver.head);
      const [ovDense, qkDense] = [ov.product(), qk.product()];
      ov.dispose();
      qk.dispose();
      return frobenius(ovDense.matmul(qkDense.transpose(0, 1))) / (frobenius(ovDense) * frobenius(qkDense));
    });
    assert.ok(Math.abs(kComposition.value - expected) < 1e-4 * expected, `${kComposition.value} vs ${expected}`);
  });

  test('path patching of the top sender into the induction head\'s keys equals a one-sender run', async () => {
    const { model } = loaded;
    const { receiver, pathPatching: top } = data.pairs[0];
    const T = data.rows[0].length;
    const positions = Array.from({ length: LENGTH - 1 }, (_, i) => T - LENGTH + i); // predicting the second copy's tokens 2..L
    const metric = (logits: Tensor) => tidy(() => {
      const logProbs = logits.logSoftmax(-1).toArray();
      const vocab = logits.shape[2];
      let sum = 0;
      data.rows.forEach((row, b) => { for (const p of positions) sum += logProbs[(b * T + p) * vocab + row[p + 1]]; });
      return sum / (data.rows.length * positions.length);
    });
    const clean = tidy(() => metric(model.forward(data.rows)));
    const corrupted = tidy(() => metric(model.forward(data.pathPatching.corrupted)));
    const patched = await pathPatching(model, [top.head], {
      cleanTokens: data.rows, corruptedTokens: data.pathPatching.corrupted, metric, receivers: [{ ...receiver, input: 'k' }], method: 'loop',
    });
    const expected = (patched - clean) / (clean - corrupted);
    assert.ok(Math.abs(top.value - expected) < 1e-4, `${top.value} vs ${expected}`);
  });
});
