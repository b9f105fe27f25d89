// Training throughput of the organisms' recipes on the default backend: a few optimiser steps of
// each recipe's model and data (forward, cross-entropy, backward, clipping, AdamW), reported as
// milliseconds per step and tokens per second. `npm run bench -- train [steps]`.

import '../src/backend/ref/index.js';
import '../src/backend/wasm/index.js';
import '../src/backend/native/index.js';
import { defaultBackend } from '../src/backend/registry.js';
import { TRANSFORMER_RECIPES } from '../src/organisms/recipes.js';
import { train } from '../src/organisms/trainer.js';

export async function run(args: string[]): Promise<void> {
  const steps = Number(args[0] ?? 12);
  const backend = defaultBackend();
  for (const recipe of TRANSFORMER_RECIPES) {
    const spec = recipe.spec();
    const times: number[] = [];
    let last = Date.now();
    // The first steps warm up allocator pools and kernels; time the rest.
    const result = await train(spec, {
      backend, stopAt: steps, onProgress: () => { const now = Date.now(); times.push(now - last); last = now; },
    });
    result.model.dispose();
    const timed = times.slice(2).sort((a, b) => a - b);
    const msPerStep = timed[Math.floor(timed.length / 2)];
    const tokens = spec.batchSize * spec.seqLen;
    console.log(JSON.stringify({
      bench: 'train', recipe: recipe.name, backend: backend.name, threads: backend.threads, batch: spec.batchSize, seq: spec.seqLen,
      ms_per_step: msPerStep, tokens_per_s: Math.round((tokens / msPerStep) * 1000), planned_steps: spec.schedule.totalSteps,
      planned_minutes: Math.round((spec.schedule.totalSteps * msPerStep) / 600) / 100,
    }));
  }
}
