// Training throughput of the organisms' recipes on the default backend: a few optimiser steps of
// each recipe's model and data (forward, cross-entropy, backward, clipping, AdamW), reported as
// milliseconds per step (wall and CPU) and tokens per second. Then the same step in PyTorch eager
// (bench/torch_train.py: transformers' Llama from the recipe's config, same batch, sequence,
// AdamW and clipping, same threads) when python with torch + transformers is available, and a
// ratio line. `npm run bench -- train [steps]`.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '../src/backend/ref/index.js';
import '../src/backend/wasm/index.js';
import '../src/backend/native/index.js';
import { defaultBackend } from '../src/backend/registry.js';
import { TRANSFORMER_RECIPES } from '../src/organisms/recipes.js';
import { train, type TrainSpec } from '../src/organisms/trainer.js';
import { findPython } from './lib/timing.js';

export async function run(args: string[]): Promise<void> {
  const steps = Number(args[0] ?? 12);
  const backend = defaultBackend();
  const python = findPython(['torch', 'transformers']);
  for (const recipe of TRANSFORMER_RECIPES) {
    const spec = recipe.spec();
    const times: number[] = [];
    const cpuTimes: number[] = [];
    let last = performance.now();
    let lastCpu = process.cpuUsage();
    // The first steps warm up allocator pools and kernels; time the rest. CPU time (all threads)
    // is reported beside wall time: on a shared machine the wall time depends on the load.
    const result = await train(spec, {
      backend, stopAt: steps, onProgress: () => {
        const now = performance.now();
        const cpu = process.cpuUsage(lastCpu);
        times.push(now - last);
        cpuTimes.push((cpu.user + cpu.system) / 1000);
        last = now;
        lastCpu = process.cpuUsage();
      },
    });
    result.model.dispose();
    const median = (values: number[]) => {
      const sorted = values.slice(2).sort((a, b) => a - b);
      return Math.round(sorted[Math.floor(sorted.length / 2)] * 10) / 10;
    };
    const msPerStep = median(times);
    const tokens = spec.batchSize * spec.seqLen;
    console.log(JSON.stringify({
      bench: 'train', engine: 'dissect', recipe: recipe.name, backend: backend.name, threads: backend.threads, batch: spec.batchSize, seq: spec.seqLen,
      ms_per_step: msPerStep, cpu_ms_per_step: median(cpuTimes), tokens_per_s: Math.round((tokens / msPerStep) * 1000), planned_steps: spec.schedule.totalSteps,
      planned_minutes: Math.round((spec.schedule.totalSteps * msPerStep) / 600) / 100,
    }));
    if (python === null) {
      console.log(JSON.stringify({ bench: 'train', engine: 'pytorch', skipped: 'python with torch + transformers not found (set DISSECT_PYTHON)' }));
      continue;
    }
    const torch = torchStep(python, spec, backend.threads, steps);
    if (torch !== null) {
      const ratio = (ours: number, theirs: number) => Math.round((ours / theirs) * 100) / 100;
      console.log(JSON.stringify({
        bench: 'train', recipe: recipe.name, ratio: 'dissect/pytorch per step', wall: ratio(msPerStep, torch.ms_per_step), cpu: ratio(median(cpuTimes), torch.cpu_ms_per_step),
      }));
    }
  }
}

/** Runs bench/torch_train.py on the recipe; prints its line and returns its times per step (null on error). */
function torchStep(python: string, spec: TrainSpec, threads: number, steps: number): { ms_per_step: number; cpu_ms_per_step: number } | null {
  const script = fileURLToPath(new URL('../../bench/torch_train.py', import.meta.url));
  const input = JSON.stringify({
    name: spec.name, config: spec.modelConfig, batch: spec.batchSize, seq: spec.seqLen, weight_decay: spec.weightDecay,
    grad_clip: spec.gradClip, frozen_mlp: spec.frozen !== undefined, threads, steps,
  });
  const result = spawnSync(python, [script], { input, encoding: 'utf8' });
  if (result.status !== 0) {
    console.log(JSON.stringify({ bench: 'train', engine: 'pytorch', recipe: spec.name, error: result.stderr.trim().split('\n').pop() }));
    return null;
  }
  const line = result.stdout.trim();
  console.log(line);
  return JSON.parse(line) as { ms_per_step: number; cpu_ms_per_step: number };
}
