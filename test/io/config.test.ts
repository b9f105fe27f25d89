import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHFConfig, readHFConfig } from '../../src/io/config.js';
import { FormatError, IOError } from '../../src/util/errors.js';
import { makeTempDir, sharedFixtures } from './fixture-paths.js';

test('reads the configs transformers wrote for gpt2, pythia and llama', async () => {
  const gpt2 = await readHFConfig(join(sharedFixtures, 'gpt2-tiny'));
  assert.equal(gpt2.model_type, 'gpt2');
  assert.deepEqual([gpt2.n_layer, gpt2.n_embd, gpt2.n_head, gpt2.vocab_size, gpt2.n_inner], [2, 64, 4, 50257, null]);
  assert.equal(gpt2.tie_word_embeddings, true);
  const pythia = await readHFConfig(join(sharedFixtures, 'pythia-tiny', 'config.json'));
  assert.equal(pythia.model_type, 'gpt_neox');
  assert.equal(pythia.rope_parameters?.partial_rotary_factor, 0.25);
  const llama = await readHFConfig(join(sharedFixtures, 'llama-tiny'));
  assert.deepEqual([llama.model_type, llama.num_key_value_heads, llama.intermediate_size], ['llama', 2, 172]);
  // Everything else passes through untouched.
  const raw = JSON.parse(readFileSync(join(sharedFixtures, 'llama-tiny', 'config.json'), 'utf8'));
  assert.deepEqual(llama, raw);
});

test('missing file → IOError; bad JSON, missing model_type, mistyped fields → FormatError naming file and field', async () => {
  await assert.rejects(readHFConfig('/nonexistent/config.json'), (e: Error) => e instanceof IOError && /nonexistent/.test(e.message));
  const { dir, cleanup } = makeTempDir('config');
  try {
    const path = join(dir, 'config.json');
    writeFileSync(path, '{"model_type": "gpt2",');
    await assert.rejects(readHFConfig(dir), (e: Error) => e instanceof FormatError && e.message.includes(path));
  } finally {
    cleanup();
  }
  const cases: [unknown, RegExp][] = [
    [[], /JSON object/],
    [{}, /"model_type"/],
    [{ model_type: '' }, /"model_type"/],
    [{ model_type: 'gpt2', n_layer: 0 }, /"n_layer".*positive integer.*0/],
    [{ model_type: 'llama', hidden_size: '64' }, /"hidden_size".*"64"/],
    [{ model_type: 'llama', rms_norm_eps: -1 }, /"rms_norm_eps"/],
    [{ model_type: 'llama', architectures: 'LlamaForCausalLM' }, /"architectures"/],
    [{ model_type: 'llama', eos_token_id: [1, -2] }, /"eos_token_id"/],
    [{ model_type: 'llama', tie_word_embeddings: 'yes' }, /"tie_word_embeddings"/],
    [{ model_type: 'llama', rope_scaling: 2 }, /"rope_scaling"/],
    [{ model_type: 'llama', rope_parameters: [] }, /"rope_parameters"/],
  ];
  for (const [json, pattern] of cases) {
    assert.throws(() => parseHFConfig(json, 'my/config.json'), (e: Error) => e instanceof FormatError && /my\/config\.json/.test(e.message) && pattern.test(e.message),
      JSON.stringify(json));
  }
  assert.deepEqual(parseHFConfig({ model_type: 'llama', eos_token_id: [1, 2], pad_token_id: null }).eos_token_id, [1, 2]);
});
