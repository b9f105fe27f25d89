// The tuned lens: the identity lens is the logit lens and its KL matches a float64 recomputation;
// training lowers held-out KL below the logit lens; save/load round-trips; progress, abort and
// memory behave.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { logitLens } from '../../src/analysis/logit-lens.js';
import { loadTunedLens, saveTunedLens } from '../../src/analysis/tuned-lens-file.js';
import { TunedLens, lensKL, serializeTunedLens, trainTunedLens, tunedLensFromBytes } from '../../src/analysis/tuned-lens.js';
import { serializeSafetensors } from '../../src/io/safetensors-serialize.js';
import { dispose } from '../../src/tensor/index.js';
import { FormatError, ShapeError } from '../../src/util/errors.js';
import { makeTempDir } from '../io/fixture-paths.js';
import { handBuiltModel } from './hand-built-model.js';
import { TestRng, assertClose, assertThrowsWith, fixture, ref } from './inspect-helpers.js';

function randomRows(seed: number, count: number, length: number, vocab: number): number[][] {
  const rng = new TestRng(seed);
  return rng.tokens(count, length, vocab);
}

function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let total = 0;
  for (let i = 0; i < row.length; i++) total += Math.exp(row[i] - max);
  const lse = max + Math.log(total);
  return Float64Array.from(row, (x) => x - lse);
}

test('the identity lens is the logit lens; lensKL matches a float64 recomputation', async () => {
  const { model, tokens } = await fixture('llama-tiny');
  const c = model.config;
  const lens = TunedLens.identity(model);
  const { logits, cache } = model.runWithCache(tokens);
  try {
    const final = logits.toArray();
    const expected: number[] = [];
    for (let l = 0; l < c.nLayers; l++) {
      const lensLogits = lens.logits(model, cache.get(`blocks.${l}.hook_resid_pre`), l);
      const data = lensLogits.toArray();
      let kl = 0;
      const rows = tokens.length * tokens[0].length;
      for (let r = 0; r < rows; r++) {
        const p = logSoftmax(final.subarray(r * c.dVocab, (r + 1) * c.dVocab));
        const q = logSoftmax(data.subarray(r * c.dVocab, (r + 1) * c.dVocab));
        for (let v = 0; v < c.dVocab; v++) kl += Math.exp(p[v]) * (p[v] - q[v]);
      }
      expected.push(kl / rows);
      // Top token per position equals the logit lens's (fresh ln_final).
      const ll = logitLens(model, cache, { topK: 1 });
      const top = ll.topTokens.toArray();
      for (let r = 0; r < rows; r++) {
        const q = data.subarray(r * c.dVocab, (r + 1) * c.dVocab);
        let best = 0;
        for (let v = 1; v < c.dVocab; v++) if (q[v] > q[best]) best = v;
        assert.equal(top[l * rows + r], best, `layer ${l} row ${r}`);
      }
      dispose([lensLogits, ll]);
    }
    assertClose(lensKL(model, tokens, null), expected, 1e-6, 'logit-lens KL per layer');
    assertClose(lensKL(model, tokens, lens), expected, 1e-6, 'identity lens KL');
  } finally {
    logits.dispose();
    cache.dispose();
    lens.dispose();
  }
});

test('pythia-tiny: a trained tuned lens beats the logit lens on held-out rows at every layer', async () => {
  const { model } = await fixture('pythia-tiny');
  const vocab = model.config.dVocab;
  const train = randomRows(1, 48, 16, vocab);
  const heldOut = randomRows(2, 16, 16, vocab);
  const losses: number[] = [];
  const before = ref.liveBuffers();
  const lens = trainTunedLens(model, train, { steps: 30, lr: 1e-2, onProgress: (step, steps, loss) => { assert.equal(steps, 30); losses[step - 1] = loss; } });
  assert.equal(losses.length, 30);
  assert.ok(losses[29] < losses[0] / 3, `training loss ${losses[0]} → ${losses[29]}`);
  const logitKL = lensKL(model, heldOut, null);
  const tunedKL = lensKL(model, heldOut, lens);
  tunedKL.forEach((kl, l) => assert.ok(kl < 0.5 * logitKL[l], `layer ${l}: tuned ${kl} vs logit lens ${logitKL[l]}`));
  for (const p of [...lens.weights, ...lens.biases]) {
    assert.equal(p.requiresGrad, false, 'training leaves the lens without gradients');
    assert.equal(p.grad, null);
  }
  lens.dispose();
  assert.equal(ref.liveBuffers(), before, 'training frees everything but the lens');
});

test('llama-tiny (RMSNorm, GQA): training lowers the training KL; mixed row lengths batch separately', async () => {
  const { model } = await fixture('llama-tiny');
  const vocab = model.config.dVocab;
  const train = [...randomRows(3, 12, 16, vocab), ...randomRows(4, 6, 9, vocab)];
  const lens = trainTunedLens(model, train, { steps: 20, lr: 1e-2, batchSize: 6 });
  const tuned = lensKL(model, train, lens);
  const logit = lensKL(model, train, null);
  tuned.forEach((kl, l) => assert.ok(kl < logit[l], `layer ${l}: ${kl} vs ${logit[l]}`));
  lens.dispose();
});

test('tuned lens save/load and bytes round-trip; foreign files are rejected; abort stops training', async () => {
  const { model, tokens } = await fixture('pythia-tiny');
  const lens = trainTunedLens(model, tokens, { steps: 3, lr: 1e-2 });
  const { dir, cleanup } = makeTempDir('tuned-lens');
  try {
    const path = join(dir, 'lens.safetensors');
    await saveTunedLens(lens, path);
    const loaded = await loadTunedLens(path, ref);
    const fromBytes = tunedLensFromBytes(serializeTunedLens(lens), ref);
    for (const other of [loaded, fromBytes]) {
      assert.equal(other.nLayers, lens.nLayers);
      lens.weights.forEach((w, l) => {
        assert.deepEqual(other.weights[l].toArray(), w.toArray());
        assert.deepEqual(other.biases[l].toArray(), lens.biases[l].toArray());
      });
    }
    assert.deepEqual(lensKL(model, tokens, loaded), lensKL(model, tokens, lens));
    loaded.dispose();
    fromBytes.dispose();

    const foreign = serializeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, { format: 'pt' });
    assertThrowsWith(() => tunedLensFromBytes(foreign, ref), FormatError, ['"pt"', 'dissect-tuned-lens']);
    const wide = handBuiltModel();
    assertThrowsWith(() => lensKL(wide, tokens, lens), ShapeError, ['2 layers of width 64', '2 of 128']);
    wide.dispose();
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    assert.throws(() => trainTunedLens(model, tokens, { steps: 5, signal: controller.signal }), /stop/);
  } finally {
    lens.dispose();
    cleanup();
  }
});
