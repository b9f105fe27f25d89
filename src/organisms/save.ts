// Saving a model as a Hugging Face folder: config.json, model.safetensors (the tensors under the
// names they were loaded or initialised with, which are transformers' own), and optionally
// tokenizer.json, tokenizer_config.json and a README.md model card. Node only.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawConfig } from '../models/arch/hf-config.js';
import type { HookedTransformer } from '../models/transformer.js';
import { writeSafetensors, type TensorToWrite } from '../io/safetensors.js';
import { writeAtomically } from '../io/atomic-write.js';

export interface SaveFolderOptions {
  /** tokenizer.json contents. */
  tokenizer?: object;
  /** tokenizer_config.json contents. */
  tokenizerConfig?: object;
  /** README.md (the model card). */
  readme?: string;
}

/** The model's tensors as safetensors entries, by checkpoint name (F32). */
export function checkpointEntries(model: HookedTransformer): Record<string, TensorToWrite> {
  const entries: Record<string, TensorToWrite> = {};
  for (const [name, t] of model.params.named) entries[name] = { dtype: 'F32', shape: [...t.shape], data: t.toArray() as Float32Array };
  return entries;
}

async function writeText(path: string, text: string): Promise<void> {
  await writeAtomically(path, async (write) => write(new TextEncoder().encode(text)));
}

export async function saveModelFolder(model: HookedTransformer, raw: RawConfig, folder: string, options: SaveFolderOptions = {}): Promise<void> {
  await mkdir(folder, { recursive: true });
  await writeSafetensors(join(folder, 'model.safetensors'), checkpointEntries(model), { format: 'pt' });
  await writeText(join(folder, 'config.json'), `${JSON.stringify(raw, null, 2)}\n`);
  if (options.tokenizer !== undefined) await writeText(join(folder, 'tokenizer.json'), `${JSON.stringify(options.tokenizer)}\n`);
  if (options.tokenizerConfig !== undefined) {
    await writeText(join(folder, 'tokenizer_config.json'), `${JSON.stringify(options.tokenizerConfig, null, 2)}\n`);
  }
  if (options.readme !== undefined) await writeFile(join(folder, 'README.md'), options.readme);
}
