// Generation on the Hugging Face fixtures. The oracle for KV-cached greedy decoding is the plain
// definition: re-run the whole prefix, take the argmax of the last position's logits (computed for
// every position, read with the tensor layer's argmax), append, repeat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import '../../src/backend/ref/index.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import { openSafetensors } from '../../src/io/safetensors.js';
import { generate, generateStream, type GeneratedToken } from '../../src/models/generate.js';
import { HookedTransformer } from '../../src/models/transformer.js';
import { tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { sharedFixtures } from '../io/fixture-paths.js';

const MODELS = ['gpt2-tiny', 'pythia-tiny', 'llama-tiny'];
const NEW_TOKENS = 8;

async function fixture(name: string): Promise<{ model: HookedTransformer; prompts: number[][] }> {
  const folder = join(sharedFixtures, name);
  const model = await loadModelFolder(folder);
  const reference = await openSafetensors(join(folder, 'reference.safetensors'));
  const ids = await reference.read('input_ids');
  await reference.close();
  const [batch, pos] = ids.shape;
  const prompts = Array.from({ length: batch }, (_, b) => Array.from(ids.data.subarray(b * pos, (b + 1) * pos)));
  return { model, prompts };
}

/**
 * Greedy decoding by definition: a full forward over the prefix each step (no cache), argmax at the
 * last position; with the log-probability of each choice, which checks the cached logits closely
 * even where a random tiny model repeats one token.
 */
function greedyByFullForward(model: HookedTransformer, prompt: number[], steps: number): { tokens: number[]; logprobs: number[] } {
  const sequence = [...prompt];
  const logprobs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const [next, logprob] = tidy(() => {
      // An explicit position list: a different path from generation's logitPositions 'last'.
      const logits = model.forward([sequence], { logitPositions: [sequence.length - 1] }).select(1, 0); // [1, d_vocab]
      const token = logits.argmax(-1).item();
      return [token, logits.logSoftmax(-1).select(1, token).item()];
    });
    sequence.push(next);
    logprobs.push(logprob);
  }
  return { tokens: sequence.slice(prompt.length), logprobs };
}

function assertClose(actual: readonly number[], expected: readonly number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tolerance, `${what}[${i}]: ${a} vs ${expected[i]}`));
}

for (const name of MODELS) {
  test(`${name}: KV-cached greedy generation equals argmax of a full forward per step`, async () => {
    const { model, prompts } = await fixture(name);
    const baseline = model.backend.liveBuffers();
    for (const prompt of prompts) {
      const expected = greedyByFullForward(model, prompt, NEW_TOKENS);
      const logprobs: number[] = [];
      const result = await generate(model, prompt, {
        maxNewTokens: NEW_TOKENS, stopTokenIds: [], onToken: (t) => logprobs.push(t.logprob),
      });
      assert.deepEqual(result.tokens[0], expected.tokens);
      assertClose(logprobs, expected.logprobs, 1e-4, `${name} log-probabilities`);
      assert.deepEqual(result.sequences[0], [...prompt, ...expected.tokens]);
      assert.deepEqual(result.finishReasons, ['length']);
      const uncached = await generate(model, prompt, { maxNewTokens: NEW_TOKENS, stopTokenIds: [], useKvCache: false });
      assert.deepEqual(uncached.tokens[0], expected.tokens);
      // Sampling spreads over many tokens, so equal draws from equal seeds also compare the logits.
      const sampling = { maxNewTokens: NEW_TOKENS, stopTokenIds: [], temperature: 1.5, seed: 3 };
      const sampled = await generate(model, prompt, sampling);
      assert.deepEqual((await generate(model, prompt, { ...sampling, useKvCache: false })).tokens, sampled.tokens);
      assert.ok(new Set(sampled.tokens[0]).size > NEW_TOKENS / 2, `sampling at T=1.5 should vary: ${sampled.tokens[0]}`);
    }
    assert.equal(model.backend.liveBuffers(), baseline, 'generation leaked buffers');
    model.dispose();
  });

  test(`${name}: a left-padded batch generates what each prompt generates alone`, async () => {
    const { model, prompts } = await fixture(name);
    // Different lengths force left padding: 12, 5 and 1 tokens.
    const batch = [prompts[0], prompts[1].slice(0, 5), prompts[1].slice(7, 8)];
    const logprobs: number[][] = batch.map(() => []);
    const together = await generate(model, batch, {
      maxNewTokens: 6, stopTokenIds: [], onToken: (t) => logprobs[t.row].push(t.logprob),
    });
    for (let i = 0; i < batch.length; i++) {
      const alone = greedyByFullForward(model, batch[i], 6);
      assert.deepEqual(together.tokens[i], alone.tokens, `row ${i} (${batch[i].length} prompt tokens)`);
      assertClose(logprobs[i], alone.logprobs, 1e-4, `${name} row ${i} log-probabilities`);
      assert.deepEqual(together.sequences[i], [...batch[i], ...alone.tokens]);
    }
    model.dispose();
  });
}

test('a stop id ends its row (kept in the output) while other rows go on', async () => {
  const { model, prompts } = await fixture('llama-tiny');
  const free = await generate(model, prompts, { maxNewTokens: 6, stopTokenIds: [] });
  const stopId = free.tokens[0][2];
  const firstHit = (row: number[]): number => row.indexOf(stopId);
  const stopped = await generate(model, prompts, { maxNewTokens: 6, stopTokenIds: [stopId] });
  for (let row = 0; row < prompts.length; row++) {
    const hit = firstHit(free.tokens[row]);
    if (hit < 0) {
      assert.deepEqual(stopped.tokens[row], free.tokens[row]);
      assert.equal(stopped.finishReasons[row], 'length');
    } else {
      assert.deepEqual(stopped.tokens[row], free.tokens[row].slice(0, hit + 1));
      assert.equal(stopped.finishReasons[row], 'stop');
    }
  }
  assert.ok(stopped.tokens[0].length <= 3);
  model.dispose();
});

test("the config's eosTokenId is the default stop id", async () => {
  const { model, prompts } = await fixture('pythia-tiny');
  const free = await generate(model, prompts[0], { maxNewTokens: 6, stopTokenIds: [] });
  // Same weights, with an eos id the free run produces at step 3 (the fixture's own eos may never come).
  const eos = free.tokens[0][3];
  const withEos = new HookedTransformer({ ...model.config, eosTokenId: eos }, model.params);
  const byDefault = await generate(withEos, prompts[0], { maxNewTokens: 6 });
  assert.deepEqual(byDefault.tokens[0], free.tokens[0].slice(0, free.tokens[0].indexOf(eos) + 1));
  assert.deepEqual(byDefault.finishReasons, ['stop']);
  const ignoring = await generate(withEos, prompts[0], { maxNewTokens: 6, stopTokenIds: [] });
  assert.deepEqual(ignoring.tokens[0], free.tokens[0]);
  model.dispose();
});

test('a steering hook on blocks.L.hook_resid_post runs at every step and changes the output', async () => {
  const { model, prompts } = await fixture('gpt2-tiny');
  const baseline = model.backend.liveBuffers();
  const plain = await generate(model, prompts[0], { maxNewTokens: 6, stopTokenIds: [] });
  const direction = Float32Array.from({ length: model.config.dModel }, (_, i) => Math.sin(i * 1.7) * 40);
  const steering = tensor(direction, [model.config.dModel], { backend: model.backend });
  const seenPositions: number[] = [];
  const hook = {
    name: 'blocks.0.hook_resid_post',
    fn: (resid: Tensor) => {
      seenPositions.push(resid.shape[1]);
      return resid.add(steering); // [batch, pos, d_model] + [d_model]
    },
  };
  const steered = await generate(model, prompts[0], { maxNewTokens: 6, stopTokenIds: [], hooks: [hook] });
  assert.notDeepEqual(steered.tokens[0], plain.tokens[0]);
  // The first step sees the prompt; each later step only the one new position (KV cache).
  assert.deepEqual(seenPositions, [prompts[0].length, 1, 1, 1, 1, 1]);
  // Steering with the cache equals steering by re-running the prefix (the hook then sees every position).
  const uncached = await generate(model, prompts[0], { maxNewTokens: 6, stopTokenIds: [], hooks: [hook], useKvCache: false });
  assert.deepEqual(uncached.tokens[0], steered.tokens[0]);
  steering.dispose();
  assert.equal(model.backend.liveBuffers(), baseline, 'steered generation leaked buffers');
  model.dispose();
});

test('streaming yields the tokens generate returns, onToken sees them in order, and breaking out frees the cache', async () => {
  const { model, prompts } = await fixture('pythia-tiny');
  const baseline = model.backend.liveBuffers();
  const seen: GeneratedToken[] = [];
  const result = await generate(model, prompts, { maxNewTokens: 5, stopTokenIds: [], onToken: (t) => seen.push(t) });
  assert.deepEqual(seen.map((t) => [t.row, t.step]), [0, 1, 2, 3, 4].flatMap((s) => [[0, s], [1, s]]));
  for (const t of seen) {
    assert.equal(t.token, result.tokens[t.row][t.step]);
    assert.ok(t.logprob <= 0 && Number.isFinite(t.logprob));
  }
  const streamed: number[] = [];
  for await (const t of generateStream(model, prompts[0], { maxNewTokens: 5, stopTokenIds: [] })) {
    streamed.push(t.token);
    if (streamed.length === 3) break;
  }
  assert.deepEqual(streamed, result.tokens[0].slice(0, 3));
  assert.equal(model.backend.liveBuffers(), baseline, 'an abandoned stream leaked its KV cache');
  model.dispose();
});

test('logprob is the log softmax of the raw logits at the chosen token', async () => {
  const { model, prompts } = await fixture('llama-tiny');
  const seen: GeneratedToken[] = [];
  await generate(model, prompts[0], { maxNewTokens: 1, stopTokenIds: [], onToken: (t) => seen.push(t) });
  const expected = tidy(() => model.forward([prompts[0]]).select(1, prompts[0].length - 1).logSoftmax(-1).select(1, seen[0].token).item());
  assert.ok(Math.abs(seen[0].logprob - expected) < 1e-5, `${seen[0].logprob} vs ${expected}`);
  model.dispose();
});

test('an AbortSignal (or a throwing onToken) stops generation with its reason and frees the cache', async () => {
  const { model, prompts } = await fixture('pythia-tiny');
  const baseline = model.backend.liveBuffers();
  const controller = new AbortController();
  const tokens: number[] = [];
  await assert.rejects(
    generate(model, prompts[0], {
      maxNewTokens: 50, stopTokenIds: [], signal: controller.signal,
      onToken: (t) => { tokens.push(t.token); if (tokens.length === 2) controller.abort(new Error('user stop')); },
    }),
    /user stop/,
  );
  assert.equal(tokens.length, 2);
  assert.equal(model.backend.liveBuffers(), baseline);
  await assert.rejects(
    generate(model, prompts, { maxNewTokens: 5, onToken: () => { throw new Error('consumer failed'); } }),
    /consumer failed/,
  );
  assert.equal(model.backend.liveBuffers(), baseline, 'a throwing onToken leaked the KV cache');
  const aborted = AbortSignal.abort();
  await assert.rejects(generate(model, prompts[0], { signal: aborted }), { name: 'AbortError' });
  model.dispose();
});

test('generation stops when the context is full, and rejects bad options with their values named', async () => {
  const { model } = await fixture('pythia-tiny');
  const nCtx = model.config.nCtx;
  const prompt = Array.from({ length: nCtx - 2 }, (_, i) => (i * 7) % 100);
  const result = await generate(model, prompt, { maxNewTokens: 10, stopTokenIds: [] });
  assert.equal(result.tokens[0].length, 3); // positions nCtx-2 .. nCtx-1 are fed; the third token is never fed back
  assert.deepEqual(result.finishReasons, ['context']);
  await assert.rejects(generate(model, new Array(nCtx + 1).fill(1)), /longer than the model's context of 128/);
  await assert.rejects(generate(model, [1, 2], { maxNewTokens: -1 }), /maxNewTokens must be an integer >= 0, got -1/);
  await assert.rejects(generate(model, [1, 2], { temperature: -0.5 }), /temperature must be .* got -0.5/);
  await assert.rejects(generate(model, [1, 2], { topP: 1.5 }), /topP must be in \(0, 1\], got 1.5/);
  await assert.rejects(generate(model, [1, 2], { topK: 0 }), /topK must be an integer >= 1, got 0/);
  await assert.rejects(generate(model, []), /non-empty/);
  await assert.rejects(generate(model, [[1], []]), /prompt 1 must be a non-empty array/);
  await assert.rejects(generate(model, [1, 99999]), /token id 99999/);
  const none = await generate(model, [1, 2], { maxNewTokens: 0 });
  assert.deepEqual(none, { tokens: [[]], sequences: [[1, 2]], finishReasons: ['length'] });
  model.dispose();
});
