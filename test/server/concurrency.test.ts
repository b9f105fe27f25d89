// Concurrent requests share one loaded model but never each other's hooks or caches: a patch
// sweep (hooks on every pass, yielding between passes), steered generation (a hook on every step)
// and plain runs, lenses and attributions all at once — twice each — give exactly what the same
// requests give one at a time, what the handlers give in-process, and what the library computes.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { activationPatching, loadModel, logitDiff, type LoadedModel } from '../../src/index.js';
import { handle, type ApiSession, type ModelHandle } from '../../src/api/index.js';
import { ModelCatalog, ModelRegistry, startServer, type RunningServer } from '../../src/server/index.js';
import { repoRoot } from '../io/fixture-paths.js';
import { postJson, postStream } from './server-helpers.js';

const MODELS = join(repoRoot, 'models');
const CLEAN = 'When Mary and John went to the store, John gave a drink to';
const CORRUPT = 'When Mary and John went to the store, Mary gave a drink to';

const REQUESTS: [string, Record<string, unknown>][] = [
  ['patch', { model: 'world-4l', clean: { text: CLEAN }, corrupted: { text: CORRUPT }, answer: ' Mary', wrong: ' John' }],
  ['generate', { model: 'world-4l', text: 'When Mary and John went to the store,', maxNewTokens: 6,
    steering: { positive: { text: 'Mary' }, negative: { text: 'John went to the' }, layer: 2, coefficient: 3 } }],
  ['run', { model: 'world-4l', text: CLEAN, topK: 3 }],
  ['lens', { model: 'world-4l', text: CLEAN, target: ' Mary' }],
  ['dla', { model: 'world-4l', text: CLEAN, target: ' Mary', distractor: ' John' }],
  ['patch', { model: 'world-4l', clean: { text: CLEAN }, corrupted: { text: CORRUPT }, answer: ' Mary', metric: 'prob', targets: ['attn_out', 'mlp_out'] }],
  ['run', { model: 'attn-only-2l', text: 'a b c a b c', predictions: 'last', headScores: 'none' }],
];

let registry: ModelRegistry;
let server: RunningServer;
let reference: LoadedModel;
let inFlight = 0;
let mostInFlight = 0;

before(async () => {
  registry = new ModelRegistry({ catalog: new ModelCatalog({ embeddedDir: MODELS, hubCacheDir: null }) });
  // Counts loans, to show the requests really overlapped.
  const counting: ApiSession = {
    limits: registry.limits,
    listModels: () => registry.listModels(),
    defaultModel: () => registry.defaultModel(),
    async acquireModel(id, signal): Promise<ModelHandle> {
      const lent = await registry.acquireModel(id, signal);
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      return { ...lent, release: () => { inFlight--; lent.release(); } };
    },
  };
  server = await startServer({ session: counting, host: '127.0.0.1', port: 0, webDir: null });
  reference = await loadModel(join(MODELS, 'world-4l'));
});
after(async () => {
  await server.close();
  registry.dispose();
  reference.model.dispose();
});

async function viaHttp(name: string, body: unknown, stream: boolean): Promise<unknown> {
  if (!stream) {
    const reply = await postJson(server.url, `/api/${name}`, body);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return reply.body;
  }
  const { status, lines } = await postStream(server.url, `/api/${name}`, body);
  assert.equal(status, 200);
  assert.ok('result' in (lines.at(-1) as object), JSON.stringify(lines.at(-1)));
  return lines.at(-1)?.result;
}

describe('server concurrency', () => {
  let sequential: unknown[];

  before(async () => {
    sequential = [];
    for (const [name, body] of REQUESTS) sequential.push(await viaHttp(name, body, false));
  });

  it('requests run all at once (twice each, some streamed) equal the same requests run one at a time', async () => {
    mostInFlight = 0;
    const concurrent = await Promise.all([...REQUESTS, ...REQUESTS].map(([name, body], i) => viaHttp(name, body, i % 2 === 0)));
    assert.ok(mostInFlight >= 2, `requests overlapped (at most ${mostInFlight} at once)`);
    concurrent.forEach((result, i) => assert.deepEqual(result, sequential[i % REQUESTS.length], `request ${i % REQUESTS.length} (${REQUESTS[i % REQUESTS.length][0]})`));
    assert.equal(inFlight, 0);
    // One copy of each model, however many requests used it at once.
    assert.deepEqual(registry.loadedModels().map((m) => m.folder).sort(), [join(MODELS, 'attn-only-2l'), join(MODELS, 'world-4l')]);
  });

  it('HTTP responses equal the handlers called in-process, number for number', async () => {
    for (const [i, [name, body]] of REQUESTS.entries()) {
      assert.deepEqual(await handle(registry, name, body), sequential[i], `${name}`);
    }
  });

  it('the patch response equals activationPatching called directly on a separately loaded model', async () => {
    const { model, tokenizer } = reference;
    if (tokenizer === null) throw new Error('world-4l has a tokenizer');
    const [mary, john] = [' Mary', ' John'].map((t) => tokenizer.encode(t, { addSpecialTokens: false })[0]);
    const patched = sequential[0] as { grids: { target: string; values: number[][] }[] };
    for (const target of ['resid_pre', 'z'] as const) {
      const direct = await activationPatching(model, target, {
        cleanTokens: [tokenizer.encode(CLEAN)], corruptedTokens: [tokenizer.encode(CORRUPT)], metric: logitDiff(mary, john),
      });
      const [rows, columns] = direct.values.shape;
      const data = direct.values.toArray();
      direct.values.dispose();
      const grid = patched.grids.find((g) => g.target === target);
      assert.deepEqual(grid?.values, Array.from({ length: rows }, (_, l) => Array.from(data.subarray(l * columns, (l + 1) * columns))));
    }
  });

  it('the run response\'s predictions equal the separately loaded model\'s logits', () => {
    const { model, tokenizer } = reference;
    const ids = tokenizer?.encode(CLEAN) as number[];
    const logits = model.forward([ids]);
    const data = logits.toArray();
    logits.dispose();
    const vocab = model.config.dVocab;
    const run = sequential[2] as { predictions: { top: { id: number; logit: number }[] }[] };
    run.predictions.forEach((p, pos) => p.top.forEach((t) => assert.equal(t.logit, data[pos * vocab + t.id])));
  });
});
