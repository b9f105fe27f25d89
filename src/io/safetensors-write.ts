// Writing safetensors files in Node, atomically (see atomic-write.ts): the file appears at its
// final path only when complete.

import { writeAtomically } from './atomic-write.js';
import { planSafetensors, type TensorToWrite } from './safetensors-serialize.js';

/**
 * Write `tensors` (name → dtype, shape, data) to `path` atomically. Tensors are encoded and written
 * one at a time, so memory beyond the inputs is at most one converted tensor (F16/BF16/I64 from wider
 * arrays). Metadata values must be strings (HF uses `{format: 'pt'}`).
 */
export async function writeSafetensors(
  path: string,
  tensors: Readonly<Record<string, TensorToWrite>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const plan = planSafetensors(tensors, metadata);
  await writeAtomically(path, async (write) => {
    await write(plan.header);
    for (const entry of plan.entries) await write(entry.encode());
  });
}
