// Files that appear at their final path only when complete: we write a temp file in the same
// folder (same file system, so rename is atomic), fsync it, then rename over the target. A crash
// leaves at most a stray `.<name>.tmp-<uuid>` file, never a half-written one. Node only.

import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DissectError, IOError } from '../util/errors.js';

/** Run `produce` against a temp file next to `path`, then rename it into place; removes the temp on failure. */
export async function writeAtomically(
  path: string,
  produce: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>,
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${randomUUID()}`);
  let handle;
  try {
    handle = await open(temp, 'wx');
  } catch (error) {
    throw new IOError(`cannot create '${temp}' to write '${path}': ${(error as Error).message}`);
  }
  try {
    const file = handle;
    await produce(async (bytes) => {
      let written = 0;
      while (written < bytes.byteLength) {
        const { bytesWritten } = await file.write(bytes, written, bytes.byteLength - written);
        written += bytesWritten;
      }
    });
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true });
    if (error instanceof DissectError) throw error;
    throw new IOError(`writing '${path}' failed: ${(error as Error).message}`);
  }
}
