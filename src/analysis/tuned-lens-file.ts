// Saving and loading a tuned lens as a safetensors file (Node only; the browser uses
// serializeTunedLens / tunedLensFromBytes from tuned-lens.ts with its own storage).

import { readFile } from 'node:fs/promises';
import type { Backend } from '../backend/types.js';
import { writeAtomically } from '../io/atomic-write.js';
import { IOError } from '../util/errors.js';
import { serializeTunedLens, tunedLensFromBytes, type TunedLens } from './tuned-lens.js';

/** Writes the lens to `path` atomically (the file appears only when complete). */
export async function saveTunedLens(lens: TunedLens, path: string): Promise<void> {
  const bytes = serializeTunedLens(lens);
  await writeAtomically(path, async (write) => write(bytes));
}

/** Reads a lens saved by saveTunedLens onto `backend`. The caller owns it. */
export async function loadTunedLens(path: string, backend: Backend): Promise<TunedLens> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new IOError(`cannot read tuned lens '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return tunedLensFromBytes(bytes, backend, path);
}
