// The server's model catalog (embedded organisms, --allow folders, the hub cache layout) and its
// registry: one copy per model however it is named, an LRU bounded by weight bytes that never
// frees a model a request still holds, and a tuned lens found beside the weights.

import assert from 'node:assert/strict';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TunedLens, UseAfterFreeError, loadModel, saveTunedLens } from '../../src/index.js';
import { ApiError, handle, toApiError, type LensResponse } from '../../src/api/index.js';
import { ModelCatalog, ModelRegistry } from '../../src/server/index.js';
import { makeTempDir, repoRoot } from '../io/fixture-paths.js';

const MODELS = join(repoRoot, 'models');
const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const COMMIT = 'a'.repeat(40);
const temp = makeTempDir('serve-registry');
const allowed = join(temp.dir, 'mine');
const hub = join(temp.dir, 'hub');

/** A model folder whose files link to an embedded model's. */
function linkModel(folder: string, from: string, files = FILES): void {
  mkdirSync(folder, { recursive: true });
  for (const file of files) symlinkSync(join(MODELS, from, file), join(folder, file));
}

before(async () => {
  linkModel(join(allowed, 'lensed'), 'world-4l');
  linkModel(join(allowed, 'small'), 'attn-only-2l');
  linkModel(join(allowed, 'bare'), 'attn-only-2l', ['config.json', 'model.safetensors']);
  mkdirSync(join(allowed, 'not-a-model'));
  // The hub cache layout: refs/main names the commit whose snapshot holds the files.
  const repo = join(hub, 'models--acme--tiny');
  linkModel(join(repo, 'snapshots', COMMIT), 'attn-only-2l');
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), COMMIT);
  const { model } = await loadModel(join(MODELS, 'world-4l'));
  const lens = TunedLens.identity(model);
  await saveTunedLens(lens, join(allowed, 'lensed', 'tuned-lens.safetensors'));
  lens.dispose();
  model.dispose();
});
after(() => temp.cleanup());

const catalog = () => new ModelCatalog({ embeddedDir: MODELS, allowed: [allowed], hubCacheDir: hub });

describe('server model catalog', () => {
  it('lists embedded organisms, the models in allowed folders and the hub cache, with sizes from their files', async () => {
    const registry = new ModelRegistry({ catalog: catalog() });
    const models = await registry.listModels();
    const byId = new Map(models.map((m) => [m.id, m]));
    for (const name of ['world-4l', 'attn-only-2l']) assert.equal(byId.get(name)?.source, 'embedded');
    assert.ok(!byId.has('superposition-toy'), 'a model of an architecture dissect cannot run is not offered');
    assert.equal(byId.get(join(allowed, 'lensed'))?.source, 'local');
    assert.equal(byId.get(join(allowed, 'small'))?.label, 'small');
    assert.ok(!byId.has(join(allowed, 'not-a-model')));
    assert.equal(byId.get('acme/tiny')?.source, 'hub');
    const world = byId.get('world-4l');
    assert.equal(world?.sizeBytes, statSync(join(MODELS, 'world-4l', 'model.safetensors')).size);
    assert.equal(world?.browserOk, true);
    assert.equal(world?.modelType, 'llama');
    assert.equal(byId.get(join(allowed, 'small'))?.hasTokenizer, true);
    assert.equal(byId.get(join(allowed, 'bare'))?.hasTokenizer, false);
    assert.equal(byId.get(join(allowed, 'lensed'))?.hasTunedLens, true);
    assert.equal(world?.hasTunedLens, false);
    registry.dispose();
  });

  it('names a model by id or by any path to it; other paths are 403 and unknown names 404', async () => {
    const c = catalog();
    assert.equal((await c.locate(join(MODELS, 'world-4l'))).id, 'world-4l');
    assert.equal((await c.locate(`${allowed}/small/`)).id, join(allowed, 'small'));
    assert.equal((await c.locate('acme/tiny')).folder, join(hub, 'models--acme--tiny', 'snapshots', COMMIT));
    const fails = async (name: string, type: string) => assert.rejects(c.locate(name), (err: unknown) => err instanceof ApiError && err.type === type);
    await fails(repoRoot, 'forbidden');
    await fails(join(allowed, '..'), 'forbidden');
    await fails(join(allowed, 'not-a-model'), 'not_found');
    await fails('acme/missing', 'not_found');
    await fails('gpt2', 'not_found');
    await assert.rejects(new ModelRegistry({ catalog: c }).acquireModel('superposition-toy'), (err: unknown) => toApiError(err).type === 'bad_request');
  });
});

describe('server model registry', () => {
  it('loads a model once however it is named, even when asked for twice at once', async () => {
    const registry = new ModelRegistry({ catalog: catalog() });
    const [a, b] = await Promise.all([registry.acquireModel('world-4l'), registry.acquireModel(join(MODELS, 'world-4l'))]);
    assert.equal(a.model, b.model);
    assert.equal(a.id, 'world-4l');
    assert.equal(b.id, 'world-4l');
    a.release();
    b.release();
    const hubModel = await registry.acquireModel('acme/tiny');
    assert.equal(hubModel.id, 'acme/tiny');
    assert.equal(hubModel.model.config.nLayers, 2);
    hubModel.release();
    registry.dispose();
  });

  it('drops the least recently used model over the budget, but never one a request holds', async () => {
    const registry = new ModelRegistry({ catalog: catalog(), cacheBytes: 1 }); // room for one model: the newest
    const world = await registry.acquireModel('world-4l');
    const small = await registry.acquireModel('attn-only-2l');
    assert.equal(registry.loadedModels().length, 2, 'both are lent, so neither is dropped');
    const logits = world.model.forward([[1, 2, 3]], { logitPositions: 'last' }); // still usable
    logits.dispose();
    world.release(); // the least recently used, no longer lent: dropped and freed
    assert.deepEqual(registry.loadedModels().map((m) => m.folder), [join(MODELS, 'attn-only-2l')]);
    await new Promise((r) => setImmediate(r));
    assert.throws(() => world.model.forward([[1, 2]]), UseAfterFreeError);
    small.release();
    assert.equal(registry.loadedModels().length, 1, 'the newest model stays');
    const again = await registry.acquireModel('world-4l'); // loads afresh
    assert.notEqual(again.model, world.model);
    again.release();
    assert.deepEqual(registry.loadedModels().map((m) => m.folder), [join(MODELS, 'world-4l')]);
    registry.dispose();
  });

  it('finds a tuned lens beside the weights: lens "tuned" of identity translators equals the logit lens', async () => {
    const registry = new ModelRegistry({ catalog: catalog() });
    const request = { model: join(allowed, 'lensed'), text: 'When Mary and John went to the store', topK: 2 };
    const tuned = await handle(registry, 'lens', { ...request, lens: 'tuned' }) as LensResponse;
    const logit = await handle(registry, 'lens', request) as LensResponse;
    assert.equal(tuned.lens, 'tuned');
    tuned.top.forEach((row, r) => row.forEach((cell, p) => cell.forEach((t, j) => {
      assert.ok(Math.abs(t.prob - logit.top[r][p][j].prob) < 1e-5, `cell ${r},${p},${j}`);
    })));
    await assert.rejects(handle(registry, 'lens', { ...request, model: 'world-4l', lens: 'tuned' }), (err: unknown) => err instanceof ApiError && err.type === 'not_found');
    registry.dispose();
  });
});
