// Fresh models: seeded and reproducible, GPT-2's initialisation statistics, and saved folders that
// load back (through the normal loader) to identical logits — and, where torch and transformers
// are installed, load in transformers with no missing or unexpected tensors and the same logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import type { RawConfig } from '../../src/models/arch/hf-config.js';
import { checkpointTensors, initModel } from '../../src/organisms/init.js';
import { saveModelFolder } from '../../src/organisms/save.js';
import { tidy } from '../../src/tensor/index.js';
import { ArgumentError } from '../../src/util/errors.js';
import { makeTempDir } from '../io/fixture-paths.js';
import { assertClose } from '../models/helpers.js';
import { HF_LOGITS_SCRIPT, NO_TORCH, runPython, torchPython, type HfLogits } from './python.js';

const backend = getBackend('ref');

const CONFIGS: Record<string, RawConfig> = {
  gpt2: { model_type: 'gpt2', vocab_size: 37, n_embd: 16, n_layer: 3, n_head: 4, n_positions: 24, n_inner: 20 },
  llama: {
    model_type: 'llama', vocab_size: 37, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 4,
    num_key_value_heads: 2, max_position_embeddings: 24, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false,
  },
};
const TOKENS = [[1, 5, 9, 2, 36, 0, 7], [3, 3, 3, 8, 19, 22, 4]];

function stats(values: Float32Array): { mean: number; std: number } {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length) };
}

for (const [family, raw] of Object.entries(CONFIGS)) {
  test(`${family}: fresh weights are seeded, GPT-2-initialised, and survive a save/load round trip`, async (t) => {
    const a = initModel(raw, { seed: 11, backend });
    const b = initModel(raw, { seed: 11, backend });
    const c = initModel(raw, { seed: 12, backend });
    const tmp = makeTempDir(`init-${family}`);
    try {
      const specs = checkpointTensors(raw);
      assert.deepEqual([...a.params.named.keys()].sort(), specs.map((s) => s.name).sort());
      for (const spec of specs) {
        const values = a.params.named.get(spec.name)!.toArray() as Float32Array;
        assert.deepEqual([...a.params.named.get(spec.name)!.shape], [...spec.shape], spec.name);
        assert.deepEqual(values, b.params.named.get(spec.name)!.toArray(), `${spec.name}: same seed, same values`);
        if (spec.init === 'zeros') assert.ok(values.every((v) => v === 0), spec.name);
        if (spec.init === 'ones') assert.ok(values.every((v) => v === 1), spec.name);
        if (spec.init === 'normal' || spec.init === 'residual-out') {
          assert.notDeepEqual(values, c.params.named.get(spec.name)!.toArray(), `${spec.name}: another seed, other values`);
          const expected = spec.init === 'normal' ? 0.02 : 0.02 / Math.sqrt(2 * 3);
          const { mean, std } = stats(values);
          // n ≥ 320 samples: the sample std is within ~4 standard errors (std·sqrt(1/2n)) of the truth.
          const tolerance = 4 * expected / Math.sqrt(2 * values.length);
          assert.ok(Math.abs(std - expected) < tolerance, `${spec.name}: std ${std}, expected ${expected} ± ${tolerance}`);
          assert.ok(Math.abs(mean) < 4 * expected / Math.sqrt(values.length), `${spec.name}: mean ${mean}`);
        }
      }
      await saveModelFolder(a, raw, tmp.dir);
      const loaded = await loadModelFolder(tmp.dir, { backend });
      try {
        const expected = tidy(() => a.forward(TOKENS).toArray());
        const actual = tidy(() => loaded.forward(TOKENS).toArray());
        assert.deepEqual(actual, expected, 'the reloaded model computes the same logits bit for bit');
      } finally {
        loaded.dispose();
      }
      const python = torchPython();
      if (python === null) {
        t.skip(NO_TORCH);
        return;
      }
      const hf = runPython(python, HF_LOGITS_SCRIPT, { folder: tmp.dir, tokens: TOKENS }) as HfLogits;
      assert.deepEqual(hf.missing, [], 'transformers finds every tensor it expects');
      assert.deepEqual(hf.unexpected, [], 'and no tensor it does not know');
      assert.deepEqual(hf.mismatched, []);
      assertClose(tidy(() => a.forward(TOKENS).toArray()), hf.logits, 1e-4, `${family} logits vs transformers`);
    } finally {
      for (const m of [a, b, c]) m.dispose();
      tmp.cleanup();
    }
  });
}

test('initModel refuses families it cannot initialise', () => {
  assert.throws(() => checkpointTensors({ model_type: 'gpt_neox', vocab_size: 8, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8, max_position_embeddings: 8 }),
    (e) => e instanceof ArgumentError && /gpt_neox/.test(e.message) && /gpt2, llama/.test(e.message));
});
