// The trainer is deterministic (same seed → identical weights), resuming from a checkpoint
// reproduces the uninterrupted run bit for bit, an abort saves a checkpoint, frozen tensors stay
// untouched, and the schedule follows its closed form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { findCheckpoint, readTrainerState } from '../../src/organisms/checkpoint.js';
import { learningRate } from '../../src/organisms/schedule.js';
import { train, type TrainSpec } from '../../src/organisms/trainer.js';
import { ArgumentError } from '../../src/util/errors.js';
import { makeTempDir } from '../io/fixture-paths.js';

const backend = getBackend('ref');

function tinySpec(overrides: Partial<TrainSpec> = {}): TrainSpec {
  return {
    name: 'tiny',
    modelConfig: { model_type: 'gpt2', vocab_size: 11, n_embd: 8, n_layer: 2, n_head: 2, n_positions: 16, n_inner: 16 },
    seed: 3,
    schedule: { lr: 1e-2, minLr: 1e-3, warmupSteps: 2, totalSteps: 6 },
    batchSize: 2,
    seqLen: 7,
    weightDecay: 0.1,
    gradClip: 0.5,
    // Counting sequences mod 11 from a random start: learnable, and drawn from rng only.
    rows: (rng, batch, seqLen) => Array.from({ length: batch }, () => {
      const start = rng.int(0, 11);
      return Array.from({ length: seqLen + 1 }, (_, i) => (start + i) % 11);
    }),
    ...overrides,
  };
}

function weights(model: HookedTransformer): Map<string, Float32Array> {
  return new Map([...model.params.named].map(([name, t]) => [name, t.toArray() as Float32Array]));
}

function assertSameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [name, values] of a) assert.deepEqual(b.get(name), values, `${what}: ${name} differs`);
}

test('same seed, same steps: identical weights and losses; the loss falls', async () => {
  const first = await train(tinySpec({ schedule: { lr: 1e-2, minLr: 1e-3, warmupSteps: 2, totalSteps: 30 } }), { backend });
  const second = await train(tinySpec({ schedule: { lr: 1e-2, minLr: 1e-3, warmupSteps: 2, totalSteps: 30 } }), { backend });
  try {
    assert.deepEqual(first.losses, second.losses);
    assertSameWeights(weights(first.model), weights(second.model), 'rerun');
    assert.ok(first.losses[29] < first.losses[0] - 0.3, `loss should fall: ${first.losses[0]} → ${first.losses[29]}`);
    for (const t of first.model.params.named.values()) assert.equal(t.requiresGrad, false);
  } finally {
    first.model.dispose();
    second.model.dispose();
  }
});

test('resuming from a checkpoint reproduces the uninterrupted run exactly', async () => {
  const straight = makeTempDir('train-straight');
  const resumed = makeTempDir('train-resumed');
  try {
    const full = await train(tinySpec(), { backend, checkpointDir: straight.dir, checkpointEvery: 2 });
    const partial = await train(tinySpec(), { backend, checkpointDir: resumed.dir, stopAt: 3 });
    assert.equal(partial.step, 3);
    partial.model.dispose();
    const state = await readTrainerState((await findCheckpoint(resumed.dir))!);
    assert.equal(state.step, 3);
    const rest = await train(tinySpec(), { backend, checkpointDir: resumed.dir });
    try {
      assert.equal(rest.step, 6);
      assert.deepEqual(rest.losses, full.losses);
      assertSameWeights(weights(full.model), weights(rest.model), 'resumed');
    } finally {
      full.model.dispose();
      rest.model.dispose();
    }
    // A checkpoint of another recipe is refused rather than continued.
    await assert.rejects(train(tinySpec({ name: 'other' }), { backend, checkpointDir: resumed.dir }), ArgumentError);
  } finally {
    straight.cleanup();
    resumed.cleanup();
  }
});

test('an abort saves a checkpoint and rejects with the signal reason', async () => {
  const tmp = makeTempDir('train-abort');
  try {
    const controller = new AbortController();
    const reason = new Error('stop now');
    const run = train(tinySpec(), {
      backend, checkpointDir: tmp.dir, onProgress: (p) => { if (p.step === 2) controller.abort(reason); }, signal: controller.signal,
    });
    await assert.rejects(run, (e) => e === reason);
    const state = await readTrainerState((await findCheckpoint(tmp.dir))!);
    assert.equal(state.step, 2);
    assert.equal(state.losses.length, 2);
  } finally {
    tmp.cleanup();
  }
});

test('frozen tensors start at zero and are never updated', async () => {
  const result = await train(tinySpec({ frozen: (name) => name.includes('.mlp.') }), { backend });
  try {
    for (const [name, t] of result.model.params.named) {
      if (name.includes('.mlp.')) assert.ok((t.toArray() as Float32Array).every((v) => v === 0), `${name} should stay zero`);
      assert.equal(t.grad, null, `${name} keeps no gradient`);
    }
  } finally {
    result.model.dispose();
  }
});

test('learning rate: linear warmup to the peak, cosine to minLr at the last step', () => {
  const s = { lr: 1, minLr: 0.1, warmupSteps: 4, totalSteps: 14 };
  assert.deepEqual([0, 1, 2, 3].map((i) => learningRate(s, i)), [0.25, 0.5, 0.75, 1]);
  assert.equal(learningRate(s, 4), 1);
  assert.ok(Math.abs(learningRate(s, 13) - 0.1) < 1e-12);
  for (let step = 4; step < 14; step++) {
    const progress = (step - 4) / 9;
    assert.ok(Math.abs(learningRate(s, step) - (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)))) < 1e-12);
  }
});
