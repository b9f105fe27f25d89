// Steering vectors on disk: a .safetensors file holding one [d_model] tensor (named
// 'steering_vector' when it holds several), or a .json array of numbers — what numpy, torch and a
// text editor all write easily.

import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { FormatError, IOError, openSafetensors, writeSafetensors } from '../index.js';
import { UsageError } from './flags.js';

export const VECTOR_KEY = 'steering_vector';

function checkExtension(path: string, flag: string): '.safetensors' | '.json' {
  const ext = extname(path).toLowerCase();
  if (ext !== '.safetensors' && ext !== '.json') throw new UsageError(`--${flag} must be a .safetensors or .json file, got '${path}'`);
  return ext;
}

/** The vector's values; its length is checked by the caller against d_model. */
export async function readSteeringVector(path: string): Promise<Float32Array> {
  if (checkExtension(path, 'vector') === '.json') {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new IOError(`cannot read steering vector '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new FormatError(`steering vector '${path}' is not valid JSON: ${(err as Error).message}`);
    }
    const values = Array.isArray(parsed) ? parsed : (parsed as Record<string, unknown> | null)?.[VECTOR_KEY];
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new FormatError(`steering vector '${path}' must be a JSON array of finite numbers (or {"${VECTOR_KEY}": [...]})`);
    }
    return Float32Array.from(values as number[]);
  }
  const file = await openSafetensors(path);
  try {
    const names = file.names();
    const name = names.length === 1 ? names[0] : names.includes(VECTOR_KEY) ? VECTOR_KEY : null;
    if (name === null) throw new FormatError(`steering vector '${path}' holds ${names.length} tensors (${names.slice(0, 5).join(', ')}); expected one, or one named '${VECTOR_KEY}'`);
    const tensor = await file.read(name);
    if (tensor.shape.length !== 1) throw new FormatError(`steering vector '${path}': tensor '${name}' has shape [${tensor.shape.join(', ')}], expected [d_model]`);
    return Float32Array.from(tensor.data as ArrayLike<number>, Number);
  } finally {
    await file.close();
  }
}

/** Writes the vector (and how it was made, as metadata) for --vector to read back. */
export async function writeSteeringVector(path: string, values: Float32Array, metadata: Record<string, string>): Promise<void> {
  if (checkExtension(path, 'save-vector') === '.json') {
    await writeFile(path, `${JSON.stringify(Array.from(values))}\n`);
    return;
  }
  await writeSafetensors(path, { [VECTOR_KEY]: { dtype: 'F32', shape: [values.length], data: values } }, { format: 'pt', ...metadata });
}
