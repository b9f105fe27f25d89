// Where io tests find their fixtures, from wherever the compiled test runs (dist/test/io/...): walk
// up to the folder holding package.json (the repo root); shared fixtures sit in ../shared beside it.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

export const repoRoot = findRepoRoot();
/** Read-only fixtures written by Hugging Face's own libraries (gpt2-tiny/, gpt2-tokenizer/, ...). */
export const sharedFixtures = join(repoRoot, '..', 'shared', 'fixtures');
/** Small fixtures generated for io tests by the generate.py scripts beside them. */
export const localFixtures = join(repoRoot, 'test', 'fixtures');

/** A fresh temp folder; call the returned cleanup in `after`/`finally`. */
export function makeTempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `dissect-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
