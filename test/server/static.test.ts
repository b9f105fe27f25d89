// The UI's static files (or a page saying it is not built), kept inside the web folder, and model
// files for the browser from /api/file.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, repoRoot } from '../io/fixture-paths.js';
import { rawRequest, startTestServer, type TestServer } from './server-helpers.js';

const temp = makeTempDir('serve-static');
const webDir = join(temp.dir, 'web');
let built: TestServer;
let bare: TestServer;

before(async () => {
  mkdirSync(join(webDir, 'assets'), { recursive: true });
  writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>dissect ui</title>');
  writeFileSync(join(webDir, 'assets', 'app.js'), 'console.log("ui");');
  writeFileSync(join(temp.dir, 'secret.txt'), 'not for the web');
  [built, bare] = await Promise.all([startTestServer({ webDir }), startTestServer()]);
});
after(async () => {
  await Promise.all([built.close(), bare.close()]);
  temp.cleanup();
});

const get = (server: TestServer, path: string, method = 'GET') => rawRequest(server.url, { method, path });

describe('server static files', () => {
  it('without a built UI, / says so and names the API', async () => {
    const page = await get(bare, '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.body, /web UI is not built/);
    assert.match(page.body, /\/api\/models/);
    assert.equal((await get(bare, '/assets/app.js')).status, 404);
  });

  it('serves the UI\'s files with their types and cross-origin isolation, index.html for the page\'s routes', async () => {
    const index = await get(built, '/');
    assert.equal(index.body, '<!doctype html><title>dissect ui</title>');
    assert.equal(index.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(index.headers['cross-origin-embedder-policy'], 'require-corp');
    const script = await get(built, '/assets/app.js');
    assert.equal(script.body, 'console.log("ui");');
    assert.match(String(script.headers['content-type']), /text\/javascript/);
    assert.equal((await get(built, '/patching/ioi')).body, index.body);
    assert.equal((await get(built, '/assets/missing.css')).status, 404);
    const head = await get(built, '/assets/app.js', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], String('console.log("ui");'.length));
  });

  it('never serves a file outside the web folder', async () => {
    for (const path of ['/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt']) {
      const reply = await get(built, path);
      assert.ok(reply.status === 403 || reply.status === 404, `${path}: ${reply.status}`);
      assert.doesNotMatch(reply.body, /not for the web/);
    }
    assert.equal((await rawRequest(built.url, { method: 'POST', path: '/', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status, 405);
  });

  it('/api/file sends a model\'s files byte for byte, and only the listed ones', async () => {
    const config = await get(built, '/api/file?model=world-4l&file=config.json');
    assert.equal(config.status, 200);
    assert.equal(config.body, readFileSync(join(repoRoot, 'models', 'world-4l', 'config.json'), 'utf8'));
    const weights = await fetch(`${built.url}/api/file?model=world-4l&file=model.safetensors`);
    assert.ok(Buffer.from(await weights.arrayBuffer()).equals(readFileSync(join(repoRoot, 'models', 'world-4l', 'model.safetensors'))));
    assert.equal((await get(built, '/api/file?model=world-4l&file=README.md')).status, 400);
    assert.equal((await get(built, '/api/file?model=world-4l&file=tuned-lens.safetensors')).status, 404);
    assert.equal((await get(built, '/api/file?model=%2Fetc&file=config.json')).status, 403);
    assert.equal((await get(built, '/api/file?model=nope&file=config.json')).status, 404);
  });
});
