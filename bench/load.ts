// Peak memory of loading a GPT-2-small-size checkpoint (124M parameters, 498 MB of float32) from
// disk: a child process loads it and reports its peak RSS above the RSS it had before loading.
// Target: peak ≤ 1.3 × weight bytes. `npm run bench -- load [backend]`.
// The checkpoint (random weights, HF names) is written once to $TMPDIR/dissect-bench/gpt2-small.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors, type TensorToWrite } from '../src/io/safetensors.js';
import { Rng } from '../src/tensor/index.js';
import { GPT2_SMALL_CONFIG, gpt2SmallShapes } from './lib/gpt2-small.js';

async function ensureCheckpoint(folder: string): Promise<void> {
  if (existsSync(join(folder, 'model.safetensors'))) return;
  mkdirSync(folder, { recursive: true });
  const rng = new Rng(0);
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, shape] of gpt2SmallShapes()) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (rng.next() - 0.5) * 0.04;
    tensors[name] = { dtype: 'F32', shape, data };
  }
  await writeSafetensors(join(folder, 'model.safetensors'), tensors);
  writeFileSync(join(folder, 'config.json'), JSON.stringify(GPT2_SMALL_CONFIG, null, 2));
}

export async function run(args: string[]): Promise<void> {
  const folder = join(tmpdir(), 'dissect-bench', 'gpt2-small');
  await ensureCheckpoint(folder);
  const child = fileURLToPath(new URL('./load-child.js', import.meta.url));
  const backends = args.length > 0 ? args : ['native', 'wasm'];
  for (const backend of backends) {
    const result = spawnSync(process.execPath, [child, folder, backend], { encoding: 'utf8' });
    const line = result.stdout.trim().split('\n').pop();
    console.log(result.status === 0 && line ? line : JSON.stringify({ bench: 'load', backend, error: result.stderr.trim().split('\n').pop() }));
  }
}
