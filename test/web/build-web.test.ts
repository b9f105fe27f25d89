// dissect build-web: what the static site holds (the UI as built, the model folders, the manifest
// the page reads, the headers file) and the errors a user can hit. No browser needed: a stand-in
// UI folder replaces dist/web.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStaticSite, EMBEDDED_MODELS_DIR } from '../../src/cli/commands/build-web.js';
import { assertCleanFailure, dissect } from '../cli/run-cli.js';

function fakeUi(root: string): string {
  const ui = join(root, 'ui');
  mkdirSync(join(ui, 'assets'), { recursive: true });
  writeFileSync(join(ui, 'index.html'), '<!doctype html><title>ui</title>');
  writeFileSync(join(ui, 'assets', 'app.js'), 'export {};');
  return ui;
}

test('the site holds the UI, the chosen models, their manifest and the isolation headers', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dissect-build-web-'));
  try {
    const world = join(EMBEDDED_MODELS_DIR, 'world-4l');
    const summary = await buildStaticSite({ out: join(root, 'site'), models: [world], uiDir: fakeUi(root) });
    const site = join(root, 'site');
    assert.equal(summary.uiFiles, 2);
    assert.equal(readFileSync(join(site, 'assets', 'app.js'), 'utf8'), 'export {};');
    for (const file of ['config.json', 'model.safetensors', 'tokenizer.json']) {
      assert.equal(statSync(join(site, 'models', 'world-4l', file)).size, statSync(join(world, file)).size, file);
    }
    const manifest = JSON.parse(readFileSync(join(site, 'models', 'index.json'), 'utf8'));
    assert.deepEqual(manifest, {
      models: [{ id: 'world-4l', label: 'world-4l', modelType: 'llama', sizeBytes: statSync(join(world, 'model.safetensors')).size, path: 'models/world-4l/' }],
      defaultModel: 'world-4l',
    });
    assert.match(readFileSync(join(site, '_headers'), 'utf8'), /Cross-Origin-Opener-Policy: same-origin\n\s+Cross-Origin-Embedder-Policy: require-corp/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('build-web explains a missing UI build, a folder that is not a model, and an unknown default', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dissect-build-web-'));
  try {
    await assert.rejects(buildStaticSite({ out: join(root, 'a'), uiDir: join(root, 'nothing') }), /no built web UI at .*npm run build/);
    const ui = fakeUi(root);
    mkdirSync(join(root, 'empty'));
    await assert.rejects(buildStaticSite({ out: join(root, 'b'), uiDir: ui, models: [join(root, 'empty')] }), /has no config\.json/);
    await assert.rejects(buildStaticSite({ out: join(root, 'c'), uiDir: ui, models: [join(EMBEDDED_MODELS_DIR, 'world-4l')], defaultModel: 'gpt9' }),
      /--default gpt9 is not among the site's models \(world-4l\)/);
    assertCleanFailure(await dissect(['build-web']), /--out DIR is required/, 2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
