// Saving an edited model as a new Hugging Face folder: model.safetensors with every tensor under
// its checkpoint name (float32), and the source folder's config and tokenizer files copied
// unchanged, so `transformers` and `loadModel` open it like the original. Node only.

import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeSafetensors, type TensorToWrite } from '../io/safetensors.js';
import type { HookedTransformer } from '../models/transformer.js';
import { ArgumentError } from '../util/errors.js';

/** Files copied from the source folder when present (weights are written anew, never copied). */
const COPIED_FILES = [
  'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
  'vocab.json', 'merges.txt', 'tokenizer.model', 'added_tokens.json',
];

export interface SaveEditedOptions {
  /** The folder the model was loaded from (LoadedModel.location.folder): its config and tokenizer are copied. */
  source: string;
  /** Extra metadata for model.safetensors (e.g. which edit was applied). */
  metadata?: Record<string, string>;
}

/** Writes `model` (as edited) to `folder`; returns the files copied beside model.safetensors. */
export async function saveEditedModel(model: HookedTransformer, folder: string, options: SaveEditedOptions): Promise<string[]> {
  if (resolve(folder) === resolve(options.source)) throw new ArgumentError(`refusing to overwrite the source model folder '${folder}'; choose another output folder`);
  await mkdir(folder, { recursive: true });
  const entries: Record<string, TensorToWrite> = {};
  for (const [name, t] of model.params.named) {
    entries[name] = { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.toArray()) };
  }
  await writeSafetensors(join(folder, 'model.safetensors'), entries, { format: 'pt', ...options.metadata });
  const present = new Set(await readdir(options.source));
  const copied: string[] = [];
  for (const file of COPIED_FILES) {
    if (!present.has(file)) continue;
    await copyFile(join(options.source, file), join(folder, file));
    copied.push(file);
  }
  return copied;
}
