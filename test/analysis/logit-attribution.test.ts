// Direct logit attribution with the final-norm correction: attributions of the full residual
// decomposition plus the reported constant equal the model's own logits, on LayerNorm and RMSNorm
// models, tied and untied unembeddings, for per-position targets, logit differences and one
// position.

import { test } from 'node:test';
import { decomposeResid, stackHeadResults } from '../../src/analysis/cache-analysis.js';
import { logitAttrs } from '../../src/analysis/direct-logit-attribution.js';
import { dispose, tidy } from '../../src/tensor/index.js';
import { IndexError, ShapeError } from '../../src/util/errors.js';
import { FIXTURES, TestRng, assertClose, assertNoLeak, assertThrowsWith, fixture, maxAbs, sumFirstAxis } from './inspect-helpers.js';

function logitAt(logits: Float32Array | Float64Array | Int32Array, vocab: number, pos: number, b: number, p: number, t: number): number {
  return logits[(b * pos + p) * vocab + t];
}

for (const name of FIXTURES) {
  test(`${name}: Σ DLA over decomposeResid + constant = the logit (final-norm correction)`, async () => {
    const { model, tokens } = await fixture(name);
    const c = model.config;
    const [batch, pos] = [tokens.length, tokens[0].length];
    const { logits, cache } = model.runWithCache(tokens);
    const logitData = logits.toArray();
    const rng = new TestRng(3);
    const grid = tokens.map((row) => row.map(() => rng.int(0, c.dVocab)));
    const against = tokens.map((row) => row.map(() => rng.int(0, c.dVocab)));
    try {
      const parts = decomposeResid(model, cache);
      const dla = logitAttrs(model, cache, parts.stack, grid);
      const total = sumFirstAxis(dla.attributions);
      const constant = dla.constant.toArray();
      const got = total.map((v, i) => v + constant[i]);
      const expected = grid.flatMap((row, b) => row.map((t, p) => logitAt(logitData, c.dVocab, pos, b, p, t)));
      assertClose(got, expected, 1e-4 * Math.max(1, maxAbs(expected)), 'Σ attributions + constant vs logits');

      const diff = logitAttrs(model, cache, parts.stack, { token: grid, against });
      const diffConstant = diff.constant.toArray();
      const diffGot = sumFirstAxis(diff.attributions).map((v, i) => v + diffConstant[i]);
      const diffExpected = grid.flatMap((row, b) => row.map((t, p) =>
        logitAt(logitData, c.dVocab, pos, b, p, t) - logitAt(logitData, c.dVocab, pos, b, p, against[b][p])));
      assertClose(diffGot, diffExpected, 1e-4 * Math.max(1, maxAbs(diffExpected)), 'logit difference');

      // One position, one target per batch row; heads plus their output biases attribute the attention part.
      const last = decomposeResid(model, cache, { pos: -1 });
      const targets = tokens.map((row) => row[0]);
      const lastDla = logitAttrs(model, cache, last.stack, targets, { pos: -1 });
      const lastConstant = lastDla.constant.toArray();
      const lastGot = sumFirstAxis(lastDla.attributions).map((v, i) => v + lastConstant[i]);
      const lastExpected = targets.map((t, b) => logitAt(logitData, c.dVocab, pos, b, pos - 1, t));
      assertClose(lastGot, lastExpected, 1e-4 * Math.max(1, maxAbs(lastExpected)), 'one position');

      const heads = stackHeadResults(model, cache, { pos: -1 });
      const headDla = logitAttrs(model, cache, heads.stack, targets, { pos: -1 });
      const biasDla = logitAttrs(model, cache, tidy(() => heads.outBias.expand(-1, batch, -1)), targets, { pos: -1 });
      const attnParts = decomposeResid(model, cache, { pos: -1, mode: 'attn', includeEmbeds: false });
      const attnDla = logitAttrs(model, cache, attnParts.stack, targets, { pos: -1 });
      const viaHeads = sumFirstAxis(headDla.attributions).map((v, i) => v + sumFirstAxis(biasDla.attributions)[i]);
      const viaLayers = sumFirstAxis(attnDla.attributions);
      assertClose(viaHeads, viaLayers, 1e-4 * Math.max(1, maxAbs(viaLayers)), 'heads + biases vs attn_out layers');
      dispose([parts, dla, diff, last, lastDla, heads, headDla, biasDla, attnParts, attnDla].flatMap((r) => Object.values(r)));
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });
}

test('logitAttrs validates targets and frees its temporaries', async () => {
  const { model, tokens } = await fixture('pythia-tiny');
  const { logits, cache } = model.runWithCache(tokens);
  try {
    const parts = decomposeResid(model, cache);
    assertNoLeak('logitAttrs', () => dispose(Object.values(logitAttrs(model, cache, parts.stack, 7))));
    assertThrowsWith(() => logitAttrs(model, cache, parts.stack, [1, 2, 3]), ShapeError, ['3 targets', 'batch row (2)']);
    assertThrowsWith(() => logitAttrs(model, cache, parts.stack, 512), IndexError, ['target token 512', '512 tokens']);
    assertThrowsWith(() => logitAttrs(model, cache, parts.stack.select(3, 0), 1), ShapeError, ['d_model = 64']);
    dispose(Object.values(parts));
  } finally {
    logits.dispose();
    cache.dispose();
  }
});
