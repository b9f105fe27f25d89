// SAE training throughput: one training step (encode, loss, backward, gradient clipping, Adam, the
// per-step fired counts) of our SAE trainer on activation-shaped random data, for TopK and
// standard SAEs at d_in 128 (world-4l's d_model), reported as ms per step and tokens per second —
// then the same step in PyTorch eager (bench/torch_sae.py, SAELens's maths, same shapes and
// threads) when python with torch is available, and a ratio line. The model forward that
// harvests activations is not included (see BENCHMARKS.md for end-to-end `dissect sae train`).
// `npm run bench -- sae-train [rounds]`.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '../src/backend/ref/index.js';
import '../src/backend/wasm/index.js';
import '../src/backend/native/index.js';
import { defaultBackend } from '../src/backend/registry.js';
import { SparseAutoencoder, type SAEArchitecture } from '../src/sae/sae.js';
import { TrainableSAE } from '../src/sae/training-step.js';
import { AdamW, clipGradNorm, noGrad, randn, tidy } from '../src/tensor/index.js';
import { findPython, medianMs } from './lib/timing.js';

interface Case { arch: SAEArchitecture; tokens: number; d_in: number; d_sae: number; k?: number; l1?: number }

const CASES: Case[] = [
  { arch: 'topk', tokens: 4096, d_in: 128, d_sae: 4096, k: 32 },
  { arch: 'topk', tokens: 4096, d_in: 128, d_sae: 1024, k: 32 },
  { arch: 'standard', tokens: 4096, d_in: 128, d_sae: 4096, l1: 5 },
];

function ourStepMs(c: Case, rounds: number): number {
  const backend = defaultBackend();
  const sae = SparseAutoencoder.init({
    architecture: c.arch, d_in: c.d_in, d_sae: c.d_sae, k: c.k, apply_b_dec_to_input: true, normalize_activations: 'none',
    hook_name: 'bench', hook_layer: 0, dtype: 'float32',
  }, { seed: 0, backend });
  const trainable = new TrainableSAE(sae, { bandwidth: 0.05, topkThresholdLr: 0.01 });
  const params = trainable.parameters();
  for (const p of params) p.requiresGrad_();
  const optimizer = new AdamW(params, { lr: 3e-4, weightDecay: 0 });
  const x = randn([c.tokens, c.d_in], { seed: 1, backend });
  const step = () => {
    const out = trainable.forward(x, x, { l1: c.l1 ?? 0, l0: 0, auxK: 1 }, null);
    out.loss.backward();
    out.loss.dispose();
    noGrad(() => tidy(() => out.features.gt(0).sum(0).toArray()));
    out.features.dispose();
    out.reconstruction.dispose();
    clipGradNorm(params, 1);
    optimizer.step();
    optimizer.zeroGrad();
  };
  const ms = medianMs(step, rounds, 2);
  optimizer.dispose();
  trainable.dispose();
  sae.dispose();
  x.dispose();
  return ms;
}

export async function run(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 7);
  const backend = defaultBackend();
  const ours = CASES.map((c) => {
    const ms = ourStepMs(c, rounds);
    console.log(JSON.stringify({
      bench: 'sae-train', engine: 'dissect', backend: backend.name, threads: backend.threads, ...c,
      ms_per_step: Math.round(ms * 10) / 10, tokens_per_s: Math.round((c.tokens / ms) * 1000),
    }));
    return ms;
  });
  const python = findPython(['torch']);
  if (python === null) {
    console.log(JSON.stringify({ bench: 'sae-train', engine: 'pytorch', skipped: 'python with torch not found (set DISSECT_PYTHON)' }));
    return;
  }
  const script = fileURLToPath(new URL('../../bench/torch_sae.py', import.meta.url));
  const result = spawnSync(python, [script], { input: JSON.stringify({ threads: backend.threads, rounds, cases: CASES }), encoding: 'utf8' });
  if (result.status !== 0) {
    console.log(JSON.stringify({ bench: 'sae-train', engine: 'pytorch', error: result.stderr.trim().split('\n').pop() }));
    return;
  }
  result.stdout.trim().split('\n').forEach((line, i) => {
    console.log(line);
    const torchMs = (JSON.parse(line) as { ms_per_step: number }).ms_per_step;
    console.log(JSON.stringify({ bench: 'sae-train', ...CASES[i], ratio: 'dissect/pytorch ms per step', value: Math.round((ours[i] / torchMs) * 100) / 100 }));
  });
}
