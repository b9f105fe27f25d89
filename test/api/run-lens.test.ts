// The run, tokenize and lens handlers against references computed here: next-token top-k from the
// model's logits with a float64 softmax, head scores counted by hand from the returned attention,
// and the logit lens as RMSNorm + unembedding written out in plain loops.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  TunedLens, normWeight, repeatedRandomTokens, unembedMatrix, type HookedTransformer, type Tokenizer,
} from '../../src/index.js';
import { decodeFloat32, handlers, type LensResponse } from '../../src/api/index.js';
import { IOI_CLEAN, assertClose, softmax, testSession, type TestSession } from './api-helpers.js';

let session: TestSession;
let model: HookedTransformer;
let tokenizer: Tokenizer;
let ids: number[];

before(async () => {
  session = testSession({ tunedLens: (m) => TunedLens.identity(m) });
  ({ model, tokenizer } = await session.loaded('world-4l') as { model: HookedTransformer; tokenizer: Tokenizer });
  ids = tokenizer.encode(IOI_CLEAN);
});
after(() => session.dispose());

/** Score of one head by the definition: Σ attention · detection / Σ attention over the causal triangle. */
function naiveScore(attention: Float32Array, offset: number, tokens: number[], kind: string): number {
  const n = tokens.length;
  let hit = 0;
  let all = 0;
  for (let q = 0; q < n; q++) {
    for (let k = 0; k <= q; k++) {
      const a = attention[offset + q * n + k];
      const wanted = kind === 'previous_token' ? k === q - 1
        : kind === 'duplicate_token' ? k < q && tokens[k] === tokens[q]
          : k >= 1 && k - 1 !== q && tokens[k - 1] === tokens[q];
      all += a;
      if (wanted) hit += a;
    }
  }
  return hit / all;
}

describe('api run', () => {
  it('tokenizes as the tokenizer does, with bos prepended on request', async () => {
    const plain = await handlers.tokenize(session, { model: 'world-4l', text: IOI_CLEAN });
    assert.deepEqual(plain.tokens.map((t) => t.id), ids);
    assert.deepEqual(plain.tokens.map((t) => t.text), tokenizer.tokenStrings(ids));
    const withBos = await handlers.tokenize(session, { model: 'world-4l', text: IOI_CLEAN, bos: true });
    assert.deepEqual(withBos.tokens.map((t) => t.id), [model.config.bosTokenId, ...ids]);
    assert.equal(plain.model.nLayers, model.config.nLayers);
  });

  it('gives each position\'s top-k next tokens with softmax probabilities and raw logits', async () => {
    const k = 4;
    const res = await handlers.run(session, { model: 'world-4l', text: IOI_CLEAN, topK: k, attention: false, headScores: 'none' });
    assert.deepEqual(res.tokens.map((t) => t.id), ids);
    const logits = model.forward([ids]);
    const data = logits.toArray();
    logits.dispose();
    const vocab = model.config.dVocab;
    assert.equal(res.predictions.length, ids.length);
    res.predictions.forEach(({ position, top }, p) => {
      assert.equal(position, p);
      const row = data.subarray(p * vocab, (p + 1) * vocab);
      const probs = softmax(row);
      const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a]).slice(0, k);
      assert.deepEqual(top.map((t) => t.id), order);
      top.forEach((t, j) => {
        assert.equal(t.logit, row[order[j]]);
        assertClose(t.prob, probs[order[j]], 1e-6, `P(${t.id}) at ${p}`);
        assert.equal(t.text, tokenizer.tokenStrings([t.id])[0]);
      });
    });
    const last = await handlers.run(session, { model: 'world-4l', text: IOI_CLEAN, topK: k, predictions: 'last', attention: false, headScores: 'none' });
    assert.equal(last.predictions.length, 1);
    assert.equal(last.predictions[0].position, ids.length - 1);
    assert.deepEqual(last.predictions[0].top.map((t) => t.id), res.predictions[ids.length - 1].top.map((t) => t.id));
    assert.equal(res.attention, null);
    assert.equal(res.headScores, null);
  });

  it('returns every head\'s attention pattern and head scores that match their definition', async () => {
    const text = `${IOI_CLEAN} Mary and John went to the store`; // repeats make duplicate and induction scores non-trivial
    const res = await handlers.run(session, { model: 'world-4l', text, topK: 1 });
    const tokens = res.tokens.map((t) => t.id);
    const n = tokens.length;
    const { nLayers, nHeads } = model.config;
    assert.ok(res.attention !== null && res.headScores !== null);
    assert.deepEqual(res.attention.shape, [nLayers, nHeads, n, n]);
    assert.deepEqual(res.attention.axes, ['layer', 'head', 'query', 'key']);
    const attention = decodeFloat32(res.attention);
    const { logits, cache } = model.runWithCache([tokens], { names: /hook_pattern$/ });
    for (let l = 0; l < nLayers; l++) {
      assert.deepEqual(attention.subarray(l * nHeads * n * n, (l + 1) * nHeads * n * n), cache.get(`blocks.${l}.attn.hook_pattern`).toArray());
    }
    logits.dispose();
    cache.dispose();
    for (let row = 0; row < nLayers * nHeads * n; row++) {
      const q = row % n;
      const values = attention.subarray(row * n, (row + 1) * n);
      assertClose(values.reduce((a, b) => a + b, 0), 1, 1e-5, `attention row ${row}`);
      assert.ok(values.subarray(q + 1).every((v) => v === 0), 'no attention to later positions');
    }
    assert.deepEqual(res.attentionLayers, [0, 1, 2, 3].slice(0, nLayers));
    const chosen = await handlers.run(session, { model: 'world-4l', text, topK: 1, attentionLayers: [2, 0], headScores: 'none' });
    assert.deepEqual(chosen.attentionLayers, [2, 0]);
    const block = nHeads * n * n;
    const picked = decodeFloat32(chosen.attention as NonNullable<typeof chosen.attention>);
    assert.deepEqual(picked.subarray(0, block), attention.subarray(2 * block, 3 * block));
    assert.deepEqual(picked.subarray(block), attention.subarray(0, block));
    assert.equal(res.headScores.source, 'prompt');
    assert.deepEqual(res.headScores.rows, [tokens]);
    for (const kind of ['previous_token', 'duplicate_token', 'induction'] as const) {
      for (let l = 0; l < nLayers; l++) {
        for (let h = 0; h < nHeads; h++) {
          const expected = naiveScore(attention, (l * nHeads + h) * n * n, tokens, kind);
          assertClose(res.headScores.scores[kind][l][h] as number, expected, 1e-5, `${kind} L${l}H${h}`);
        }
      }
    }
  });

  it('scores heads on repeated random tokens: the rows repeatedRandomTokens makes, each score the mean over rows', async () => {
    const res = await handlers.run(session, {
      model: 'world-4l', ids: [1, 2], attention: false, headScores: 'random', random: { seqLen: 6, batch: 2, seed: 3 },
    });
    assert.ok(res.headScores !== null);
    assert.equal(res.headScores.source, 'random');
    const rows = repeatedRandomTokens(model, { length: 6, batch: 2, seed: 3 });
    assert.deepEqual(res.headScores.rows, rows);
    const { nLayers, nHeads } = model.config;
    const n = rows[0].length;
    const { logits, cache } = model.runWithCache(rows, { names: /hook_pattern$/ });
    for (let l = 0; l < nLayers; l++) {
      const pattern = cache.get(`blocks.${l}.attn.hook_pattern`).toArray() as Float32Array; // [batch, head, n, n]
      for (let h = 0; h < nHeads; h++) {
        const perRow = rows.map((row, b) => naiveScore(pattern, (b * nHeads + h) * n * n, row, 'induction'));
        assertClose(res.headScores.scores.induction[l][h] as number, (perRow[0] + perRow[1]) / 2, 1e-5, `induction L${l}H${h}`);
      }
    }
    logits.dispose();
    cache.dispose();
  });
});

/** The logit lens by hand: ln_final (RMSNorm with its weight) on each cached resid_pre, then W_U, softmax. */
interface NaiveLens {
  top: number[][];
  topProb: number[][];
  targetProb: number[][];
  /** Bounds of the target's rank allowing for float32 rounding: tokens clearly more probable, and those not clearly less. */
  rankRange: [number, number][][];
}

function naiveLens(tokens: number[], target: number): NaiveLens {
  assert.equal(model.config.norm, 'rmsnorm', 'world-4l is a Llama-layout model');
  const { nLayers, dModel, dVocab, normEps } = model.config;
  const weight = normWeight(model, model.params.lnFinal);
  const w = weight === null ? new Float32Array(dModel).fill(1) : weight.toArray();
  const unembed = unembedMatrix(model); // [d_model, d_vocab]
  const u = unembed.toArray();
  const names = [...Array.from({ length: nLayers }, (_, l) => `blocks.${l}.hook_resid_pre`), `blocks.${nLayers - 1}.hook_resid_post`];
  const { logits, cache } = model.runWithCache([tokens], { names });
  const out: NaiveLens = { top: [], topProb: [], targetProb: [], rankRange: [] };
  for (const name of names) {
    const resid = cache.get(name).toArray();
    const row = { top: [] as number[], topProb: [] as number[], targetProb: [] as number[], rankRange: [] as [number, number][] };
    for (let p = 0; p < tokens.length; p++) {
      const x = resid.subarray(p * dModel, (p + 1) * dModel);
      let squares = 0;
      for (let d = 0; d < dModel; d++) squares += x[d] * x[d];
      const scale = Math.sqrt(squares / dModel + normEps);
      const lensLogits = new Float64Array(dVocab);
      for (let d = 0; d < dModel; d++) {
        const xn = (x[d] / scale) * w[d];
        for (let v = 0; v < dVocab; v++) lensLogits[v] += xn * u[d * dVocab + v];
      }
      const probs = softmax(lensLogits);
      const best = probs.indexOf(Math.max(...probs));
      row.top.push(best);
      row.topProb.push(probs[best]);
      row.targetProb.push(probs[target]);
      const t = probs[target];
      row.rankRange.push([probs.filter((q) => q > t * (1 + 1e-4)).length, probs.filter((q) => q > t * (1 - 1e-4)).length - 1]);
    }
    out.top.push(row.top);
    out.topProb.push(row.topProb);
    out.targetProb.push(row.targetProb);
    out.rankRange.push(row.rankRange);
  }
  logits.dispose();
  cache.dispose();
  weight?.dispose();
  unembed.dispose();
  return out;
}

describe('api lens', () => {
  const text = IOI_CLEAN;
  let response: LensResponse;

  before(async () => {
    response = await handlers.lens(session, { model: 'world-4l', text, target: ' Mary', topK: 3 });
  });

  it('matches RMSNorm + unembedding of every layer\'s residual, computed by hand', () => {
    const tokens = response.tokens.map((t) => t.id);
    const target = tokenizer.encode(' Mary', { addSpecialTokens: false })[0];
    assert.deepEqual(response.target, { id: target, text: ' Mary' });
    const expected = naiveLens(tokens, target);
    assert.deepEqual(response.rows, [...Array.from({ length: model.config.nLayers }, (_, l) => `${l}_pre`), 'final_post']);
    response.rows.forEach((label, r) => {
      tokens.forEach((_, p) => {
        const cell = response.top[r][p];
        assert.equal(cell.length, 3);
        assertClose(cell[0].prob, expected.topProb[r][p], 1e-4, `top prob ${label} pos ${p}`);
        // The top token may differ only where two tokens are (nearly) tied.
        if (cell[0].id !== expected.top[r][p]) assertClose(cell[0].prob, cell[1].prob, 1e-4, `tie at ${label} pos ${p}`);
        assertClose((response.targetProbs as number[][])[r][p], expected.targetProb[r][p], 1e-4, `P(target) ${label} pos ${p}`);
        const rank = (response.targetRanks as number[][])[r][p];
        const [low, high] = expected.rankRange[r][p];
        assert.ok(rank >= low && rank <= Math.max(low, high), `rank of the target at ${label} pos ${p}: ${rank}, expected ${low}..${high}`);
      });
    });
  });

  it('a tuned lens of identity translators reads the same as the logit lens', async () => {
    const tuned = await handlers.lens(session, { model: 'world-4l', text, target: ' Mary', topK: 3, lens: 'tuned' });
    assert.equal(tuned.lens, 'tuned');
    assert.equal(tuned.norm, null);
    assert.deepEqual(tuned.rows, response.rows);
    tuned.top.forEach((row, r) => row.forEach((cell, p) => cell.forEach((t, j) => {
      assertClose(t.prob, response.top[r][p][j].prob, 1e-5, `tuned vs logit lens at ${r},${p},${j}`);
    })));
    tuned.targetProbs?.forEach((row, r) => row.forEach((v, p) => assertClose(v, (response.targetProbs as number[][])[r][p], 1e-5, 'P(target)')));
    assert.deepEqual(tuned.targetRanks, response.targetRanks);
  });
});
