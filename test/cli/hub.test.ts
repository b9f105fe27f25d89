// A hub id on the command line: the CLI reads HF_ENDPOINT / HF_HUB_CACHE like huggingface_hub, so
// a fake hub stands in for huggingface.co.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeHub } from '../io/fake-hub.js';
import { makeTempDir, sharedFixtures } from '../io/fixture-paths.js';
import { dissect, GPT2_TOKENIZER } from './run-cli.js';

test('dissect info / tokenize with a hub id download into HF_HUB_CACHE', async () => {
  const folder = join(sharedFixtures, 'llama-tiny');
  const files = {
    'config.json': new Uint8Array(readFileSync(join(folder, 'config.json'))),
    'model.safetensors': new Uint8Array(readFileSync(join(folder, 'model.safetensors'))),
    'tokenizer.json': new Uint8Array(readFileSync(GPT2_TOKENIZER)),
  };
  const commit = 'c'.repeat(40);
  const hub = await FakeHub.start({ repoId: 'org/llama-tiny', commit, files, lfs: ['model.safetensors'] });
  const { dir, cleanup } = makeTempDir('cli-hub');
  const env = { HF_ENDPOINT: hub.hubUrl, HF_HUB_CACHE: dir, HF_TOKEN: '', HF_HUB_OFFLINE: '' };
  try {
    const info = await dissect(['info', 'org/llama-tiny', '--json'], env);
    assert.equal(info.code, 0, info.stderr);
    const parsed = JSON.parse(info.stdout) as { source: string; commit: string; family: string };
    assert.deepEqual([parsed.source, parsed.commit, parsed.family], ['hub', commit, 'llama']);
    assert.match(info.stderr, /downloaded model.safetensors/); // stderr is not a terminal: one line per finished file
    const tokens = await dissect(['tokenize', 'org/llama-tiny', 'Hello world', '--json'], env);
    assert.equal(tokens.code, 0, tokens.stderr);
    assert.deepEqual(JSON.parse(tokens.stdout).ids, [15496, 995]);
    const missing = await dissect(['info', 'org/nope', '--json'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^dissect: IOError: .*org\/nope\/resolve\/main\/config.json.*Repository not found$/m);
  } finally {
    await hub.close();
    cleanup();
  }
});
