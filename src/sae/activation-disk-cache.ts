// Harvested activations cached on disk as safetensors shards, one per harvest chunk
// (chunk_000012.safetensors: 'activations' [tokens, d_in] and, for transcoders, 'activations_out'
// [tokens, d_out], float32), plus cache.json naming what they were harvested from. Python reads
// them with safetensors.torch.load_file. A cache made for another model, hook or corpus is refused.
// Node only.

import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors, writeAtomically, writeSafetensors, type TensorToWrite } from '../io/safetensors.js';
import { ArgumentError, FormatError } from '../util/errors.js';
import type { HarvestedChunk } from './activation-store.js';

/** What a cache holds; two runs share a cache only when every field matches. */
export interface ActivationCacheKey {
  model: string;
  hook_name: string;
  hook_name_out: string | null;
  d_in: number;
  d_out: number;
  /** Identifies the token stream (corpus name, seed, rows per chunk, context). */
  corpus: string;
}

const MANIFEST = 'cache.json';

export class ActivationDiskCache {
  private constructor(readonly dir: string, readonly key: ActivationCacheKey) {}

  /** Opens (creating when new) a cache folder; throws when it holds activations of something else. */
  static async open(dir: string, key: ActivationCacheKey): Promise<ActivationDiskCache> {
    await mkdir(dir, { recursive: true });
    const manifest = join(dir, MANIFEST);
    const exists = await stat(manifest).then(() => true, () => false);
    if (exists) {
      let found: unknown;
      try {
        found = JSON.parse(await readFile(manifest, 'utf8'));
      } catch (error) {
        throw new FormatError(`${manifest}: not valid JSON (${(error as Error).message})`);
      }
      const mismatched = (Object.keys(key) as (keyof ActivationCacheKey)[])
        .filter((k) => (found as Record<string, unknown>)?.[k] !== key[k]);
      if (mismatched.length > 0) {
        throw new ArgumentError(`activation cache ${dir} was made for a different run (${mismatched.map((k) => `${k}: ${JSON.stringify((found as Record<string, unknown>)[k])} vs ${JSON.stringify(key[k])}`).join('; ')}); use another --activation-cache folder`);
      }
    } else {
      const bytes = new TextEncoder().encode(`${JSON.stringify(key, null, 2)}\n`);
      await writeAtomically(manifest, async (write) => write(bytes));
    }
    return new ActivationDiskCache(dir, key);
  }

  shardPath(index: number): string {
    return join(this.dir, `chunk_${String(index).padStart(6, '0')}.safetensors`);
  }

  /** The chunk when cached, else null. */
  async read(index: number): Promise<HarvestedChunk | null> {
    const path = this.shardPath(index);
    if (!(await stat(path).then((s) => s.isFile(), () => false))) return null;
    const file = await openSafetensors(path);
    try {
      const input = await file.read('activations');
      const output = this.key.hook_name_out ? await file.read('activations_out') : null;
      const tokens = input.shape[0];
      if (input.shape[1] !== this.key.d_in || (output && output.shape[1] !== this.key.d_out)) {
        throw new FormatError(`${path}: shapes [${input.shape.join(', ')}] do not match d_in ${this.key.d_in}`);
      }
      return { tokens, input: input.data as Float32Array, output: output ? output.data as Float32Array : null };
    } finally {
      await file.close();
    }
  }

  async write(index: number, chunk: HarvestedChunk): Promise<void> {
    const tensors: Record<string, TensorToWrite> = {
      activations: { dtype: 'F32', shape: [chunk.tokens, this.key.d_in], data: chunk.input },
    };
    if (chunk.output) tensors.activations_out = { dtype: 'F32', shape: [chunk.tokens, this.key.d_out], data: chunk.output };
    await writeSafetensors(this.shardPath(index), tensors, { hook_name: this.key.hook_name });
  }
}
