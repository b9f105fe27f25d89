// Over real HTTP: each class of bad request gets its status and a {error: {type, message}} body,
// and the server goes on answering good requests after every one of them.

import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, repoRoot } from '../io/fixture-paths.js';
import { postJson, rawRequest, startTestServer, type TestServer } from './server-helpers.js';

let server: TestServer;
const temp = makeTempDir('serve-errors');

before(async () => {
  // An allowed folder holding a symlink to a model outside it: the link must not open the outside.
  const allowed = join(temp.dir, 'allowed');
  mkdirSync(allowed);
  symlinkSync(join(repoRoot, 'test'), join(allowed, 'escape'));
  server = await startTestServer({ allow: [allowed], limits: { maxPromptTokens: 64 } });
});
after(async () => {
  await server.close();
  temp.cleanup();
});

async function assertStillServing(): Promise<void> {
  const reply = await postJson(server.url, '/api/tokenize', { model: 'world-4l', text: 'When Mary' });
  assert.equal(reply.status, 200);
  assert.ok((reply.body as { tokens: unknown[] }).tokens.length > 0);
}

function assertError(reply: { status: number; body: unknown }, status: number, type: string, message: RegExp): void {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  const error = (reply.body as { error: { type: string; message: string } }).error;
  assert.equal(error.type, type);
  assert.match(error.message, message);
}

describe('server errors', () => {
  const json = { 'Content-Type': 'application/json' };

  it('unknown model → 404', async () => {
    assertError(await postJson(server.url, '/api/run', { model: 'no-such-model', text: 'a' }), 404, 'not_found', /unknown model 'no-such-model'/);
    await assertStillServing();
  });

  it('a folder outside the allowed ones → 403, also through a symlink inside an allowed folder', async () => {
    assertError(await postJson(server.url, '/api/run', { model: '/etc', text: 'a' }), 403, 'forbidden', /outside the folders/);
    assertError(await postJson(server.url, '/api/run', { model: join(temp.dir, 'allowed', 'escape'), text: 'a' }), 403, 'forbidden', /outside/);
    assertError(await postJson(server.url, '/api/run', { model: join(temp.dir, 'allowed', 'missing'), text: 'a' }), 404, 'not_found', /no model folder/);
    await assertStillServing();
  });

  it('a body over the limit → 413, a prompt over the token limit → 413', async () => {
    const big = JSON.stringify({ model: 'world-4l', text: 'x'.repeat(2 * 1024 * 1024) });
    assertError(await postJson(server.url, '/api/run', big), 413, 'too_large', /request body is larger than the limit/);
    await assertStillServing();
    assertError(await postJson(server.url, '/api/run', { model: 'world-4l', ids: new Array(65).fill(1) }), 413, 'too_large', /65 tokens; the limit is 64/);
    await assertStillServing();
  });

  it('malformed JSON → 400, bad fields → 400 naming the field', async () => {
    assertError(await postJson(server.url, '/api/run', '{"model": "world-4l",'), 400, 'bad_request', /not valid JSON/);
    await assertStillServing();
    const reply = await postJson(server.url, '/api/lens', { model: 'world-4l', text: 'a', topK: -1 });
    assertError(reply, 400, 'bad_request', /topK must be an integer/);
    assert.equal((reply.body as { error: { field: string } }).error.field, 'topK');
    await assertStillServing();
  });

  it('a body that is not JSON → 415, GET of a POST endpoint → 405, an unknown endpoint → 404', async () => {
    const text = await rawRequest(server.url, { method: 'POST', path: '/api/run', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    assertError({ status: text.status, body: JSON.parse(text.body) }, 415, 'unsupported_media_type', /application\/json/);
    const get = await rawRequest(server.url, { method: 'GET', path: '/api/run' });
    assertError({ status: get.status, body: JSON.parse(get.body) }, 405, 'method_not_allowed', /use POST/);
    assert.equal(get.headers.allow, 'POST');
    assertError(await postJson(server.url, '/api/explode', {}), 404, 'not_found', /no endpoint 'explode'/);
    await assertStillServing();
  });

  it('a Host that is not this machine → 403 (DNS rebinding)', async () => {
    const reply = await rawRequest(server.url, { method: 'POST', path: '/api/models', headers: { ...json, Host: 'evil.example:7860' }, body: '{}' });
    assertError({ status: reply.status, body: JSON.parse(reply.body) }, 403, 'forbidden', /localhost only/);
    const local = await rawRequest(server.url, { method: 'POST', path: '/api/models', headers: { ...json, Host: 'localhost:7860' }, body: '{}' });
    assert.equal(local.status, 200);
    await assertStillServing();
  });

  it('GET /api/models answers like POST', async () => {
    const get = await fetch(`${server.url}/api/models`);
    const post = await postJson(server.url, '/api/models', {});
    assert.equal(get.status, 200);
    assert.deepEqual(await get.json(), post.body);
  });
});
