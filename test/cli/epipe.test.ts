// A reader that closes the pipe early (`dissect ... | head`) ends the command quietly, exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CLI } from './run-cli.js';

test('closing stdout early (| head) exits 0 without an error message', async () => {
  const text = Array.from({ length: 10000 }, (_, i) => (i % 2 ? 'Mary' : 'John')).join(' ');
  const child = spawn(process.execPath, [CLI, 'tokenize', text], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
});
