// The CLI's own parsing, in-process: flags, hook-name globs, --ids rows, and streaming text
// assembly (checked against decoding all ids at once, with real tokenizers whose pieces split
// characters across tokens or carry SentencePiece's leading-space marker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DEFAULT_MODEL, parseArgs, UsageError } from '../../src/cli/flags.js';
import { parseIdRows, selectHookNames } from '../../src/cli/hook-names.js';
import { TextStream } from '../../src/cli/text-stream.js';
import { Tokenizer } from '../../src/io/tokenizer.js';
import { llamaLikeConfig } from '../../src/models/arch/llama-config.js';
import { hookPointsFor } from '../../src/models/hook-points.js';
import { localFixtures } from '../io/fixture-paths.js';
import { GPT2_TOKENIZER } from './run-cli.js';

const SPECS = {
  json: { type: 'boolean', description: '' },
  'max-new-tokens': { type: 'integer', description: '' },
  temperature: { type: 'number', description: '' },
  out: { type: 'string', description: '' },
} as const;

test('parseArgs: flags of each type, = values, negative numbers, -- and positionals', () => {
  const parsed = parseArgs(['m', '--json', '--max-new-tokens', '5', '--temperature=-0.5', 'text', '--out', '-'], SPECS, ['model', 'text']);
  assert.deepEqual(parsed.positionals, ['m', 'text']);
  assert.deepEqual(parsed.flags, { json: true, 'max-new-tokens': 5, temperature: -0.5, out: '-' });
  assert.deepEqual(parseArgs(['m', '--', '--json'], SPECS, ['model', 'text']).positionals, ['m', '--json']);
  assert.deepEqual(parseArgs(['m', '-3'], SPECS, ['model', 'text']).positionals, ['m', '-3']);
  assert.equal(parseArgs(['--help', '--bogus'], SPECS, ['model']).help, true);
  assert.throws(() => parseArgs(['m', '-x'], SPECS, ['model']), /unknown option '-x'/);
  assert.throws(() => parseArgs(['m', '--max-new-tokens', '1e400'], SPECS, ['model']), /expects a number, got '1e400'/);
  assert.throws(() => parseArgs(['m', '--temprature', '1'], SPECS, ['model']), /did you mean --temperature/);
  assert.throws(() => parseArgs([], SPECS, ['model', 'text']), UsageError);
  // A left-out <model> (only when it is the one positional missing) is the embedded default.
  assert.deepEqual(parseArgs([], SPECS, ['model']).positionals, [DEFAULT_MODEL]);
  assert.deepEqual(parseArgs(['hi'], SPECS, ['model', 'text']).positionals, [DEFAULT_MODEL, 'hi']);
});

test('selectHookNames: * stays within a dot-separated part, ** crosses parts, order is the model\'s', () => {
  const config = llamaLikeConfig({
    model_type: 'llama', vocab_size: 16, hidden_size: 8, num_hidden_layers: 3, num_attention_heads: 2,
    num_key_value_heads: 1, intermediate_size: 12, max_position_embeddings: 32,
  }, 'llama');
  const points = hookPointsFor(config);
  assert.deepEqual(selectHookNames('blocks.*.hook_resid_post', points), ['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post']);
  assert.throws(() => selectHookNames('blocks.*.hook_q', points), /matches no hook point/);
  assert.deepEqual(selectHookNames('**.hook_q', points), ['blocks.0.attn.hook_q', 'blocks.1.attn.hook_q', 'blocks.2.attn.hook_q']);
  assert.deepEqual(selectHookNames('blocks.2.hook_resid_post, hook_embed,blocks.?.hook_resid_post', points),
    ['hook_embed', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post']);
  const all = selectHookNames('**', points);
  assert.deepEqual(all, points.map((p) => p.name));
  assert.ok(selectHookNames('blocks.1.**', points).every((n) => n.startsWith('blocks.1.')));
  assert.throws(() => selectHookNames('blocks.1.hook_resid', points), /unknown hook point 'blocks.1.hook_resid'; did you mean/);
});

test('parseIdRows', () => {
  assert.deepEqual(parseIdRows('1,2,3;4,5,6'), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(parseIdRows(' 7 , 8 '), [[7, 8]]);
  assert.throws(() => parseIdRows('1.5'), /'1.5' in row 1 is not a token id/);
  assert.throws(() => parseIdRows('1;'), /row 2 is empty/);
});

async function streamed(tokenizer: Tokenizer, prompt: number[], generated: number[]): Promise<string[]> {
  const pieces: string[] = [];
  const stream = new TextStream(tokenizer, prompt, (text) => pieces.push(text));
  for (const id of generated) stream.push(id);
  stream.finish();
  return pieces;
}

test('TextStream prints exactly the decoded continuation, never a half character', async () => {
  const tokenizers = [
    await Tokenizer.fromFile(GPT2_TOKENIZER),
    await Tokenizer.fromFile(join(localFixtures, 'tokenizers', 'llama2-style')),
    await Tokenizer.fromFile(join(localFixtures, 'tokenizers', 'metaspace-style')),
  ];
  for (const tokenizer of tokenizers) {
    for (const [prompt, continuation] of [['Hello', ' wörld 🙂 東京 ok'], ['The cat', ' sat on the mat.'], ['x', '🙂🙂 end']]) {
      const promptIds = tokenizer.encode(prompt);
      const allIds = tokenizer.encode(prompt + continuation);
      if (allIds.slice(0, promptIds.length).join() !== promptIds.join()) continue; // the prompt merged into the continuation
      const generated = allIds.slice(promptIds.length);
      const pieces = await streamed(tokenizer, promptIds, generated);
      const expected = tokenizer.decode(allIds, { skipSpecialTokens: true }).slice(tokenizer.decode(promptIds, { skipSpecialTokens: true }).length);
      assert.equal(pieces.join(''), expected);
      assert.ok(!pieces.some((p) => p.includes('\uFFFD')), `a partial character was printed: ${JSON.stringify(pieces)}`);
    }
  }
});
