// Loading a Hugging Face model folder (config.json + safetensors, optionally tokenizer.json) into a
// HookedTransformer. Tensors are read one at a time and copied into backend memory, so the peak is
// the weights plus one tensor — not the 2–3× of reading the whole file and then converting it.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import { defaultBackend } from '../backend/registry.js';
import { architectureFor } from '../models/architectures.js';
import type { RawConfig } from '../models/arch/hf-config.js';
import { HookedTransformer } from '../models/transformer.js';
import type { WeightSource } from '../models/weight-reader.js';
import { tensor, zeros } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { FormatError, IOError } from '../util/errors.js';
import { openCheckpoint } from './safetensors-sharded.js';
import type { LoadedTensor, TensorSource } from './tensor-source.js';

export interface LoadFolderOptions {
  backend?: Backend;
  /** Called after each tensor: (tensors done, tensors total, name). */
  onProgress?: (done: number, total: number, name: string) => void;
}

/** Reads and parses config.json of a model folder. */
export async function readModelConfig(folder: string): Promise<RawConfig> {
  const path = join(folder, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new IOError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (is '${folder}' a Hugging Face model folder?)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FormatError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new FormatError(`${path}: expected a JSON object`);
  return raw as RawConfig;
}

/** A decoded file tensor as a float32 (or int32 for integer data) tensor on `backend`. */
export function toBackendTensor(loaded: LoadedTensor, backend: Backend): Tensor {
  const integer = loaded.data instanceof Int32Array || loaded.data instanceof Int16Array
    || loaded.data instanceof Int8Array || loaded.data instanceof Uint8Array;
  return tensor(loaded.data as Float32Array, loaded.shape, { dtype: integer ? 'int32' : 'float32', backend });
}

/**
 * One checkpoint tensor on `backend`. Float32 tensors are read from the file straight into backend
 * memory (no intermediate buffer); other dtypes are decoded first.
 */
export async function readTensor(source: TensorSource, name: string, backend: Backend): Promise<Tensor> {
  const info = source.info(name);
  if (info.dtype !== 'F32') return toBackendTensor(await source.read(name), backend);
  const t = zeros(info.shape, { backend });
  const data = t.storage.data;
  try {
    await source.readBytesInto(name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } catch (err) {
    t.dispose();
    throw err;
  }
  return t;
}

/** Builds a model from an open checkpoint and a parsed config. Tensors the architecture does not use are freed. */
export async function modelFromSource(source: TensorSource, raw: RawConfig, options: LoadFolderOptions = {}): Promise<HookedTransformer> {
  const architecture = architectureFor(raw.model_type);
  const config = architecture.config(raw);
  const backend = options.backend ?? defaultBackend();
  const names = source.names();
  const loaded = new Map<string, Tensor>();
  try {
    for (let i = 0; i < names.length; i++) {
      loaded.set(names[i], await readTensor(source, names[i], backend));
      options.onProgress?.(i + 1, names.length, names[i]);
    }
    const weights: WeightSource = {
      names,
      description: source.label,
      get: (name) => loaded.get(name) as Tensor,
    };
    const params = architecture.params(weights, config);
    const used = new Set(params.named.values());
    for (const t of loaded.values()) if (!used.has(t)) t.dispose();
    return new HookedTransformer(config, params);
  } catch (err) {
    for (const t of loaded.values()) t.dispose();
    throw err;
  }
}

/** Loads config.json and the safetensors weights of a local Hugging Face model folder. */
export async function loadModelFolder(folder: string, options: LoadFolderOptions = {}): Promise<HookedTransformer> {
  const raw = await readModelConfig(folder);
  architectureFor(raw.model_type); // fail on an unsupported type before reading any weights
  const source = await openCheckpoint(folder);
  try {
    return await modelFromSource(source, raw, options);
  } finally {
    await source.close();
  }
}
