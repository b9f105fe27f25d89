// Synthetic data: IOI prompts have the structure the metric assumes, held-out names and paraphrases
// never reach training, every generated word is one token of the world tokenizer (which decodes
// exactly and matches transformers' tokenizer where that is installed), and rows are seeded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FACT_TEMPLATES, factGenerator, heldOutFactPrompts, worldFacts } from '../../src/organisms/data/facts.js';
import { IOI_TEMPLATES, ioiEvalSet, ioiGenerator } from '../../src/organisms/data/ioi.js';
import { IOI_HELD_OUT_NAMES, IOI_TRAIN_NAMES } from '../../src/organisms/data/words.js';
import { splitWords } from '../../src/organisms/tokenizer.js';
import { WORLD_GENERATORS, world } from '../../src/organisms/world.js';
import { Rng } from '../../src/tensor/index.js';
import { makeTempDir } from '../io/fixture-paths.js';
import { NO_TORCH, runPython, torchPython } from './python.js';

const count = (words: string[], name: string) => words.filter((w) => w === ` ${name}` || w === name).length;

test('IOI prompts: S twice and IO once before the answer, both orders, held-out names only in the eval set', () => {
  const prompts = ioiEvalSet(new Rng(5), 300);
  const orders = new Set(prompts.map((p) => p.order));
  assert.deepEqual([...orders].sort(), ['ABBA', 'BABA']);
  assert.equal(new Set(prompts.map((p) => p.template)).size, IOI_TEMPLATES.length);
  for (const p of prompts) {
    const words = splitWords(p.prompt);
    assert.equal(count(words, p.s), 2, p.prompt);
    assert.equal(count(words, p.io), 1, p.prompt);
    assert.ok(IOI_HELD_OUT_NAMES.includes(p.io) && IOI_HELD_OUT_NAMES.includes(p.s));
    const first = words.findIndex((w) => w.trim() === p.io || w.trim() === p.s);
    assert.equal(words[first].trim() === p.io, p.order === 'ABBA', `${p.order}: ${p.prompt}`);
  }
  const rng = new Rng(6);
  for (let i = 0; i < 500; i++) {
    const words = splitWords(ioiGenerator.sample(rng));
    for (const name of IOI_HELD_OUT_NAMES) assert.equal(count(words, name), 0, `held-out ${name} in IOI training`);
  }
  assert.equal(IOI_HELD_OUT_NAMES.length + IOI_TRAIN_NAMES.length, new Set([...IOI_HELD_OUT_NAMES, ...IOI_TRAIN_NAMES]).size);
});

test('facts: training statements never use a held-out paraphrase; every fact has one', () => {
  const facts = worldFacts();
  assert.equal(new Set(facts.map((f) => `${f.relation}:${f.subject}`)).size, facts.length, 'one answer per subject and relation');
  const heldOut = heldOutFactPrompts(facts);
  assert.equal(heldOut.length, facts.reduce((n, f) => n + FACT_TEMPLATES[f.relation].heldOut.length, 0));
  const generator = factGenerator(facts);
  const rng = new Rng(7);
  const heldOutPrompts = new Set(heldOut.map((p) => p.prompt));
  for (let i = 0; i < 1000; i++) {
    const statement = generator.sample(rng);
    for (const prompt of heldOutPrompts) assert.ok(!statement.startsWith(`${prompt} `), `training used held-out "${prompt}"`);
  }
});

test('world tokenizer: every generated piece is one token; text round-trips; rows are seeded', () => {
  const { tokenizer, files } = world();
  const rng = new Rng(8);
  for (const generator of Object.values(WORLD_GENERATORS)) {
    for (let i = 0; i < 200; i++) {
      const text = generator.sample(rng);
      const ids = tokenizer.encode(text, { addSpecialTokens: false });
      assert.equal(ids.length, splitWords(text).length, `${generator.name}: "${text}" has a piece outside the vocabulary`);
      assert.ok(ids.every((id) => id < files.endOfTextId));
      assert.equal(tokenizer.decode(ids), text);
    }
  }
  const odd = 'Zebras ünïcode 123\n\tend';
  assert.equal(tokenizer.decode(tokenizer.encode(odd)), odd, 'unknown text falls back to bytes');
  const corpus = world().corpus({ ioi: 1, filler: 1 });
  const a = corpus.rows(new Rng(9), 3, 50);
  assert.deepEqual(corpus.rows(new Rng(9), 3, 50), a);
  assert.notDeepEqual(corpus.rows(new Rng(10), 3, 50), a);
  assert.ok(a.every((row) => row.length === 51 && row[0] === files.endOfTextId));
});

test('world tokenizer: transformers loads it and gives the same ids', (t) => {
  const python = torchPython();
  if (python === null) {
    t.skip(NO_TORCH);
    return;
  }
  const { files, tokenizer } = world();
  const tmp = makeTempDir('world-tokenizer');
  try {
    writeFileSync(join(tmp.dir, 'tokenizer.json'), JSON.stringify(files.tokenizer));
    writeFileSync(join(tmp.dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig));
    const rng = new Rng(11);
    const texts = [...Object.values(WORLD_GENERATORS).map((g) => g.sample(rng)), 'Zebras ünïcode 123\n\tend', 'Mary<|endoftext|>John'];
    const script = `
import json, sys
from transformers import AutoTokenizer
args = json.load(sys.stdin)
tok = AutoTokenizer.from_pretrained(args['folder'])
print(json.dumps({'ids': [tok(t)['input_ids'] for t in args['texts']], 'eos': tok.eos_token_id}))
`;
    const hf = runPython(python, script, { folder: tmp.dir, texts }) as { ids: number[][]; eos: number };
    assert.deepEqual(hf.ids, texts.map((text) => tokenizer.encode(text)));
    assert.equal(hf.eos, files.endOfTextId);
  } finally {
    tmp.cleanup();
  }
});
