// `dissect serve` as a user runs it: it prints its URL, answers the API over the models of every
// --allow folder, and stops cleanly (exit 0) on Ctrl-C; bad options fail before anything starts.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeTempDir, repoRoot } from '../io/fixture-paths.js';
import { CLI, assertCleanFailure, dissect } from '../cli/run-cli.js';

const temp = makeTempDir('serve-cli');
after(() => temp.cleanup());

function modelFolder(name: string, from: string): string {
  const folder = join(temp.dir, name);
  mkdirSync(folder);
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json']) symlinkSync(join(repoRoot, 'models', from, file), join(folder, file));
  return folder;
}

describe('dissect serve', () => {
  it('serves until interrupted, with every --allow folder\'s models', async () => {
    const first = modelFolder('first', 'attn-only-2l');
    const second = modelFolder('second', 'attn-only-2l');
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--allow', first, `--allow=${second}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d;
          const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (match) resolve(match[1]);
        });
        child.on('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
      });
      assert.match(stdout, /model world-4l/);
      const models = await (await fetch(`${url}/api/models`)).json() as { models: { id: string }[]; defaultModel: string };
      const ids = models.models.map((m) => m.id);
      assert.ok(ids.includes(first) && ids.includes(second) && ids.includes('world-4l'), ids.join(', '));
      assert.equal(models.defaultModel, 'world-4l');
      const run = await fetch(`${url}/api/run`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: second, text: 'a b a', topK: 1 }) });
      assert.equal(run.status, 200);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
  });

  it('rejects bad options before starting', async () => {
    const [port, missing, empty, help] = await Promise.all([
      dissect(['serve', '--port', '70000']),
      dissect(['serve', '--port', '0', '--allow', join(temp.dir, 'missing')]),
      dissect(['serve', '--allow']),
      dissect(['serve', '--help']),
    ]);
    assertCleanFailure(port, /--port must be in 0\.\.65535/, 2);
    assertCleanFailure(missing, /does not exist or is not a folder/, 1);
    assertCleanFailure(empty, /--allow needs a value/, 2);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--allow DIR/);
  });
});
