// Forward-pass time of a GPT-2-small-shaped model (124M, random init) on the default backend:
// logits for every position (`ms`, what PyTorch's GPT2LMHeadModel computes) and the same run with
// every hook point cached (`ms_full_cache`). Then PyTorch eager on the same shapes and threads when
// python with torch + transformers is available, and a ratio line.
// `npm run bench -- forward [rounds]`.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '../src/backend/ref/index.js';
import '../src/backend/wasm/index.js';
import '../src/backend/native/index.js';
import { defaultBackend } from '../src/backend/registry.js';
import { Rng } from '../src/tensor/index.js';
import { buildGpt2 } from './lib/gpt2-small.js';
import { findPython, medianMs } from './lib/timing.js';

const CASES = [{ batch: 1, seq: 64 }, { batch: 4, seq: 256 }];

export async function run(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 5);
  const backend = defaultBackend();
  const model = buildGpt2(backend);
  const rng = new Rng(1);
  const ours = new Map<string, number>();
  for (const { batch, seq } of CASES) {
    const tokens = Array.from({ length: batch }, () => Array.from({ length: seq }, () => rng.int(0, 50257)));
    const ms = medianMs(() => model.forward(tokens).dispose(), rounds);
    const msFullCache = medianMs(() => {
      const { logits, cache } = model.runWithCache(tokens);
      logits.dispose();
      cache.dispose();
    }, rounds);
    ours.set(`${batch}x${seq}`, ms);
    console.log(JSON.stringify({
      bench: 'forward', engine: 'dissect', backend: backend.name, threads: backend.threads, model: 'gpt2-small',
      batch, seq, ms: round(ms), ms_full_cache: round(msFullCache), cache_overhead: round(msFullCache / ms, 3),
    }));
  }
  model.dispose();

  const python = findPython(['torch', 'transformers']);
  if (python === null) {
    console.log(JSON.stringify({ bench: 'forward', engine: 'pytorch', skipped: 'python with torch + transformers not found (set DISSECT_PYTHON)' }));
    return;
  }
  const script = fileURLToPath(new URL('../../bench/torch_forward.py', import.meta.url));
  const result = spawnSync(python, [script, String(backend.threads), String(rounds)], { encoding: 'utf8' });
  if (result.status !== 0) {
    console.log(JSON.stringify({ bench: 'forward', engine: 'pytorch', error: result.stderr.trim().split('\n').pop() }));
    return;
  }
  for (const line of result.stdout.trim().split('\n')) {
    console.log(line);
    const torchRow = JSON.parse(line) as { batch: number; seq: number; ms: number };
    const mine = ours.get(`${torchRow.batch}x${torchRow.seq}`);
    if (mine !== undefined) {
      console.log(JSON.stringify({ bench: 'forward', ratio: 'dissect/pytorch', batch: torchRow.batch, seq: torchRow.seq, value: round(mine / torchRow.ms, 3) }));
    }
  }
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
