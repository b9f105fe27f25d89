// Shared pieces of the model tests: comparing arrays, choosing backends, seeded random numbers,
// writing Hugging Face model folders and loading them.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../src/backend/ref/index.js';
import { getBackend, registeredBackends } from '../../src/backend/registry.js';
import type { Backend, BackendName } from '../../src/backend/types.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import { openSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { makeTempDir, sharedFixtures } from '../io/fixture-paths.js';

export const FIXTURES = ['gpt2-tiny', 'pythia-tiny', 'llama-tiny'] as const;

export function refBackend(): Backend {
  return getBackend('ref');
}

/** Every registered backend that starts here (wasm/native are skipped where they cannot). */
export async function backendsToTest(): Promise<BackendName[]> {
  await import('../../src/backend/wasm/index.js').catch(() => undefined);
  await import('../../src/backend/native/index.js').catch(() => undefined);
  return registeredBackends().filter((name) => {
    try { getBackend(name); return true; } catch { return false; }
  });
}

/** Largest |a[i] - b[i]|; NaN anywhere counts as Infinity. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  const diff = maxAbsDiff(actual, expected);
  assert.ok(diff <= tolerance, `${what}: max abs diff ${diff} > ${tolerance}`);
}

export function assertShape(t: Tensor, shape: readonly number[], what: string): void {
  assert.deepEqual([...t.shape], [...shape], `${what}: shape`);
}

/** Seeded uniform and normal numbers (mulberry32 + Box-Muller): test data independent of the library's RNG. */
export class TestRng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  normal(): number {
    const u = Math.max(this.uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  int(lo: number, hiExclusive: number): number {
    return lo + Math.floor(this.uniform() * (hiExclusive - lo));
  }

  tokens(batch: number, pos: number, vocab: number): number[][] {
    return Array.from({ length: batch }, () => Array.from({ length: pos }, () => this.int(0, vocab)));
  }
}

/** A checkpoint tensor: its values as the file holds them (F32 unless said) and its shape. */
export interface CheckpointTensor {
  shape: number[];
  data: Float32Array | Uint8Array;
  dtype?: 'F32' | 'BOOL';
}

export type Checkpoint = Map<string, CheckpointTensor>;

/** Writes config.json and model.safetensors (F32) into a fresh folder under `root`. */
export async function writeModelFolder(root: string, name: string, config: Record<string, unknown>, weights: Checkpoint): Promise<string> {
  const folder = join(root, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config, null, 2));
  const tensors: Record<string, { dtype: 'F32' | 'BOOL'; shape: number[]; data: Float32Array | Uint8Array }> = {};
  for (const [key, t] of weights) tensors[key] = { dtype: t.dtype ?? 'F32', shape: t.shape, data: t.data };
  await writeSafetensors(join(folder, 'model.safetensors'), tensors, { format: 'pt' });
  return folder;
}

/** A temp root for model folders; call cleanup() when done. */
export function tempRoot(prefix: string): { dir: string; cleanup: () => void } {
  return makeTempDir(prefix);
}

export function fixtureFolder(name: string): string {
  return join(sharedFixtures, name);
}

export async function loadFixture(name: string, backend: Backend = refBackend()): Promise<HookedTransformer> {
  return loadModelFolder(fixtureFolder(name), { backend });
}

/** The fixture's reference input_ids as rows. */
export async function fixtureTokens(name: string): Promise<number[][]> {
  const reference = await openSafetensors(join(fixtureFolder(name), 'reference.safetensors'));
  try {
    const ids = await reference.read('input_ids');
    const [batch, pos] = ids.shape;
    return Array.from({ length: batch }, (_, b) => Array.from(ids.data.subarray(b * pos, (b + 1) * pos), Number));
  } finally {
    await reference.close();
  }
}

/** Row b, positions [start, start + count) of a [batch, pos, ...rest] tensor's data, flattened. */
export function rowSlice(t: Tensor, b: number, start: number, count: number): Float64Array {
  const [, pos] = t.shape;
  const inner = t.shape.slice(2).reduce((x, y) => x * y, 1);
  const data = t.toArray();
  const from = (b * pos + start) * inner;
  return Float64Array.from(data.subarray(from, from + count * inner));
}

/** Runs fn and asserts it throws an instance of `type` whose message contains every fragment. */
export function assertThrowsWith(fn: () => unknown, type: new (...args: never[]) => Error, fragments: readonly string[]): Error {
  let caught: unknown = null;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== null, `expected ${type.name} but nothing was thrown`);
  assert.ok(caught instanceof type, `expected ${type.name}, got ${(caught as Error)?.name}: ${(caught as Error)?.message}`);
  const message = (caught as Error).message;
  for (const fragment of fragments) assert.ok(message.includes(fragment), `message ${JSON.stringify(message)} lacks ${JSON.stringify(fragment)}`);
  return caught as Error;
}

export async function assertRejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => Error, fragments: readonly string[]): Promise<Error> {
  let caught: unknown = null;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== null, `expected ${type.name} but the promise resolved`);
  assert.ok(caught instanceof type, `expected ${type.name}, got ${(caught as Error)?.name}: ${(caught as Error)?.message}`);
  const message = (caught as Error).message;
  for (const fragment of fragments) assert.ok(message.includes(fragment), `message ${JSON.stringify(message)} lacks ${JSON.stringify(fragment)}`);
  return caught as Error;
}
