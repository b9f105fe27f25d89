// Shared pieces of the intervention tests (patching, ablation, steering): small random GPT-2 models
// built in memory (fast on the ref backend, with weights large enough that patches have visible
// effects), prompt pairs, and comparisons.

import assert from 'node:assert/strict';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import type { Backend } from '../../src/backend/types.js';
import { gpt2Config } from '../../src/models/arch/gpt2-config.js';
import { gpt2Params } from '../../src/models/arch/gpt2.js';
import { HookedTransformer } from '../../src/models/transformer.js';
import { randn } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';

export interface TinyDims {
  layers: number;
  d: number;
  heads: number;
  vocab: number;
  nCtx?: number;
}

export function refBackend(): Backend {
  return getBackend('ref');
}

/**
 * A GPT-2 with random weights (std ~1/sqrt(fan-in), embeddings std 1, perturbed norms), so that
 * attention is far from uniform and each component matters.
 */
export function tinyGpt2(dims: TinyDims, seed: number, backend: Backend = refBackend()): HookedTransformer {
  const { layers, d, heads, vocab } = dims;
  const nCtx = dims.nCtx ?? 32;
  const config = gpt2Config({ model_type: 'gpt2', n_embd: d, n_head: heads, n_layer: layers, vocab_size: vocab, n_positions: nCtx });
  let next = seed;
  const weights = new Map<string, Tensor>();
  const add = (name: string, shape: number[], std: number, mean = 0) => {
    weights.set(name, randn(shape, { seed: next++, std, mean, backend }));
  };
  add('wte.weight', [vocab, d], 1);
  add('wpe.weight', [nCtx, d], 0.5);
  for (let l = 0; l < layers; l++) {
    const p = `h.${l}.`;
    for (const ln of ['ln_1', 'ln_2']) {
      add(`${p}${ln}.weight`, [d], 0.1, 1);
      add(`${p}${ln}.bias`, [d], 0.1);
    }
    add(`${p}attn.c_attn.weight`, [d, 3 * d], 2 / Math.sqrt(d));
    add(`${p}attn.c_attn.bias`, [3 * d], 0.1);
    add(`${p}attn.c_proj.weight`, [d, d], 1 / Math.sqrt(d));
    add(`${p}attn.c_proj.bias`, [d], 0.1);
    add(`${p}mlp.c_fc.weight`, [d, 4 * d], 1 / Math.sqrt(d));
    add(`${p}mlp.c_fc.bias`, [4 * d], 0.1);
    add(`${p}mlp.c_proj.weight`, [4 * d, d], 1 / Math.sqrt(4 * d));
    add(`${p}mlp.c_proj.bias`, [d], 0.1);
  }
  add('ln_f.weight', [d], 0.1, 1);
  add('ln_f.bias', [d], 0.1);
  const params = gpt2Params({ names: [...weights.keys()], get: (name) => weights.get(name) as Tensor, description: 'memory' }, config);
  return new HookedTransformer(config, params);
}

/** Largest |a[i] - b[i]| (NaN on both sides counts as equal, NaN on one side as Infinity). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    const diff = Math.abs(a[i] - b[i]);
    if (!(diff <= worst)) worst = Number.isNaN(diff) ? Infinity : diff;
  }
  return worst;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  const diff = maxAbsDiff(actual, expected);
  assert.ok(diff <= tolerance, `${what}: max abs diff ${diff} > ${tolerance}`);
}

/** Clean and corrupted prompts that differ at the given positions only (deterministic). */
export function promptPair(batch: number, pos: number, vocab: number, changed: readonly number[], seed: number): { clean: number[][]; corrupted: number[][] } {
  let state = seed >>> 0;
  const nextId = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % vocab;
  };
  const clean = Array.from({ length: batch }, () => Array.from({ length: pos }, nextId));
  const corrupted = clean.map((row) => row.map((id, p) => (changed.includes(p) ? (id + 1 + (nextId() % (vocab - 1))) % vocab : id)));
  return { clean, corrupted };
}

/** Pearson correlation of two equally long arrays. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i] / n; mb += b[i] / n; }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
