import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../../src/io/tokenizer.js';
import { ArgumentError, FormatError, IndexError, IOError } from '../../src/util/errors.js';
import { localFixtures, makeTempDir, repoRoot, sharedFixtures } from './fixture-paths.js';

interface Reference { text: string; ids: number[]; decoded: string; tokens?: string[]; ids_with_special?: number[] }

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const gpt2Path = join(sharedFixtures, 'gpt2-tokenizer', 'tokenizer.json');
const gpt2 = Tokenizer.fromJSON(readJson(gpt2Path), { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' }, gpt2Path);

/** Encode, decode and raw tokens must equal what HF `tokenizers` (Rust) produced. */
function checkReferences(tokenizer: Tokenizer, references: Reference[], what: string): void {
  assert.ok(references.length > 5, `${what}: too few references`);
  for (const ref of references) {
    const label = `${what}: ${JSON.stringify(ref.text)}`;
    assert.deepEqual(tokenizer.encode(ref.text, { addSpecialTokens: false }), ref.ids, label);
    if (ref.ids_with_special) assert.deepEqual(tokenizer.encode(ref.text), ref.ids_with_special, `${label} with specials`);
    if (ref.tokens) assert.deepEqual(ref.ids.map((id) => tokenizer.idToToken(id)), ref.tokens, `${label} tokens`);
    assert.equal(tokenizer.decode(ref.ids), ref.decoded, `${label} decode`);
  }
}

test('GPT-2: ids identical to HF tokenizers for every reference string; decode round-trips', () => {
  const references = readJson<Reference[]>(join(sharedFixtures, 'gpt2-tokenizer', 'reference_encodings.json'));
  checkReferences(gpt2, references, 'gpt2');
  for (const ref of references) assert.equal(gpt2.decode(gpt2.encode(ref.text)), ref.text);
});

test('GPT-2: 60 seeded random strings (unicode, whitespace runs, emoji) match HF tokenizers', () => {
  checkReferences(gpt2, readJson<Reference[]>(join(localFixtures, 'tokenizers', 'gpt2-random', 'reference_encodings.json')), 'gpt2-random');
});

for (const variant of ['llama2-style', 'metaspace-style', 'llama3-style']) {
  test(`${variant}: encode (with and without specials), tokens and decode match HF tokenizers`, async () => {
    const folder = join(localFixtures, 'tokenizers', variant);
    const tokenizer = await Tokenizer.fromFile(folder);
    checkReferences(tokenizer, readJson<Reference[]>(join(folder, 'reference_encodings.json')), variant);
  });
}

test('special token ids come from tokenizer_config.json (string or AddedToken form) and the model unk', async () => {
  const llama2 = await Tokenizer.fromFile(join(localFixtures, 'tokenizers', 'llama2-style', 'tokenizer.json'));
  assert.deepEqual([llama2.unkTokenId, llama2.bosTokenId, llama2.eosTokenId, llama2.padTokenId], [0, 1, 2, undefined]);
  assert.equal(llama2.encode('hi')[0], llama2.bosTokenId);
  const json = readJson(join(localFixtures, 'tokenizers', 'llama2-style', 'tokenizer.json'));
  const addedTokenForm = Tokenizer.fromJSON(json, { bos_token: { __type: 'AddedToken', content: '</s>' }, pad_token: '<unk>' });
  assert.deepEqual([addedTokenForm.bosTokenId, addedTokenForm.padTokenId, addedTokenForm.unkTokenId], [2, 0, 0]);
  assert.equal(gpt2.bosTokenId, 50256);
  assert.equal(gpt2.eosTokenId, 50256);
  assert.equal(gpt2.vocabSize, 50257);
  const vocabIds = Object.values((json as { model: { vocab: Record<string, number> } }).model.vocab);
  assert.equal(llama2.vocabSize, Math.max(...vocabIds) + 1);
});

test('tokenStrings: per-token display strings', async () => {
  const ids = gpt2.encode(' the cat<|endoftext|>\nnaïve 🤖');
  const shown = gpt2.tokenStrings(ids);
  assert.equal(shown[0], ' the');
  assert.ok(shown.includes('<|endoftext|>'));
  assert.ok(shown.includes('\n'));
  assert.ok(shown.includes('ïve'), shown.join('|'));
  // The robot emoji is 4 UTF-8 bytes split over tokens: the pieces render as U+FFFD, as HF decode does per token.
  assert.ok(shown.slice(-2).some((s) => s.includes('\uFFFD')), shown.join('|'));
  const ascii = 'When Mary and John went to the store,\n\tJohn gave   a drink to';
  assert.equal(gpt2.tokenStrings(gpt2.encode(ascii)).join(''), ascii);
  for (const variant of ['llama2-style', 'metaspace-style']) {
    const tokenizer = await Tokenizer.fromFile(join(localFixtures, 'tokenizers', variant));
    const text = 'the store,\n\tJohn gave   a drink';
    const strings = tokenizer.tokenStrings(tokenizer.encode(text, { addSpecialTokens: false }));
    assert.equal(strings.join(''), ` ${text}`, `${variant}: ${strings.join('|')}`); // SentencePiece prefixes one space
    assert.ok(strings.includes('\t'), `${variant}: byte-fallback <0x09> shows as a tab`);
    assert.deepEqual(tokenizer.tokenStrings([1]), ['<s>']);
  }
  const llama3 = await Tokenizer.fromFile(join(localFixtures, 'tokenizers', 'llama3-style'));
  assert.equal(llama3.tokenStrings(llama3.encode(' the store')).join(''), '<|begin_of_text|> the store');
});

test('decode: ids outside the vocabulary throw IndexError naming the id; skipSpecialTokens drops specials', () => {
  assert.throws(() => gpt2.decode([464, 50257]), (e: Error) => e instanceof IndexError && /50257/.test(e.message) && /position 1/.test(e.message));
  assert.throws(() => gpt2.decode([-1]), IndexError);
  assert.throws(() => gpt2.decode([1.5]), IndexError);
  assert.throws(() => gpt2.tokenStrings([99999]), IndexError);
  assert.equal(gpt2.decode([]), '');
  assert.equal(gpt2.decode([50256, 464, 886], { skipSpecialTokens: true }), 'The end');
  assert.throws(() => gpt2.encode(42 as unknown as string), ArgumentError);
});

test('clean_up_tokenization_spaces is honoured only when the config asks for it', () => {
  const json = readJson(gpt2Path);
  const cleaning = Tokenizer.fromJSON(json, { clean_up_tokenization_spaces: true });
  const ids = gpt2.encode('Hello , world . is n\'t');
  assert.equal(gpt2.decode(ids), 'Hello , world . is n\'t');
  assert.equal(cleaning.decode(ids), 'Hello, world. isn\'t'); // transformers' clean_up_tokenization rules
});

test('a tokenizer without unk or byte fallback drops characters it cannot represent, as HF tokenizers does', () => {
  const json = {
    model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] },
    pre_tokenizer: null, normalizer: null, post_processor: null, decoder: null, added_tokens: [],
  };
  const tiny = Tokenizer.fromJSON(json);
  assert.deepEqual(tiny.encode('abab'), [2, 2]);
  assert.deepEqual(tiny.encode('abca'), [2, 0]); // Python tokenizers: encode('abca').ids == [2, 0]
});

test('fromFile: missing file → IOError, bad JSON → FormatError naming the file, folder or file path accepted', async () => {
  await assert.rejects(Tokenizer.fromFile('/nonexistent/tokenizer.json'), IOError);
  const { dir, cleanup } = makeTempDir('tok');
  try {
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
    await assert.rejects(Tokenizer.fromFile(dir), (e: Error) => e instanceof FormatError && e.message.includes(dir));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'Magic' } }));
    await assert.rejects(Tokenizer.fromFile(join(dir, 'tokenizer.json')), (e: Error) => e instanceof FormatError && /Magic/.test(e.message));
  } finally {
    cleanup();
  }
});

test('the GPT-2 tokenizer shipped in assets/ is the reference one and loads with its special tokens', async () => {
  const shipped = await Tokenizer.fromFile(join(repoRoot, 'assets', 'tokenizers', 'gpt2'));
  assert.deepEqual(readFileSync(join(repoRoot, 'assets', 'tokenizers', 'gpt2', 'tokenizer.json')), readFileSync(gpt2Path));
  assert.deepEqual([shipped.bosTokenId, shipped.eosTokenId, shipped.unkTokenId, shipped.padTokenId], [50256, 50256, 50256, undefined]);
  assert.ok(readFileSync(join(repoRoot, 'assets', 'tokenizers', 'gpt2', 'LICENSE'), 'utf8').includes('MIT'));
});
