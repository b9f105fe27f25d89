// The generate handler against references computed here: the library's generate for the plain
// run, and for the steered run a greedy loop that re-runs the whole sequence each step (no KV
// cache) with the contrast vector — residual of the positive minus the negative prompt at its
// last token, read from a cache — added by a hook written here.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate, tensor, type HookedTransformer, type Tensor, type Tokenizer } from '../../src/index.js';
import { ApiError, handle, handlers, type Progress } from '../../src/api/index.js';
import { testSession, type TestSession } from './api-helpers.js';

let session: TestSession;
let model: HookedTransformer;
let tokenizer: Tokenizer;

before(async () => {
  session = testSession();
  ({ model, tokenizer } = await session.loaded('world-4l') as { model: HookedTransformer; tokenizer: Tokenizer });
});
after(() => session.dispose());

function lastResidual(ids: number[], name: string): Float32Array {
  const { logits, cache } = model.runWithCache([ids], { names: [name] });
  const data = cache.get(name).toArray();
  const d = model.config.dModel;
  const out = Float32Array.from(data.subarray((ids.length - 1) * d, ids.length * d));
  logits.dispose();
  cache.dispose();
  return out;
}

function greedySteered(prompt: number[], steps: number, name: string, add: Float32Array): number[] {
  const sequence = [...prompt];
  const hook = {
    name,
    fn: (activation: Tensor) => {
      const data = Float32Array.from(activation.toArray());
      for (let i = 0; i < data.length; i++) data[i] += add[i % add.length];
      return tensor(data, activation.shape, { backend: activation.backend });
    },
  };
  for (let step = 0; step < steps; step++) {
    const logits = model.forward([sequence], { hooks: [hook], logitPositions: 'last' });
    const row = logits.toArray();
    logits.dispose();
    let best = 0;
    for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
    sequence.push(best);
  }
  return sequence.slice(prompt.length);
}

describe('api generate', () => {
  const prompt = 'When Mary and John went to the store,';
  const positive = 'Mary';
  const negative = 'John went to the';

  it('continues the prompt as generate does, and steered as a hand-written greedy loop with the contrast vector', async () => {
    const layer = 2;
    const name = `blocks.${layer}.hook_resid_pre`;
    const difference = lastResidual(tokenizer.encode(positive), name).map((v, i) => v - lastResidual(tokenizer.encode(negative), name)[i]);
    const norm = Math.hypot(...difference);
    assert.ok(norm > 0, 'the two prompts end differently, so the vector is not zero');
    const coefficient = 3;
    const progress: Progress[] = [];
    const steps = 8;
    const res = await handlers.generate(session, {
      model: 'world-4l', text: prompt, maxNewTokens: steps,
      steering: { positive: { text: positive }, negative: { text: negative }, layer, coefficient },
    }, { onProgress: (p) => progress.push(p) });
    const ids = tokenizer.encode(prompt);
    assert.deepEqual(res.promptTokens.map((t) => t.id), ids);
    const plain = await generate(model, ids, { maxNewTokens: steps, seed: 0, stopTokenIds: [] });
    assert.deepEqual(res.unsteered.ids, plain.tokens[0]);
    assert.equal(res.unsteered.text, tokenizer.decode(plain.tokens[0], { skipSpecialTokens: true }));
    assert.equal(res.unsteered.finishReason, 'length');
    const expected = greedySteered(ids, steps, name, difference.map((v) => v * coefficient));
    assert.deepEqual(res.steered?.ids, expected);
    assert.notDeepEqual(expected, plain.tokens[0], 'the vector is strong enough to change the text, so the comparison can fail');
    assert.deepEqual(res.steering, { layer, point: 'resid_pre', coefficient, vectorNorm: res.steering?.vectorNorm });
    assert.ok(Math.abs((res.steering?.vectorNorm ?? 0) - norm) < 1e-4 * norm);
    assert.equal(progress.length, 2 * steps);
    assert.deepEqual(progress.at(-1), { stage: 'steered', done: 2 * steps, total: 2 * steps });
  });

  it('samples reproducibly with a seed, and without steering returns no steered text', async () => {
    const request = { model: 'world-4l', text: prompt, maxNewTokens: 6, temperature: 1.5, seed: 7 };
    const a = await handlers.generate(session, request);
    const b = await handlers.generate(session, request);
    assert.deepEqual(a.unsteered, b.unsteered);
    assert.equal(a.steered, null);
    assert.equal(a.steering, null);
    const direct = await generate(model, tokenizer.encode(prompt), { maxNewTokens: 6, temperature: 1.5, seed: 7, stopTokenIds: [] });
    assert.deepEqual(a.unsteered.ids, direct.tokens[0]);
  });

  it('rejects bad sampling and steering fields with 400s naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ topP: 0 }, 'topP'],
      [{ maxNewTokens: 100000 }, 'maxNewTokens'],
      [{ steering: { positive: { text: 'a' }, negative: { text: 'b' } } }, 'steering.layer'],
      [{ steering: { positive: { text: 'a' }, negative: { text: 'b' }, layer: 99 } }, 'steering.layer'],
      [{ steering: { positive: { text: 'a' }, layer: 1 } }, 'steering.negative'],
      [{ steering: { positive: { text: 'a' }, negative: { text: 'b' }, layer: 1, point: 'resid_out' } }, 'steering.point'],
    ];
    for (const [extra, field] of cases) {
      await assert.rejects(handle(session, 'generate', { model: 'world-4l', text: prompt, ...extra }), (err: unknown) => {
        assert.ok(err instanceof ApiError && err.type === 'bad_request', `${JSON.stringify(extra)}: ${String(err)}`);
        if (field !== 'topP') assert.equal(err.field, field, err.message);
        return true;
      });
    }
    assert.equal(session.outstanding(), 0);
  });
});
