// `dissect generate` on the GPT-2 fixture with the GPT-2 tokenizer: greedy output equals the
// library's generate (itself tested against full-forward argmax), streaming prints the same text
// as the --json decode, and seeds reproduce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import '../../src/backend/ref/index.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import { Tokenizer } from '../../src/io/tokenizer.js';
import { generate } from '../../src/models/generate.js';
import { sharedFixtures } from '../io/fixture-paths.js';
import { runCli } from '../../src/cli/run.js';
import { dissect, GPT2_TOKENIZER } from './run-cli.js';

const folder = join(sharedFixtures, 'gpt2-tiny');
const common = [folder, 'When Mary and John went', '--tokenizer', GPT2_TOKENIZER, '--max-new-tokens', '10', '--ignore-eos', '--backend', 'ref'];

interface GenerateJson { prompt_ids: number[]; ids: number[]; text: string; finish_reason: string }

test('dissect generate --greedy equals the library, and streams the text its --json run decodes', async () => {
  const json = await dissect(['generate', ...common, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as GenerateJson;
  const tokenizer = await Tokenizer.fromFile(GPT2_TOKENIZER);
  assert.deepEqual(parsed.prompt_ids, tokenizer.encode('When Mary and John went'));
  const model = await loadModelFolder(folder);
  const expected = await generate(model, parsed.prompt_ids, { maxNewTokens: 10, stopTokenIds: [] });
  model.dispose();
  assert.deepEqual(parsed.ids, expected.tokens[0]);
  assert.equal(parsed.finish_reason, 'length');
  assert.equal(parsed.text, tokenizer.decode(parsed.ids, { skipSpecialTokens: true }));

  const streamed = await dissect(['generate', ...common, '--greedy']);
  assert.equal(streamed.code, 0, streamed.stderr);
  assert.equal(streamed.stdout, `${tokenizer.decode([...parsed.prompt_ids, ...parsed.ids]).slice('When Mary and John went'.length)}\n`);
});

test('dissect generate: equal seeds give equal samples, other seeds differ', async () => {
  const sample = async (seed: string) => {
    const r = await dissect(['generate', ...common, '--temperature', '1.5', '--top-k', '200', '--top-p', '0.95', '--seed', seed, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as GenerateJson).ids;
  };
  const [a, again, other] = await Promise.all([sample('1'), sample('1'), sample('2')]);
  assert.deepEqual(again, a);
  assert.notDeepEqual(other, a);
});

test('dissect generate rejects bad sampling values before loading the model', async () => {
  const missing = join(sharedFixtures, 'no-such-model');
  const run = (args: string[]) => runCli(['generate', missing, 'hi', ...args], { out() {}, err() {}, errIsTTY: false }, { signal: new AbortController().signal });
  await assert.rejects(run(['--top-p', '1.5']), /topP must be in \(0, 1\], got 1.5/);
  await assert.rejects(run(['--top-k', '0']), /topK must be an integer >= 1, got 0/);
  await assert.rejects(run(['--top-k', '2.5']), /--top-k expects an integer, got '2.5'/);
  await assert.rejects(run([]), /no such model folder/); // valid flags: only now is the model looked for
});
