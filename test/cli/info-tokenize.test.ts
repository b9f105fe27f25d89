// `dissect info` and `dissect tokenize`: JSON that parses and agrees with independent sources (the
// checkpoint's own tensor sizes; transformers' token ids for the GPT-2 tokenizer fixture).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors } from '../../src/io/safetensors.js';
import { makeTempDir, sharedFixtures } from '../io/fixture-paths.js';
import { dissect, GPT2_TOKENIZER } from './run-cli.js';

interface InfoJson {
  family: string;
  parameters: number;
  source: string;
  config: { nLayers: number; dModel: number; nKvHeads: number; dVocab: number };
  hookPoints: { name: string; layer: number | null; axes: string[] }[];
}

const EXPECTED = {
  'gpt2-tiny': { family: 'gpt2', nKvHeads: 4 },
  'pythia-tiny': { family: 'gpt_neox', nKvHeads: 4 },
  'llama-tiny': { family: 'llama', nKvHeads: 2 },
} as const;

for (const [model, expected] of Object.entries(EXPECTED)) {
  test(`dissect info ${model} --json: family, config, parameter count and hook points`, async () => {
    const folder = join(sharedFixtures, model);
    const result = await dissect(['info', folder, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const info = JSON.parse(result.stdout) as InfoJson;
    const hf = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, number>;
    assert.equal(info.family, expected.family);
    assert.equal(info.source, 'local');
    assert.equal(info.config.nKvHeads, expected.nKvHeads);
    assert.equal(info.config.nLayers, hf.n_layer ?? hf.num_hidden_layers);
    assert.equal(info.config.dVocab, hf.vocab_size);
    // Parameters: every tensor the checkpoint stores (these fixtures store nothing but weights).
    const checkpoint = await openSafetensors(join(folder, 'model.safetensors'));
    const stored = checkpoint.names().reduce((sum, n) => sum + checkpoint.info(n).shape.reduce((a, b) => a * b, 1), 0);
    await checkpoint.close();
    assert.equal(info.parameters, stored);
    const names = info.hookPoints.map((p) => p.name);
    for (let l = 0; l < info.config.nLayers; l++) {
      for (const suffix of ['hook_resid_pre', 'hook_resid_post', 'attn.hook_pattern', 'hook_mlp_out']) assert.ok(names.includes(`blocks.${l}.${suffix}`), suffix);
    }
    const pattern = info.hookPoints.find((p) => p.name === 'blocks.1.attn.hook_pattern');
    assert.deepEqual(pattern, { name: 'blocks.1.attn.hook_pattern', layer: 1, axes: ['batch', 'head', 'query_pos', 'key_pos'] });
    assert.equal(new Set(names).size, names.length);

    if (model !== 'llama-tiny') return;
    const text = await dissect(['info', folder]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, new RegExp(`family +${expected.family}`));
    assert.match(text.stdout, new RegExp(`hook points \\(${names.length}\\)`));
    assert.match(text.stdout, /blocks\.0\.hook_resid_post +\[batch, pos, d_model\]/);
    assert.match(text.stdout, /blocks\.0\.attn\.hook_k +\[batch, pos, kv_head, d_head\]/);
  });
}

const encodings = JSON.parse(readFileSync(join(sharedFixtures, 'gpt2-tokenizer', 'reference_encodings.json'), 'utf8')) as { text: string; ids: number[] }[];

test('dissect tokenize matches transformers\' ids, with --tokenizer or a tokenizer.json in the model folder', async () => {
  const folder = join(sharedFixtures, 'gpt2-tiny');
  const { dir, cleanup } = makeTempDir('cli-tokenize');
  try {
    const withTokenizer = join(dir, 'gpt2');
    mkdirSync(withTokenizer);
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(folder, f), join(withTokenizer, f));
    copyFileSync(GPT2_TOKENIZER, join(withTokenizer, 'tokenizer.json'));
    const runs = [
      ...encodings.slice(0, 4).map(({ text, ids }) => ({ args: [folder, text, '--tokenizer', GPT2_TOKENIZER], text, ids })),
      { args: [withTokenizer, encodings[0].text], text: encodings[0].text, ids: encodings[0].ids },
    ];
    const results = await Promise.all(runs.map(({ args }) => dissect(['tokenize', ...args, '--json'])));
    runs.forEach(({ text, ids }, i) => {
      assert.equal(results[i].code, 0, results[i].stderr);
      const parsed = JSON.parse(results[i].stdout) as { ids: number[]; tokens: string[] };
      assert.deepEqual(parsed.ids, ids, JSON.stringify(text));
      assert.equal(parsed.tokens.length, ids.length);
      if (!/[^\x00-\x7f]/.test(text)) assert.equal(parsed.tokens.join(''), text); // ASCII: the pieces spell the text
    });
    const table = await dissect(['tokenize', withTokenizer, 'Hello world']);
    assert.equal(table.code, 0, table.stderr);
    assert.deepEqual(table.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)), [['0', '15496', '"Hello"'], ['1', '995', '"', 'world"']]);
  } finally {
    cleanup();
  }
});
