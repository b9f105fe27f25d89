// NDJSON progress over HTTP, and a client that disconnects: the server aborts the computation
// (the sweep stops between forward passes) and returns the model.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HookedTransformer } from '../../src/index.js';
import type { ApiSession, ModelHandle } from '../../src/api/index.js';
import { ModelCatalog, ModelRegistry, startServer, type RunningServer } from '../../src/server/index.js';
import { repoRoot } from '../io/fixture-paths.js';
import { postJson, postStream } from './server-helpers.js';

const CLEAN = 'When Mary and John went to the store, John gave a drink to';
const CORRUPT = 'When Mary and John went to the store, Mary gave a drink to';
const PATCH = { model: 'world-4l', clean: { text: CLEAN }, corrupted: { text: CORRUPT }, answer: ' Mary', wrong: ' John' };
/** Every grid target: many forward passes, so there is time to leave in the middle. */
const LONG_PATCH = { ...PATCH, targets: ['resid_pre', 'resid_mid', 'attn_out', 'mlp_out', 'z', 'q', 'k', 'v', 'pattern'] };

let registry: ModelRegistry;
let server: RunningServer;
let forwardCalls = 0;
let lastSignal: AbortSignal | undefined;
let loans = 0;
/** Milliseconds each forward pass is held up: on an idle machine the whole sweep can end before the disconnect is seen. */
let slowForwardMs = 0;

before(async () => {
  registry = new ModelRegistry({ catalog: new ModelCatalog({ embeddedDir: join(repoRoot, 'models'), hubCacheDir: null }) });
  const counted = new WeakSet<HookedTransformer>();
  const session: ApiSession = {
    limits: registry.limits,
    listModels: () => registry.listModels(),
    defaultModel: () => null,
    async acquireModel(id, signal): Promise<ModelHandle> {
      const lent = await registry.acquireModel(id, signal);
      lastSignal = signal;
      loans++;
      // Count forward passes on this test's own copy of the model (runWithCache goes through forward too).
      if (!counted.has(lent.model)) {
        counted.add(lent.model);
        const forward = lent.model.forward.bind(lent.model);
        lent.model.forward = (...args: Parameters<HookedTransformer['forward']>) => {
          forwardCalls++;
          const until = Date.now() + slowForwardMs;
          while (Date.now() < until) { /* a slow model: the sweep outlasts the client */ }
          return forward(...args);
        };
      }
      return { ...lent, release: () => { loans--; lent.release(); } };
    },
  };
  server = await startServer({ session, port: 0, webDir: null });
});
after(async () => {
  await server.close();
  registry.dispose();
});

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), `timed out waiting until ${what}`);
}

describe('server streaming', () => {
  it('streams monotone progress lines and then the result, which equals the unstreamed response', async () => {
    const { status, lines } = await postStream(server.url, '/api/patch', PATCH);
    assert.equal(status, 200);
    const progress = lines.slice(0, -1).map((line) => line.progress as { stage: string; done: number; total: number });
    assert.ok(progress.length >= 2, `${progress.length} progress lines`);
    progress.forEach((p, i) => {
      assert.ok(['resid_pre', 'z'].includes(p.stage));
      assert.ok(i === 0 || p.done >= progress[i - 1].done);
      assert.equal(p.total, progress[0].total);
    });
    assert.equal(progress.at(-1)?.done, progress[0].total);
    const plain = await postJson(server.url, '/api/patch', PATCH);
    assert.deepEqual(lines.at(-1), { result: plain.body });
  });

  it('a request that fails before any progress keeps its status, as one error line', async () => {
    const { status, lines } = await postStream(server.url, '/api/patch', { ...PATCH, model: 'missing-model' });
    assert.equal(status, 404);
    assert.equal(lines.length, 1);
    assert.equal((lines[0].error as { type: string }).type, 'not_found');
  });

  it('streams generation token by token', async () => {
    const { lines } = await postStream(server.url, '/api/generate', { model: 'world-4l', text: 'When Mary', maxNewTokens: 5 });
    assert.deepEqual(lines.slice(0, -1).map((l) => (l.progress as { done: number }).done), [1, 2, 3, 4, 5]);
  });

  it('a client that disconnects mid-sweep aborts it: the passes stop and the model is returned', async () => {
    forwardCalls = 0;
    assert.equal((await postJson(server.url, '/api/patch', LONG_PATCH)).status, 200);
    const fullSweep = forwardCalls;

    forwardCalls = 0;
    slowForwardMs = 15;
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/patch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/x-ndjson' },
      body: JSON.stringify(LONG_PATCH),
      signal: controller.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /"progress"/);
    controller.abort();
    await waitFor(() => loans === 0, 'the aborted request returned its model');
    slowForwardMs = 0;
    assert.equal(lastSignal?.aborted, true);
    assert.ok(forwardCalls < fullSweep / 2, `${forwardCalls} forward passes after leaving, of ${fullSweep} for the whole sweep`);
    // And the server still answers.
    assert.equal((await postJson(server.url, '/api/tokenize', { model: 'world-4l', text: 'When' })).status, 200);
  });
});
