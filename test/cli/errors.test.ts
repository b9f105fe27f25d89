// Bad input ends with a non-zero exit and one 'dissect: ...' line naming the problem — never a
// stack trace. A few cases run the built CLI as a child process (exit codes and printing); the
// rest run the command layer in-process (what it throws), which is much faster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../../src/cli/run.js';
import type { Terminal } from '../../src/cli/terminal.js';
import { makeTempDir, sharedFixtures } from '../io/fixture-paths.js';
import { assertCleanFailure, dissect } from './run-cli.js';

const gpt2 = join(sharedFixtures, 'gpt2-tiny');

function captureTerminal(): Terminal & { stdout: string; stderr: string } {
  const terminal = {
    stdout: '', stderr: '', errIsTTY: false,
    out(text: string) { terminal.stdout += text; },
    err(text: string) { terminal.stderr += text; },
  };
  return terminal;
}

const inProcess = (args: string[]) => runCli(args, captureTerminal(), { signal: new AbortController().signal });

test('the executable: bad input exits non-zero with one line and no stack trace', async () => {
  const { dir, cleanup } = makeTempDir('cli-errors');
  const out = join(dir, 'x.safetensors');
  try {
    const cases: [string[], RegExp, number][] = [
      [['frobnicate'], /unknown command 'frobnicate'/, 2],
      [['info', join(dir, 'missing')], /no such model folder: '.*missing'/, 1],
      [['info', dir], /cannot read .*config\.json.*Hugging Face model folder/, 1],
      [['info', gpt2, '--jsn'], /unknown option '--jsn'; did you mean --json/, 2],
      [['cache', gpt2, '--ids', '1,x;3,4', '--out', out], /'x' in row 1 is not a token id/, 2],
      [['cache', gpt2, '--ids', '1,60000', '--out', out], /token id 60000 .* out of range/, 1],
      [['cache', gpt2, '--ids', '1', '--names', 'blocks.7.hook_resid_post', '--out', out], /unknown hook point 'blocks.7.hook_resid_post'; did you mean/, 1],
    ];
    const results = await Promise.all(cases.map(([args]) => dissect(args)));
    cases.forEach(([args, message, code], i) => {
      assert.doesNotThrow(() => assertCleanFailure(results[i], message, code), `dissect ${args.join(' ')}`);
    });
  } finally {
    cleanup();
  }
});

test('the command layer: usage and input errors name the bad value', async () => {
  const { dir, cleanup } = makeTempDir('cli-errors-inprocess');
  const out = join(dir, 'x.safetensors');
  try {
    const cases: [string[], RegExp][] = [
      [['generat'], /unknown command 'generat'; did you mean 'generate'/],
      [['info', join(gpt2, 'config.json')], /is a file; expected a model folder/],
      [['tokenize'], /missing <model>/],
      [['info', gpt2, 'extra'], /unexpected argument 'extra'/],
      [['cache', gpt2, '--ids', '1,2'], /--out <file.safetensors> is required/],
      [['cache', gpt2, '--ids', '1,2;3', '--out', out], /row 2 has 1 ids but row 1 has 2/],
      [['cache', gpt2, '--ids', '1,,2', '--out', out], /'' in row 1 is not a token id/],
      [['cache', gpt2, '--ids', '-1', '--out', out], /'-1' in row 1 is not a token id/],
      [['cache', gpt2, '--ids', '', '--out', out], /row 1 is empty/],
      [['cache', gpt2, '--ids', '1', '--text', 'a', '--out', out], /exactly one of --ids and --text/],
      [['cache', gpt2, '--ids', '1', '--names', 'blocks.*.nope', '--out', out], /pattern 'blocks.\*.nope' matches no hook point/],
      [['cache', gpt2, '--ids', '1', '--names', 'hook_embed,,x', '--out', out], /--names has an empty entry/],
      [['cache', gpt2, '--ids', '1', '--out', join(dir, 'no', 'such', 'dir', 'x.safetensors')], /cannot create/],
      [['info', gpt2, '--backend', 'gpu'], /--backend must be one of native, wasm, ref, got 'gpu'/],
      [['info', gpt2, '--json', '--json'], /--json was given twice/],
      [['info', gpt2, '--json=yes'], /--json is a switch and takes no value/],
      [['generate', gpt2, 'hi', '--max-new-tokens'], /--max-new-tokens needs a value/],
      [['generate', gpt2, 'hi', '--temperature', 'hot'], /--temperature expects a number, got 'hot'/],
      [['generate', gpt2, 'hi', '--seed', ''], /--seed expects a number, got ''/],
      [['tokenize', gpt2, 'hi', '--tokenizer', join(dir, 'nope.json')], /cannot read '.*nope.json'/],
      [['tokenize', gpt2, 'hi'], /has no tokenizer.json; pass --tokenizer/],
      [['info', 'org/name/extra'], /no such model folder/],
      [['info', 'bad repo id'], /repo id "bad repo id" is not of the form "org\/name"/],
    ];
    for (const [args, message] of cases) await assert.rejects(inProcess(args), message, `dissect ${args.join(' ')}`);
  } finally {
    cleanup();
  }
});

test('help lists the commands; each command has --help; values may follow = or start with -', async () => {
  const help = await dissect(['help']);
  assert.equal(help.code, 0);
  for (const name of ['info', 'tokenize', 'generate', 'cache', 'backends']) {
    assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'));
    const terminal = captureTerminal();
    assert.equal(await runCli([name, '--help'], terminal, { signal: new AbortController().signal }), 0);
    assert.match(terminal.stdout, new RegExp(`Usage: dissect ${name}`));
  }
  const terminal = captureTerminal();
  await runCli(['help', 'cache'], terminal, { signal: new AbortController().signal });
  assert.match(terminal.stdout, /--names NAMES/);
  // `--name=value` and a negative number after a flag both parse (the error is generate's own check).
  await assert.rejects(inProcess(['generate', gpt2, 'hi', '--temperature=-1']), /temperature must be a finite number >= 0 .* got -1/);
  await assert.rejects(inProcess(['generate', gpt2, 'hi', '--temperature', '-1']), /temperature must be a finite number >= 0 .* got -1/);
});
