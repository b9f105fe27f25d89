// Head detection: TransformerLens's scores checked on hand-computed patterns, then on a model whose
// heads were written by hand (see hand-built-model.ts) — the detector must find exactly the
// previous-token, duplicate-token and induction heads it was built with.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  attentionSimilarity, detectHeads, detectionPattern, headScores, repeatedRandomTokens, type HeadKind,
} from '../../src/analysis/head-detection.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { ArgumentError, IndexError, ShapeError } from '../../src/util/errors.js';
import { setNoticeHandler } from '../../src/util/log.js';
import { handBuiltModel } from './hand-built-model.js';
import { assertClose, assertNoLeak, assertThrowsWith, fixture } from './inspect-helpers.js';

test('detection patterns follow TransformerLens on a row with repeats', () => {
  const tokens = [5, 7, 5, 9, 7, 5];
  assert.deepEqual(detectionPattern('previous_token', [1, 2, 3]), [[0, 0, 0], [1, 0, 0], [0, 1, 0]]);
  const dup = detectionPattern('duplicate_token', tokens);
  assert.deepEqual(dup[5], [1, 0, 1, 0, 0, 0], 'earlier 5s, not itself');
  assert.deepEqual(dup[4], [0, 1, 0, 0, 0, 0]);
  const induction = detectionPattern('induction', tokens);
  assert.deepEqual(induction[5], [0, 1, 0, 1, 0, 0], 'the tokens after earlier 5s');
  assert.deepEqual(induction[4], [0, 0, 1, 0, 0, 0], 'the token after the earlier 7');
  assert.deepEqual(induction[2], [0, 1, 0, 0, 0, 0]);
});

test('attention similarity: mul, abs and the exclusions on a hand-computed 3 × 3 case', () => {
  const attention = [1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5];
  const previous = [0, 0, 0, 1, 0, 0, 0, 1, 0];
  assertClose([attentionSimilarity(attention, previous, 3)], [(0.5 + 0.3) / 3], 1e-12, 'mul');
  assertClose([attentionSimilarity(attention, previous, 3, { excludeBos: true })], [0.3 / (0.5 + 0.8)], 1e-12, 'mul, no BOS');
  assertClose([attentionSimilarity(attention, previous, 3, { excludeCurrentToken: true })], [0.8 / (0.5 + 0.5)], 1e-12, 'mul, no diagonal');
  // |a − d|: row 0: 1; row 1: 0.5 + 0.5; row 2: 0.2 + 0.7 + 0.5.
  assertClose([attentionSimilarity(attention, previous, 3, { errorMeasure: 'abs' })], [1 - 3.4 / 3], 1e-12, 'abs');
  assertClose([attentionSimilarity(attention, previous, 3, { errorMeasure: 'abs', excludeBos: true })], [1 - (0.5 + 0.7 + 0.5) / 3], 1e-12, 'abs, no BOS');
});

describe('a hand-built model with known heads', () => {
  let model: HookedTransformer;
  let rows: number[][];
  before(() => {
    model = handBuiltModel();
    rows = repeatedRandomTokens(model, { length: 12, batch: 4, seed: 7, low: 1 });
  });
  after(() => model.dispose());

  const planted: Record<HeadKind, string> = { previous_token: 'L0H0', duplicate_token: 'L1H0', induction: 'L1H1' };
  for (const kind of Object.keys(planted) as HeadKind[]) {
    test(`${kind}: only ${planted[kind]} scores high`, () => {
      const scores = detectHeads(model, rows, kind, { excludeBos: true });
      const values = scores.toArray();
      scores.dispose();
      const labels = ['L0H0', 'L0H1', 'L1H0', 'L1H1'];
      labels.forEach((label, i) => {
        if (label === planted[kind]) assert.ok(values[i] > 0.99, `${label} ${kind} score ${values[i]} should be ≈ 1`);
        else assert.ok(values[i] < 0.35, `${label} ${kind} score ${values[i]} should be low`);
      });
    });
  }

  test('the options change the previous-token score as TransformerLens defines them', () => {
    // L0H0's row 0 can only attend to itself (where the pattern is 0): 24 of 25 rows match.
    const n = rows[0].length;
    const score = (options: Parameters<typeof detectHeads>[3]) => {
      const t = detectHeads(model, rows, 'previous_token', { ...options, heads: [[0, 0]] });
      const data = t.toArray();
      t.dispose();
      assert.deepEqual(Array.from(data.subarray(1)), [-1, -1, -1], 'unrequested heads are −1');
      return data[0];
    };
    assertClose([score({})], [(n - 1) / n], 1e-4, 'mul');
    assertClose([score({ excludeBos: true })], [1], 1e-4, 'mul without BOS');
    assertClose([score({ errorMeasure: 'abs' })], [1 - 1 / n], 1e-4, 'abs');
    assertClose([score({ errorMeasure: 'abs', excludeCurrentToken: true })], [1], 1e-4, 'abs without the diagonal');
  });

  test('user tokens and custom patterns', () => {
    // No repeats inside the first half except the planted ones: 3 and 9 recur.
    const userRows = [[0, 3, 9, 4, 3, 9, 11, 3]];
    const dup = detectHeads(model, userRows, 'duplicate_token', { excludeBos: true });
    assert.ok(dup.toArray()[2] > 0.99, `L1H0 on user tokens: ${dup.toArray()[2]}`);
    // A fixed pattern equal to the named one gives the same scores; so does a function.
    const fixed = detectHeads(model, userRows, detectionPattern('previous_token', userRows[0]));
    const named = detectHeads(model, userRows, 'previous_token');
    const fn = detectHeads(model, userRows, (row) => detectionPattern('previous_token', row));
    assert.deepEqual(Array.from(fixed.toArray()), Array.from(named.toArray()));
    assert.deepEqual(Array.from(fn.toArray()), Array.from(named.toArray()));
    for (const t of [dup, fixed, named, fn]) t.dispose();

    const upper = detectionPattern('previous_token', userRows[0]).map((r) => [...r]);
    upper[2][5] = 1;
    assertThrowsWith(() => detectHeads(model, userRows, upper), ArgumentError, ['lower triangular', '[2][5] is 1']);
    assertThrowsWith(() => detectHeads(model, userRows, [[1]]), ShapeError, ['[1, 1]', 'expected [8, 8]']);
    assertThrowsWith(() => detectHeads(model, userRows, 'induction', { heads: [[2, 0]] }), IndexError, ['layer 2']);

    // headScores reads an existing cache; it must be for the rows given.
    const { logits, cache } = model.runWithCache(rows);
    try {
      const fromCache = headScores(model, cache, rows, 'induction', { excludeBos: true });
      const direct = detectHeads(model, rows, 'induction', { excludeBos: true });
      assert.deepEqual(Array.from(fromCache.toArray()), Array.from(direct.toArray()));
      fromCache.dispose();
      direct.dispose();
      assertThrowsWith(() => headScores(model, cache, userRows, 'induction'), ShapeError, ['cached pattern of layer 0', 'expected [1, 2, 8, 8]']);
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });

  test('non-binary patterns with mul raise a notice; nothing leaks', () => {
    const notices: string[] = [];
    const previous = setNoticeHandler((m) => notices.push(m));
    try {
      const half = detectionPattern('previous_token', rows[0]).map((r) => r.map((v) => v / 2));
      assertNoLeak('detectHeads', () => detectHeads(model, rows, half).dispose());
      assert.equal(notices.length, 1);
      assert.match(notices[0], /other than 0 and 1/);
    } finally {
      setNoticeHandler(previous);
    }
  });
});

test('repeatedRandomTokens: seeded, BOS first, halves equal, BOS never drawn', async () => {
  const { model } = await fixture('llama-tiny');
  const a = repeatedRandomTokens(model, { length: 10, batch: 3, seed: 5 });
  const b = repeatedRandomTokens(model, { length: 10, batch: 3, seed: 5 });
  assert.deepEqual(a, b);
  for (const row of a) {
    assert.equal(row.length, 21);
    assert.equal(row[0], model.config.bosTokenId);
    assert.deepEqual(row.slice(1, 11), row.slice(11));
    assert.ok(!row.slice(1).includes(model.config.bosTokenId as number));
  }
  assert.equal(repeatedRandomTokens(model, { length: 4, bos: null })[0].length, 8);
  assertThrowsWith(() => repeatedRandomTokens(model, { length: 64 }), IndexError, ['129 tokens', 'context of 128']);
  // Works on a GQA model from a cache: one score per query head.
  const scores = detectHeads(model, a, 'induction');
  assert.deepEqual([...scores.shape], [2, 4]);
  scores.dispose();
});
