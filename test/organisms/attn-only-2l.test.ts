// The shipped attn-only-2l organism (Llama layout, MLPs zero), loaded through the normal path (loadModel):
// it is attention-only (MLP tensors all zero), it does induction (loss on the second copy of a
// random span far below the first), a layer-1 head attends to the token after the previous
// occurrence, fed by a layer-0 previous-token head — and transformers computes the same logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import { loadModel } from '../../src/io/load.js';
import { inductionMetrics } from '../../src/organisms/evaluate.js';
import { WORLD_WORDS } from '../../src/organisms/world.js';
import { tidy } from '../../src/tensor/index.js';
import { repoRoot } from '../io/fixture-paths.js';
import { assertClose } from '../models/helpers.js';
import { HF_LOGITS_SCRIPT, NO_TORCH, runPython, torchPython, type HfLogits } from './python.js';

const folder = join(repoRoot, 'models', 'attn-only-2l');
const backend = getBackend('ref');

test('attn-only-2l: attention-only, induction heads in layer 1, previous-token heads in layer 0', async () => {
  const { model, tokenizer } = await loadModel(folder, { backend });
  try {
    assert.ok(tokenizer !== null, 'the folder ships its tokenizer');
    assert.equal(model.config.nLayers, 2);
    assert.equal(model.config.dVocab, tokenizer.vocabSize);
    for (const [name, t] of model.params.named) {
      if (name.includes('.mlp.')) assert.ok((t.toArray() as Float32Array).every((v) => v === 0), `${name} must be zero`);
    }
    const pool = WORLD_WORDS.map((w) => tokenizer.encode(` ${w}`)[0]);
    const bos = tokenizer.eosTokenId!;
    const m = inductionMetrics(model, pool, { length: 20, batch: 8, seed: 2024, bos });
    // Chance on the first copy is about ln(pool size) ≈ 5.7 nats.
    assert.ok(m.firstHalfLoss > 4.5, `first copy is unpredictable: ${m.firstHalfLoss}`);
    assert.ok(m.secondHalfLoss < 0.35 * m.firstHalfLoss, `second copy loss ${m.secondHalfLoss} vs first ${m.firstHalfLoss}`);
    const [layer0, layer1] = m.inductionScores;
    assert.ok(Math.max(...layer1) > 0.4, `a layer-1 head attends to the token after the previous occurrence: ${layer1}`);
    assert.ok(Math.max(...layer0) < 0.2, `layer 0 cannot do induction alone: ${layer0}`);
    assert.ok(Math.max(...m.previousTokenScores[0]) > 0.35, `a layer-0 previous-token head: ${m.previousTokenScores[0]}`);
  } finally {
    model.dispose();
  }
});

test('attn-only-2l: transformers loads the folder and computes the same logits (1e-4)', async (t) => {
  const python = torchPython();
  if (python === null) {
    t.skip(NO_TORCH);
    return;
  }
  const { model, tokenizer } = await loadModel(folder, { backend });
  try {
    const text = ' Mary store basketball Veloria Tarsk happy owl Mary store basketball Veloria';
    const tokens = [tokenizer!.encode(text), tokenizer!.encode('When Mary and John went to the store, John gave a drink to Mary.').slice(0, 12)];
    const width = Math.min(tokens[0].length, tokens[1].length);
    const rows = tokens.map((r) => r.slice(0, width));
    const hf = runPython(python, HF_LOGITS_SCRIPT, { folder, tokens: rows }) as HfLogits;
    assert.deepEqual([hf.missing, hf.unexpected, hf.mismatched], [[], [], []]);
    assertClose(tidy(() => model.forward(rows).toArray()), hf.logits, 1e-4, 'attn-only-2l logits vs transformers');
  } finally {
    model.dispose();
  }
});
