// Loading a Hugging Face model folder in the browser: config.json, the safetensors weights (one
// file or shards) and tokenizer.json, read through ModelFiles, checked against what a wasm32 heap
// can hold before any weight is fetched, and built with the library's modelFromSource.

import {
  Tokenizer, modelFromSource, openSafetensorsBytes, parseShardIndex, type HookedTransformer, type TensorSource,
} from '../../index.js';
import { ApiError } from '../../api/errors.js';
import { BROWSER_WEIGHT_LIMIT_BYTES, formatBytes } from '../app/limits.js';
import type { LoadProgress } from '../protocol.js';
import type { ModelFiles } from './model-files.js';

export interface BrowserModel {
  readonly model: HookedTransformer;
  readonly tokenizer: Tokenizer;
}

const BYTES_PER_DTYPE: Record<string, number> = { float32: 4, float16: 2, bfloat16: 2, float64: 8 };

async function readJson(files: ModelFiles, name: string, required: boolean): Promise<unknown> {
  const bytes = await files.read(name);
  if (bytes === null) {
    if (required) throw new ApiError('not_found', `${files.label} has no ${name}: expected a Hugging Face model folder (config.json, model.safetensors, tokenizer.json)`);
    return undefined;
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ApiError('bad_request', `${files.label}/${name} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Throws ApiError 'too_large' when the weights, widened to float32, would not fit the browser's budget. */
function checkFits(label: string, fileBytes: number, rawConfig: Record<string, unknown>): void {
  const stored = BYTES_PER_DTYPE[String(rawConfig.torch_dtype ?? rawConfig.dtype ?? 'float32')] ?? 4;
  const float32Bytes = (fileBytes / stored) * 4;
  if (float32Bytes > BROWSER_WEIGHT_LIMIT_BYTES) {
    throw new ApiError('too_large', `${label} is too big for the browser: its weights take ${formatBytes(float32Bytes)} as float32, ` +
      `and a browser tab's wasm memory can give the model at most ${formatBytes(BROWSER_WEIGHT_LIMIT_BYTES)}. ` +
      'Run it with `dissect serve` and open the UI there instead.');
  }
}

/** Weight file names: the single file, or the shards an index lists. */
async function weightFiles(files: ModelFiles): Promise<{ names: string[]; weightMap: Map<string, string> | null }> {
  if ((await files.size('model.safetensors')) !== null) return { names: ['model.safetensors'], weightMap: null };
  const index = await readJson(files, 'model.safetensors.index.json', false);
  if (index === undefined) throw new ApiError('not_found', `${files.label} has neither model.safetensors nor model.safetensors.index.json`);
  const { weightMap } = parseShardIndex(index, `${files.label}/model.safetensors.index.json`);
  return { names: [...new Set(weightMap.values())], weightMap };
}

/** Several in-memory shards as one source, each tensor read from the shard the index names. */
function shardedSource(shards: Map<string, TensorSource>, weightMap: Map<string, string>, label: string): TensorSource {
  const shardOf = (name: string): TensorSource => {
    const shard = shards.get(weightMap.get(name) ?? '');
    if (!shard) throw new Error(`${label}: no shard holds tensor '${name}'`);
    return shard;
  };
  return {
    label,
    metadata: {},
    names: () => [...weightMap.keys()],
    has: (name) => weightMap.has(name),
    info: (name) => shardOf(name).info(name),
    read: (name) => shardOf(name).read(name),
    readBytes: (name) => shardOf(name).readBytes(name),
    readBytesInto: (name, target) => shardOf(name).readBytesInto(name, target),
    close: async () => {
      for (const shard of shards.values()) await shard.close();
    },
  };
}

export async function loadBrowserModel(files: ModelFiles, onProgress: (progress: LoadProgress) => void): Promise<BrowserModel> {
  onProgress({ stage: 'config', done: 0, total: 1 });
  const rawConfig = await readJson(files, 'config.json', true) as Record<string, unknown>;
  const { names, weightMap } = await weightFiles(files);
  const sizes = await Promise.all(names.map((name) => files.size(name)));
  const knownBytes = sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
  checkFits(files.label, knownBytes, rawConfig);

  const tokenizerJson = await readJson(files, 'tokenizer.json', true);
  const tokenizerConfig = await readJson(files, 'tokenizer_config.json', false);
  const tokenizer = Tokenizer.fromJSON(tokenizerJson, tokenizerConfig ?? {}, `${files.label}/tokenizer.json`);

  const shards = new Map<string, TensorSource>();
  let fetched = 0;
  for (const name of names) {
    const bytes = await files.read(name, (loaded, total) => {
      onProgress({ stage: 'download', done: fetched + loaded, total: knownBytes || total || loaded });
    });
    if (bytes === null) throw new Error(`${files.label}: ${name} disappeared while loading`);
    fetched += bytes.byteLength;
    // Sizes the host did not report are checked once the bytes are here.
    if (knownBytes === 0) checkFits(files.label, fetched, rawConfig);
    shards.set(name, openSafetensorsBytes(bytes, `${files.label}/${name}`));
  }
  const source = weightMap ? shardedSource(shards, weightMap, files.label) : shards.values().next().value as TensorSource;
  try {
    const model = await modelFromSource(source, rawConfig, {
      onProgress: (done, total) => onProgress({ stage: 'weights', done, total }),
    });
    return { model, tokenizer };
  } finally {
    await source.close();
  }
}
