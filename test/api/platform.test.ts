// src/api runs in a browser Web Worker as well as in Node: no Node modules or globals, no DOM, and
// (as DESIGN.md's layering says) the library only through src/index.ts.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../io/fixture-paths.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

describe('api platform', () => {
  const apiDir = join(repoRoot, 'src', 'api');

  it('imports no Node module and uses no Node or DOM global', () => {
    for (const file of sources(apiDir)) {
      const code = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '');
      assert.doesNotMatch(code, /from\s+['"](node:|fs|path|http|os|url)['"/]/, relative(repoRoot, file));
      assert.doesNotMatch(code, /\b(process|Buffer|require|__dirname|document|window)\b/, relative(repoRoot, file));
    }
  });

  it('reaches the library only through src/index.ts', () => {
    for (const file of sources(apiDir)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/from\s+['"](\.[^'"]+)['"]/g)) {
        const target = join(file, '..', match[1]);
        const inside = !relative(apiDir, target).startsWith('..');
        assert.ok(inside || target === join(repoRoot, 'src', 'index.js'), `${relative(repoRoot, file)} imports ${match[1]}`);
      }
    }
  });
});
