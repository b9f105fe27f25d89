// loadModel(nameOrPath): local folders, hub ids (single-file and sharded checkpoints, served by a
// fake hub over HTTP), tokenizers found beside the weights or given explicitly. The oracle for a
// hub-loaded model is the same fixture loaded from its folder: logits must be identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../src/backend/ref/index.js';
import { loadModel, loadModelTokenizer } from '../../src/io/load.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import { openSafetensors } from '../../src/io/safetensors.js';
import { serializeSafetensors, type TensorToWrite } from '../../src/io/safetensors-serialize.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { FakeHub } from './fake-hub.js';
import { makeTempDir, repoRoot, sharedFixtures } from './fixture-paths.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const REPO = 'dissect-test/pythia-tiny';
const folder = join(sharedFixtures, 'pythia-tiny');
const gpt2Tokenizer = join(repoRoot, 'assets', 'tokenizers', 'gpt2', 'tokenizer.json');
const bytes = (path: string) => new Uint8Array(readFileSync(path));
const PROMPT = [[3, 14, 15, 92, 65, 35]];

function logitsOf(model: HookedTransformer): Float32Array {
  const logits = model.forward(PROMPT);
  const data = logits.toArray() as Float32Array;
  logits.dispose();
  return data;
}

/** The fixture's tensors split over two shards plus model.safetensors.index.json, as save_pretrained writes large models. */
async function shardedFiles(): Promise<Record<string, Uint8Array>> {
  const source = await openSafetensors(join(folder, 'model.safetensors'));
  const shards: Record<string, TensorToWrite>[] = [{}, {}];
  const weightMap: Record<string, string> = {};
  for (const [i, name] of source.names().entries()) {
    const t = await source.read(name);
    shards[i % 2][name] = { dtype: 'F32', shape: t.shape, data: t.data as Float32Array };
    weightMap[name] = `model-0000${(i % 2) + 1}-of-00002.safetensors`;
  }
  await source.close();
  return {
    'model-00001-of-00002.safetensors': serializeSafetensors(shards[0]),
    'model-00002-of-00002.safetensors': serializeSafetensors(shards[1]),
    'model.safetensors.index.json': new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap })),
  };
}

async function withHub(files: Record<string, Uint8Array>, run: (hub: FakeHub, cacheDir: string) => Promise<void>): Promise<void> {
  const lfs = Object.keys(files).filter((f) => f.endsWith('.safetensors'));
  const hub = await FakeHub.start({ repoId: REPO, commit: COMMIT, files, lfs });
  const { dir, cleanup } = makeTempDir('load-hub');
  try {
    await run(hub, dir);
  } finally {
    await hub.close();
    cleanup();
  }
}

test('a local folder loads without a tokenizer; one beside the weights or given explicitly is used', async () => {
  const plain = await loadModel(folder);
  assert.equal(plain.tokenizer, null);
  assert.deepEqual(plain.location, { folder, source: 'local' });
  const expected = logitsOf(plain.model);
  plain.model.dispose();

  const explicit = await loadModel(folder, { tokenizer: gpt2Tokenizer });
  assert.deepEqual(explicit.tokenizer?.encode('Hello world'), [15496, 995]);
  explicit.model.dispose();

  const { dir, cleanup } = makeTempDir('load-local');
  try {
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(folder, f), join(dir, f));
    copyFileSync(gpt2Tokenizer, join(dir, 'tokenizer.json'));
    const beside = await loadModel(dir);
    assert.deepEqual(beside.tokenizer?.encode('Hello world'), [15496, 995]);
    assert.deepEqual(logitsOf(beside.model), expected);
    beside.model.dispose();
    assert.deepEqual((await loadModelTokenizer(dir))?.encode('Hi'), [17250]);
    mkdirSync(join(dir, 'empty'));
    await assert.rejects(loadModel(join(dir, 'empty')), /cannot read .*config.json/);
    await assert.rejects(loadModel(join(dir, 'config.json')), /is a file; expected a model folder/);
    await assert.rejects(loadModel(join(dir, 'absent')), /no such model folder/);
  } finally {
    cleanup();
  }
});

test('a hub id downloads into the cache and loads the same model (single file), tokenizer included', async () => {
  const local = await loadModelFolder(folder);
  const expected = logitsOf(local);
  local.dispose();
  const files = {
    'config.json': bytes(join(folder, 'config.json')),
    'model.safetensors': bytes(join(folder, 'model.safetensors')),
    'tokenizer.json': bytes(gpt2Tokenizer),
  };
  await withHub(files, async (hub, cacheDir) => {
    const hubSettings = { endpoint: hub.hubUrl, cacheDir, token: false as const, offline: false };
    // Only the tokenizer: the weights are not downloaded.
    const tokenizer = await loadModelTokenizer(REPO, { hub: hubSettings });
    assert.deepEqual(tokenizer?.encode('Hello world'), [15496, 995]);
    assert.equal(hub.count('cdn'), 0, 'loadModelTokenizer fetched weights');

    const downloads = new Set<string>();
    const loaded = await loadModel(REPO, { hub: hubSettings, onDownload: (_b, _t, file) => downloads.add(file) });
    assert.equal(loaded.location.source, 'hub');
    assert.equal(loaded.location.commit, COMMIT);
    assert.ok(loaded.location.folder.startsWith(cacheDir));
    assert.ok(downloads.has('model.safetensors'));
    assert.deepEqual(loaded.tokenizer?.encode('Hello world'), [15496, 995]);
    assert.deepEqual(logitsOf(loaded.model), expected);
    loaded.model.dispose();

    // Offline, everything now comes from the cache.
    const before = hub.requests.length;
    const offline = await loadModel(REPO, { hub: { ...hubSettings, offline: true } });
    assert.equal(hub.requests.length, before);
    assert.deepEqual(logitsOf(offline.model), expected);
    offline.model.dispose();
  });
});

test('a sharded hub checkpoint loads every shard; a repo without safetensors is explained', async () => {
  const local = await loadModelFolder(folder);
  const expected = logitsOf(local);
  local.dispose();
  await withHub({ 'config.json': bytes(join(folder, 'config.json')), ...(await shardedFiles()) }, async (hub, cacheDir) => {
    const loaded = await loadModel(REPO, { hub: { endpoint: hub.hubUrl, cacheDir, token: false, offline: false } });
    assert.equal(loaded.tokenizer, null);
    assert.deepEqual(logitsOf(loaded.model), expected);
    loaded.model.dispose();
  });
  await withHub({ 'config.json': bytes(join(folder, 'config.json')), 'pytorch_model.bin': new Uint8Array(8) }, async (hub, cacheDir) => {
    await assert.rejects(loadModel(REPO, { hub: { endpoint: hub.hubUrl, cacheDir, token: false, offline: false } }),
      /has neither model.safetensors nor model.safetensors.index.json: dissect reads safetensors weights only/);
  });
  await assert.rejects(loadModel('not a repo'), /repo id "not a repo" is not of the form/);
});
