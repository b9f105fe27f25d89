// Copies the non-TypeScript files under src/ (the wasm kernels, any data files) to dist/src/, so
// that `new URL('./kernels.wasm', import.meta.url)` resolves after `tsc` the same way it does in
// the sources. Run by `npm run build` after tsc.

import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'src');
const targetDir = join(root, 'dist', 'src');
const SKIPPED = [/\.tsx?$/, /\.md$/];

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

let copied = 0;
for (const path of files(sourceDir)) {
  if (SKIPPED.some((pattern) => pattern.test(path))) continue;
  const target = join(targetDir, relative(sourceDir, path));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(path, target);
  copied++;
}
if (process.argv.includes('--verbose')) console.log(`copy-assets: ${copied} files to ${relative(root, targetDir)}`);
