#!/usr/bin/env node
// Enforces DESIGN.md's layering: a folder of src/ imports only from folders above it in LAYERS
// (and from itself). Exits non-zero listing each offending import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const LAYERS = ['util', 'backend', 'tensor', 'nn', 'hooks', 'models', 'io', 'analysis', 'sae', 'editing',
  'discovery', 'organisms', 'index.ts', 'api', 'server', 'cli', 'web'];
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function layerOf(file) {
  // Imports name the compiled file ('../index.js'); the layer is the source file or folder.
  const first = relative(src, file).split(sep)[0].replace(/\.js$/, '.ts');
  const i = LAYERS.indexOf(first);
  if (i < 0) throw new Error(`src/${first} is not a layer of DESIGN.md: add it to LAYERS in scripts/check-imports.mjs`);
  return i;
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];
for (const file of walk(src)) {
  const from = layerOf(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src + sep)) {
      problems.push(`${relative(root, file)} imports ${spec}, outside src/`);
      continue;
    }
    const to = layerOf(target);
    if (to > from) {
      problems.push(`${relative(root, file)} (layer ${LAYERS[from]}) imports ${spec} (layer ${LAYERS[to]}, below it)`);
    }
  }
}
if (problems.length) {
  console.error(`Import direction violations (DESIGN.md "Layers"):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('imports: layering ok');
