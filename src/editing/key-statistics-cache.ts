// Key statistics are computed once per (model, layer, corpus) and kept on disk as safetensors
// (ROME keeps its layer_stats as .npz files). The file name carries a fingerprint of everything
// the keys depend on: the config, the weights of the blocks up to the layer's MLP input (the
// layer's own down projection — what ROME edits — and later blocks cannot change its keys), the
// layer, and the corpus tokens. An edited or retrained model, or another corpus, gets another
// file. Node only.

import { createHash } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { HookedTransformer } from '../models/transformer.js';
import type { Tensor } from '../tensor/tensor.js';
import { FormatError } from '../util/errors.js';
import { notice } from '../util/log.js';
import {
  checkLayer, computeKeyStatistics, corpusRows, type KeyStatistics, type KeyStatisticsOptions,
} from './key-statistics.js';

const FORMAT = 'dissect-key-statistics-1';

export interface CachedKeyStatisticsOptions extends KeyStatisticsOptions {
  /** Folder of the cached files (created when missing). */
  cacheDir: string;
}

/** Tensors whose values the keys of `layer` depend on: every weight except the layer's down projection and later blocks. */
function weightsFeedingKeys(model: HookedTransformer, layer: number): Tensor[] {
  const p = model.params;
  const blocks = p.blocks.slice(0, layer + 1);
  const inBlock = blocks.flatMap((b, l) => {
    const mlp = [b.mlp.in.weight, b.mlp.in.bias, b.mlp.gate?.weight ?? null, b.mlp.gate?.bias ?? null];
    const attn = b.attn.qkv.kind === 'separate'
      ? [b.attn.qkv.q, b.attn.qkv.k, b.attn.qkv.v].flatMap((lin) => [lin.weight, lin.bias])
      : [b.attn.qkv.linear.weight, b.attn.qkv.linear.bias];
    const own = [b.ln1.weight, b.ln1.bias, ...attn, b.attn.out.weight, b.attn.out.bias, b.ln2.weight, b.ln2.bias, ...mlp];
    // Below the layer, the whole block (its down projection included) shapes the residual stream.
    return l < layer ? [...own, b.mlp.out.weight, b.mlp.out.bias] : own;
  });
  return [p.embed, p.posEmbed, ...inBlock].filter((t): t is Tensor => t !== null);
}

/** Hex sha256 fingerprint of the model (config and the weights feeding layer `layer`'s keys). */
export function keyFingerprint(model: HookedTransformer, layer: number): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(model.config));
  for (const t of weightsFeedingKeys(model, layer)) {
    const data = t.toArray();
    hash.update(JSON.stringify(t.shape));
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}

/** Hex sha256 of the corpus rows as the statistics would read them. */
export function corpusFingerprint(rows: readonly (readonly number[])[]): string {
  const hash = createHash('sha256');
  for (const row of rows) {
    const ids = Int32Array.from(row);
    hash.update(new Uint8Array(ids.buffer));
    hash.update('\n');
  }
  return hash.digest('hex');
}

/** The file cachedKeyStatistics reads or writes for this model, layer and corpus. */
export function keyStatisticsPath(model: HookedTransformer, layer: number, corpus: readonly (readonly number[])[],
  options: Pick<CachedKeyStatisticsOptions, 'cacheDir' | 'maxTokens'>): string {
  checkLayer(model, layer);
  const rows = corpusRows(model, corpus, options.maxTokens);
  return join(options.cacheDir, `${keyFingerprint(model, layer).slice(0, 16)}-layer${layer}-${corpusFingerprint(rows).slice(0, 16)}.safetensors`);
}

/** Reads statistics from `path`, or null when the file does not exist. */
export async function readKeyStatistics(path: string): Promise<KeyStatistics | null> {
  try {
    await access(path);
  } catch {
    return null;
  }
  const file = await openSafetensors(path);
  try {
    const meta = file.metadata;
    if (meta.format !== FORMAT) throw new FormatError(`${path}: not a key statistics file (format '${meta.format ?? ''}', expected '${FORMAT}')`);
    const moment = await file.read('second_moment');
    const [size] = moment.shape;
    return { layer: Number(meta.layer), size, count: Number(meta.count), secondMoment: Float64Array.from(moment.data as ArrayLike<number>) };
  } finally {
    await file.close();
  }
}

export async function writeKeyStatistics(path: string, stats: KeyStatistics): Promise<void> {
  await writeSafetensors(path, {
    second_moment: { dtype: 'F64', shape: [stats.size, stats.size], data: stats.secondMoment },
  }, { format: FORMAT, layer: String(stats.layer), count: String(stats.count) });
}

/**
 * The key statistics of `layer` over `corpus`, from the cache folder when a previous call stored
 * them, else computed (with progress) and stored. `fromCache` says which.
 */
export async function cachedKeyStatistics(model: HookedTransformer, layer: number, corpus: readonly (readonly number[])[],
  options: CachedKeyStatisticsOptions): Promise<KeyStatistics & { fromCache: boolean; path: string }> {
  const path = keyStatisticsPath(model, layer, corpus, options);
  const stored = await readKeyStatistics(path);
  if (stored !== null) {
    if (stored.size === model.config.dMlp && stored.layer === layer) return { ...stored, fromCache: true, path };
    notice(`${path} does not match layer ${layer} of this model; recomputing it`);
  }
  const stats = await computeKeyStatistics(model, layer, corpus, options);
  await mkdir(options.cacheDir, { recursive: true });
  await writeKeyStatistics(path, stats);
  return { ...stats, fromCache: false, path };
}
