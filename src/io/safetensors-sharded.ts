// Sharded checkpoints: `model.safetensors.index.json` maps each tensor name to the shard file that
// holds it (`weight_map`). We present the shards as one TensorSource. Also `openCheckpoint(dir)`,
// which picks the single file or the index, as `save_pretrained` writes one or the other.

import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { FormatError, IOError } from '../util/errors.js';
import { describe } from './json-values.js';
import type { TensorInfo } from './safetensors-header.js';
import { openSafetensors, type SafetensorsFile } from './safetensors-file.js';
import { missingTensorError, type LoadedTensor, type TensorSource } from './tensor-source.js';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** Parse an index file's JSON: the weight map (tensor name → shard file name) and its metadata. */
export function parseShardIndex(json: unknown, label: string): { weightMap: Map<string, string>; metadata: Record<string, string> } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FormatError(`${label}: expected a JSON object with a weight_map, got ${describe(json)}`);
  }
  const { weight_map: weightMap, metadata } = json as Record<string, unknown>;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new FormatError(`${label}: weight_map must be an object of tensor name → shard file, got ${describe(weightMap)}`);
  }
  const map = new Map<string, string>();
  for (const [name, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string' || file === '' || file.includes('..') || file.startsWith('/') || file.includes('\\')) {
      throw new FormatError(`${label}: weight_map['${name}'] must be a shard file name in the same folder, got ${describe(file)}`);
    }
    map.set(name, file);
  }
  // total_size is a number in HF's files; keep only string entries as metadata.
  const strings: Record<string, string> = {};
  if (typeof metadata === 'object' && metadata !== null) {
    for (const [key, value] of Object.entries(metadata)) if (typeof value === 'string') strings[key] = value;
  }
  return { weightMap: map, metadata: strings };
}

/** Open every shard named in the index (headers only) and check each mapped tensor is where the index says. */
export async function openSafetensorsIndex(indexPath: string): Promise<ShardedSafetensors> {
  let text: string;
  try {
    text = await readFile(indexPath, 'utf8');
  } catch (error) {
    throw new IOError(`cannot read shard index '${indexPath}': ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${indexPath}: not valid JSON (${(error as Error).message})`);
  }
  const { weightMap, metadata } = parseShardIndex(json, indexPath);
  const folder = dirname(resolve(indexPath));
  const shards = new Map<string, SafetensorsFile>();
  try {
    for (const file of new Set(weightMap.values())) {
      const path = join(folder, file);
      if (!path.startsWith(folder + sep)) throw new FormatError(`${indexPath}: shard '${file}' lies outside ${folder}`);
      shards.set(file, await openSafetensors(path));
    }
    for (const [name, file] of weightMap) {
      const shard = shards.get(file) as SafetensorsFile;
      if (!shard.has(name)) {
        throw new FormatError(`${indexPath}: weight_map puts '${name}' in '${file}', but that shard has no such tensor`);
      }
    }
  } catch (error) {
    await Promise.all([...shards.values()].map((s) => s.close()));
    throw error;
  }
  return new ShardedSafetensors(weightMap, shards, metadata, indexPath);
}

export class ShardedSafetensors implements TensorSource {
  readonly metadata: Readonly<Record<string, string>>;

  constructor(
    private readonly weightMap: Map<string, string>,
    private readonly shards: Map<string, SafetensorsFile>,
    indexMetadata: Record<string, string>,
    readonly label: string,
  ) {
    const merged: Record<string, string> = {};
    for (const shard of shards.values()) Object.assign(merged, shard.metadata);
    this.metadata = Object.assign(merged, indexMetadata);
  }

  names(): string[] {
    return [...this.weightMap.keys()];
  }

  has(name: string): boolean {
    return this.weightMap.has(name);
  }

  /** The shard holding `name`. */
  private shardOf(name: string): SafetensorsFile {
    const file = this.weightMap.get(name);
    if (file === undefined) throw missingTensorError(name, this.names(), this.label);
    return this.shards.get(file) as SafetensorsFile;
  }

  info(name: string): TensorInfo {
    return this.shardOf(name).info(name);
  }

  read(name: string): Promise<LoadedTensor> {
    return this.shardOf(name).read(name);
  }

  readBytes(name: string): Promise<Uint8Array> {
    return this.shardOf(name).readBytes(name);
  }

  readBytesInto(name: string, target: Uint8Array): Promise<void> {
    return this.shardOf(name).readBytesInto(name, target);
  }

  async close(): Promise<void> {
    await Promise.all([...this.shards.values()].map((s) => s.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The weights of a `save_pretrained` folder: `model.safetensors`, else the sharded index. */
export async function openCheckpoint(folder: string): Promise<TensorSource> {
  const single = join(folder, SINGLE_FILE);
  if (await isFile(single)) return openSafetensors(single);
  const index = join(folder, INDEX_FILE);
  if (await isFile(index)) return openSafetensorsIndex(index);
  throw new IOError(`no weights in '${folder}': expected ${SINGLE_FILE} or ${INDEX_FILE}`);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
