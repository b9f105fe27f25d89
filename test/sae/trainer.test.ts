// The SAE trainer: a run stopped and resumed from its checkpoint ends where the uninterrupted run
// ends (weights, Adam moments and schedules restored); an abort saves a checkpoint at the step it
// stopped; the learning-rate schedule matches torch's SequentialLR of SAELens's schedulers (when
// /tmp/venv has torch) and hand-computed values; the saved SAE reads raw activations (scale folded).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import '../../src/index.js';
import type { ChunkSource } from '../../src/sae/activation-store.js';
import { loadSAE } from '../../src/sae/saelens-files.js';
import { saeTrainSpec, trainSAE } from '../../src/sae/trainer.js';
import { coefficientAt, learningRateAt, type LrSchedule } from '../../src/sae/training-schedule.js';
import type { SAEConfig } from '../../src/sae/sae.js';
import { noGrad, tensor, tidy } from '../../src/tensor/index.js';
import { makeTempDir } from '../io/fixture-paths.js';

const D = 8;
const PYTHON = '/tmp/venv/bin/python';

/** Every token is the same vector, so any batch is the same batch: a resumed run must match exactly. */
const constantSource: ChunkSource = {
  dIn: D, dOut: D, hasOutput: false,
  chunk: () => ({ tokens: 16, input: Float32Array.from({ length: 16 * D }, (_, i) => 1 + (i % D) * 0.5), output: null }),
};

const config: SAEConfig = {
  architecture: 'standard', d_in: D, d_sae: 16, apply_b_dec_to_input: true, normalize_activations: 'none', hook_name: 'synthetic', hook_layer: 0, dtype: 'float32',
};

function spec() {
  return saeTrainSpec(config, {
    steps: 24, batchTokens: 16, bufferTokens: 32, lr: 1e-2, lrWarmupSteps: 4, lrDecaySteps: 6, l1Coefficient: 0.5, l1WarmupSteps: 10,
    normalizeActivations: 'expected_average_only_in', normEstimateTokens: 32,
  });
}

describe('SAE trainer', () => {
  test('stop, resume: the same weights as the uninterrupted run', async () => {
    const temp = makeTempDir('sae-train');
    try {
      const whole = await trainSAE(spec(), { source: constantSource });
      const checkpoints = join(temp.dir, 'ckpt');
      const first = await trainSAE(spec(), { source: constantSource, checkpointDir: checkpoints, stopAt: 10 });
      assert.equal(first.step, 10);
      first.sae.dispose();
      const steps: number[] = [];
      const resumed = await trainSAE(spec(), { source: constantSource, checkpointDir: checkpoints, onProgress: (p) => steps.push(p.step) });
      assert.equal(steps[0], 11, 'the resumed run continues at step 11');
      assert.equal(resumed.step, 24);
      for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
        const a = whole.sae[name].toArray();
        const b = resumed.sae[name].toArray();
        for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-6 * (1 + Math.abs(a[i])), `${name}[${i}]: ${a[i]} vs ${b[i]}`);
      }
      const onDisk = (await loadSAE(join(checkpoints, 'latest', 'sae'))).sae;
      assert.deepEqual(Array.from(onDisk.W_dec.toArray()), Array.from(resumed.sae.W_dec.toArray()), 'the checkpoint holds the final SAE');
      onDisk.dispose();
      whole.sae.dispose();
      resumed.sae.dispose();
    } finally {
      temp.cleanup();
    }
  });

  test('an abort saves a checkpoint at the step reached, then rejects with the reason', async () => {
    const temp = makeTempDir('sae-abort');
    try {
      const controller = new AbortController();
      const reason = new Error('stop here');
      await assert.rejects(trainSAE(spec(), {
        source: constantSource, checkpointDir: temp.dir, signal: controller.signal,
        onProgress: (p) => { if (p.step === 7) controller.abort(reason); },
      }), (err) => err === reason);
      const state = JSON.parse(readFileSync(join(temp.dir, 'latest', 'trainer-state.json'), 'utf8')) as { step: number };
      assert.equal(state.step, 7);
    } finally {
      temp.cleanup();
    }
  });

  test('an abort while harvesting activations also checkpoints the steps done', async () => {
    const temp = makeTempDir('sae-abort-harvest');
    try {
      const controller = new AbortController();
      const source: ChunkSource = {
        ...constantSource,
        chunk: (i) => {
          if (i === 6) controller.abort(new Error('ctrl-c'));
          return constantSource.chunk(i);
        },
      };
      const steps: number[] = [];
      await assert.rejects(trainSAE(spec(), { source, checkpointDir: temp.dir, signal: controller.signal, onProgress: (p) => steps.push(p.step) }), /ctrl-c/);
      const state = JSON.parse(readFileSync(join(temp.dir, 'latest', 'trainer-state.json'), 'utf8')) as { step: number };
      assert.ok(steps.length > 0 && state.step === steps[steps.length - 1], `checkpoint at step ${state.step}, last step done ${steps.at(-1)}`);
    } finally {
      temp.cleanup();
    }
  });

  test('the saved SAE reads raw activations: the norm scale is folded into its weights', async () => {
    const result = await trainSAE(spec(), { source: constantSource });
    try {
      const raw = constantSource.chunk(0) as { input: Float32Array };
      const x = raw.input.subarray(0, D);
      const rebuilt = noGrad(() => tidy(() => result.sae.forward(tensor(Float32Array.from(x), [1, D])).toArray()));
      let err = 0;
      let norm = 0;
      for (let i = 0; i < D; i++) {
        err += (rebuilt[i] - x[i]) ** 2;
        norm += x[i] ** 2;
      }
      assert.ok(result.inputScale !== 1, 'a scale was used');
      assert.ok(err / norm < 0.05, `relative error ${err / norm} on raw activations`);
    } finally {
      result.sae.dispose();
    }
  });

  test('learning rate and coefficient schedules', () => {
    const s: LrSchedule = { lr: 1, totalSteps: 20, warmupSteps: 4, decaySteps: 5, scheduler: 'constant', lrEnd: 0 };
    const lrs = Array.from({ length: 20 }, (_, i) => learningRateAt(s, i));
    assert.deepEqual(lrs.slice(0, 5), [0.25, 0.5, 0.75, 1, 1]);
    [1, 0.8, 0.6, 0.4, 0.2].forEach((v, i) => assert.ok(Math.abs(lrs[15 + i] - v) < 1e-12, `decay step ${i}: ${lrs[15 + i]}`));
    assert.deepEqual([0, 1, 5, 10, 11].map((i) => coefficientAt(2, 10, i)), [0, 0.2, 1, 2, 2]);
  });

  test('the learning-rate schedule equals torch\'s SequentialLR of SAELens\'s schedulers', (t) => {
    if (!existsSync(PYTHON)) {
      t.skip('needs torch in /tmp/venv (absent)');
      return;
    }
    const s: LrSchedule = { lr: 1, totalSteps: 20, warmupSteps: 4, decaySteps: 5, scheduler: 'constant', lrEnd: 0 };
    const cosine: LrSchedule = { lr: 1, totalSteps: 30, warmupSteps: 3, decaySteps: 4, scheduler: 'cosineannealing', lrEnd: 0.1 };
    for (const sched of [s, cosine]) {
      // SAELens's get_lr_scheduler, built from torch's own schedulers.
      const script = `
import torch, json
from torch.optim import lr_scheduler as L
s = json.loads('${JSON.stringify(sched)}')
opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=s['lr'])
main_steps = s['totalSteps'] - s['warmupSteps'] - s['decaySteps']
main = L.LambdaLR(opt, lambda _: 1.0) if s['scheduler'] == 'constant' else L.CosineAnnealingLR(opt, T_max=main_steps, eta_min=s['lrEnd'])
lr_end = s['lr'] if s['scheduler'] == 'constant' else s['lrEnd']
scheds, miles = [], []
if s['warmupSteps'] > 0:
    scheds.append(L.LinearLR(opt, start_factor=1 / s['warmupSteps'], end_factor=1.0, total_iters=s['warmupSteps'] - 1)); miles.append(s['warmupSteps'])
scheds.append(main)
if s['decaySteps'] > 0:
    scheds.append(L.LinearLR(opt, start_factor=lr_end / s['lr'], end_factor=0.0, total_iters=s['decaySteps'])); miles.append(s['totalSteps'] - s['decaySteps'])
seq = L.SequentialLR(opt, schedulers=scheds, milestones=miles)
out = []
for _ in range(s['totalSteps']):
    out.append(opt.param_groups[0]['lr']); opt.step(); seq.step()
print(json.dumps(out))`;
      const expected = JSON.parse(execFileSync(PYTHON, ['-W', 'ignore', '-c', script], { encoding: 'utf8' })) as number[];
      const got = Array.from({ length: sched.totalSteps }, (_, i) => learningRateAt(sched, i));
      got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-9, `${sched.scheduler} step ${i}: ${v} vs torch ${expected[i]}`));
    }
  });
});
