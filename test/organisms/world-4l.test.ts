// The shipped world-4l organism, loaded through the normal path (loadModel on its folder): induction
// heads (loss on the second copy of a random span far below the first; a head attending to the token
// after the previous occurrence, and a previous-token head), IOI on names held out of IOI training
// (logit difference IO − S > 2), fact recall on held-out paraphrases (≥ 90% top-1), and transformers
// computing the same logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import '../../src/index.js';
import { loadModel } from '../../src/io/load.js';
import { factRecallHeldOut, inductionMetrics, ioiHeldOut } from '../../src/organisms/evaluate.js';
import { WORLD_WORDS } from '../../src/organisms/world.js';
import { tidy } from '../../src/tensor/index.js';
import { repoRoot } from '../io/fixture-paths.js';
import { assertClose } from '../models/helpers.js';
import { HF_LOGITS_SCRIPT, NO_TORCH, runPython, torchPython, type HfLogits } from './python.js';

const folder = join(repoRoot, 'models', 'world-4l');

test('world-4l: induction heads fed by previous-token heads; IOI on held-out names; facts recalled from held-out paraphrases', async () => {
  const { model, tokenizer } = await loadModel(folder);
  try {
    assert.ok(tokenizer !== null, 'the folder ships its tokenizer');
    assert.equal(model.config.dVocab, tokenizer.vocabSize);
    const pool = WORLD_WORDS.map((w) => tokenizer.encode(` ${w}`)[0]);
    const m = inductionMetrics(model, pool, { length: 20, batch: 8, seed: 2024, bos: tokenizer.eosTokenId! });
    // Chance on the first copy is about ln(pool size) ≈ 6 nats.
    assert.ok(m.firstHalfLoss > 4.5, `first copy is unpredictable: ${m.firstHalfLoss}`);
    assert.ok(m.secondHalfLoss < 0.1 * m.firstHalfLoss, `second copy loss ${m.secondHalfLoss} vs first ${m.firstHalfLoss}`);
    const best = (scores: number[][]) => Math.max(...scores.flat());
    assert.ok(best(m.inductionScores) > 0.5, `an induction head: ${JSON.stringify(m.inductionScores)}`);
    assert.ok(Math.max(...m.inductionScores[0]) < 0.2, `layer 0 cannot do induction alone: ${m.inductionScores[0]}`);
    assert.ok(best(m.previousTokenScores) > 0.5, `a previous-token head: ${JSON.stringify(m.previousTokenScores)}`);
    const ioi = ioiHeldOut(model, tokenizer, 96, 777);
    assert.ok(ioi.meanLogitDiff > 2, `IOI logit diff on held-out names: ${ioi.meanLogitDiff}`);
    assert.ok(ioi.accuracy > 0.8, `IOI accuracy: ${ioi.accuracy}`);
    // The target: ≥ 90% top-1 on the paraphrases training never uses.
    const facts = factRecallHeldOut(model, tokenizer);
    assert.equal(facts.count, 144);
    assert.ok(facts.top1 >= 0.9, `held-out fact recall ${facts.top1}; misses ${JSON.stringify(facts.misses)}`);
  } finally {
    model.dispose();
  }
});

test('world-4l: transformers loads the folder and computes the same logits (1e-4)', async (t) => {
  const python = torchPython();
  if (python === null) {
    t.skip(NO_TORCH);
    return;
  }
  const { model, tokenizer } = await loadModel(folder);
  try {
    const texts = ['When Mary and John went to the store, John gave a drink to', 'The capital of Veloria is Tarsk. Ada ünïcode 12'];
    const encoded = texts.map((text) => tokenizer!.encode(text));
    const width = Math.min(...encoded.map((r) => r.length));
    const rows = encoded.map((r) => r.slice(0, width));
    const hf = runPython(python, HF_LOGITS_SCRIPT, { folder, tokens: rows }) as HfLogits;
    assert.deepEqual([hf.missing, hf.unexpected, hf.mismatched], [[], [], []]);
    assertClose(tidy(() => model.forward(rows).toArray()), hf.logits, 1e-4, 'world-4l logits vs transformers');
  } finally {
    model.dispose();
  }
});
