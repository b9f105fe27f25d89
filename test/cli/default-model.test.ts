// With no <model>, model commands use the embedded default (the shipped world-4l organism), so
// `npm start` and every command work offline on a fresh install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissect } from './run-cli.js';

test('info without <model> describes the embedded world-4l organism', async () => {
  const result = await dissect(['info', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const info = JSON.parse(result.stdout) as { config: { family: string; nLayers: number } };
  assert.equal(info.config.family, 'llama');
  assert.equal(info.config.nLayers, 4);
});

test('tokenize with only <text> uses the default model and its tokenizer', async () => {
  const result = await dissect(['tokenize', 'When Mary and John went to the store', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as { ids: number[] };
  assert.ok(parsed.ids.length >= 8, result.stdout);
});
