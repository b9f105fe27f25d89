// Synthetic data: IOI prompts have the structure the metric assumes, held-out names and paraphrases
// never reach training, every generated word is one token of the world tokenizer (which decodes
// exactly and matches transformers' tokenizer where that is installed), and rows are seeded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FACT_TEMPLATES, factGenerator, factPrompt, heldOutFactPrompts, worldFacts } from '../../src/organisms/data/facts.js';
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
  // A person is told apart only by the full name: each first name belongs to two people of different occupations.
  const people = facts.filter((f) => f.relation === 'occupation');
  const byFirst = new Map<string, typeof people>();
  for (const f of people) byFirst.set(f.subject.split(' ')[0], [...(byFirst.get(f.subject.split(' ')[0]) ?? []), f]);
  for (const [first, same] of byFirst) {
    assert.equal(same.length, 2, `${first}: ${same.map((f) => f.subject).join(', ')}`);
    assert.notEqual(same[0].answer, same[1].answer, first);
  }
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

/** A held-out paraphrase as a pattern matching it with any capitalised subject (one or two words). */
function paraphrasePattern(template: string): RegExp {
  const [before, after] = template.split('{X}').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`${before}[A-Z][a-z]+(?: [A-Z][a-z]+)?${after}`);
}

test('held-out paraphrases: no training text contains one (with any subject), yet every word of them occurs in training text', () => {
  const heldOut = Object.values(FACT_TEMPLATES).flatMap((t) => t.heldOut);
  const patterns = heldOut.map(paraphrasePattern);
  assert.ok(patterns[0].test(factPrompt(worldFacts()[0], heldOut[0])), 'the pattern matches the evaluation prompt itself');
  const seen = new Set<string>();
  const rng = new Rng(12);
  for (const generator of Object.values(WORLD_GENERATORS)) {
    for (let i = 0; i < 3000; i++) {
      const text = generator.sample(rng);
      patterns.forEach((pattern, k) => assert.ok(!pattern.test(text), `${generator.name} produced held-out "${heldOut[k]}": ${text}`));
      for (const piece of splitWords(text)) seen.add(piece);
    }
  }
  // A word no training text contains keeps its random embedding: the paraphrase could not be recalled.
  for (const template of heldOut) {
    for (const piece of splitWords(template.replace('{X}', 'Zqxj'))) {
      if (!piece.includes('Zqxj')) assert.ok(seen.has(piece), `"${piece}" of held-out "${template}" never occurs in training text`);
    }
  }
});

test('held-out paraphrases: wherever training text has a held-out ending ("the capital is"), an answer of the relation follows', () => {
  // "On a map of {X}, the capital is marked as" in training made the model complete the held-out
  // "In {X}, the capital is" with " marked".
  // The last three pieces after the subject (templates with fewer after it, like "... of {X} is", are not checked).
  const suffixes = (Object.entries(FACT_TEMPLATES) as [keyof typeof FACT_TEMPLATES, { heldOut: string[] }][]).flatMap(([relation, t]) => t.heldOut.map((template) => ({
    relation, template, suffix: splitWords(template.split('{X}')[1]).slice(-3),
  }))).filter((s) => s.suffix.length === 3);
  assert.equal(suffixes.length, 5);
  const answers = new Map(Object.keys(FACT_TEMPLATES).map((r) => [r, new Set(worldFacts().filter((f) => f.relation === r).map((f) => ` ${f.answer}`))]));
  const rng = new Rng(13);
  let seen = 0;
  for (const generator of Object.values(WORLD_GENERATORS)) {
    for (let i = 0; i < 3000; i++) {
      const pieces = splitWords(generator.sample(rng));
      for (const { relation, template, suffix } of suffixes) {
        for (let at = 0; at + suffix.length < pieces.length; at++) {
          if (!suffix.every((piece, k) => pieces[at + k] === piece)) continue;
          seen++;
          const next = pieces[at + suffix.length];
          assert.ok(answers.get(relation)!.has(next), `${generator.name}: "${suffix.join('')}" (from "${template}") followed by "${next}" in ${pieces.join('')}`);
        }
      }
    }
  }
  assert.ok(seen > 100, `held-out endings occur in training text (${seen} times)`);
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
