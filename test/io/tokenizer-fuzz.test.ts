// Property tests: a mutated tokenizer.json either loads into a working tokenizer or fails with a
// typed error (DissectError), at load or at use — never a TypeError or other crash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Tokenizer } from '../../src/io/tokenizer.js';
import { DissectError } from '../../src/util/errors.js';
import { localFixtures } from './fixture-paths.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const SAMPLES = ['Hello world', ' The Eiffel Tower is in Paris!', 'naïve 東京 🤖\n\t  x', ''];

/** Paths into the JSON, skipping most of the (large, repetitive) vocab and merges. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (value === null || typeof value !== 'object') return out;
  const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const bulky = prefix.at(-1) === 'vocab' || prefix.at(-1) === 'merges';
  for (const [key, child] of bulky ? entries.slice(0, 3) : entries) out.push(...paths(child, [...prefix, key]));
  return out;
}

type Mutation = { kind: 'delete' } | { kind: 'replace'; value: Json };

function mutate(root: Json, path: (string | number)[], mutation: Mutation): Json {
  if (path.length === 0) return mutation.kind === 'replace' ? mutation.value : null;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (mutation.kind === 'delete') {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else {
    node[last] = mutation.value;
  }
  return copy;
}

const jsonValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 2 ** 40, '', 'BPE', 'ByteLevel', 'Sequence', 'Metaspace', '▁', [], {}),
  fc.string({ maxLength: 6 }), fc.integer({ min: -3, max: 1000 }),
  fc.dictionary(fc.constantFrom('type', 'content', 'id', 'pattern', 'String', 'Regex'),
    fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -2, max: 700 }), fc.constant('(?<')), { maxKeys: 3 }),
);

/** Runs the tokenizer; returns whether it loaded. Non-Dissect errors fail the property. */
function exercise(json: Json, config: Json): boolean {
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.fromJSON(json, config ?? {});
  } catch (error) {
    if (error instanceof DissectError) return false;
    throw error;
  }
  for (const text of SAMPLES) {
    try {
      const ids = tokenizer.encode(text);
      tokenizer.tokenStrings(ids);
      tokenizer.decode(ids);
    } catch (error) {
      if (!(error instanceof DissectError)) throw error;
    }
  }
  return true;
}

for (const variant of ['llama2-style', 'llama3-style', 'metaspace-style']) {
  test(`${variant}: mutated tokenizer.json loads and works, or fails with a typed error`, () => {
    const folder = join(localFixtures, 'tokenizers', variant);
    const json = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as Json;
    const config = JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')) as Json;
    const allPaths = paths(json);
    let loaded = 0;
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(fc.constant({ kind: 'delete' as const }), jsonValue.map((value) => ({ kind: 'replace' as const, value })));
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(allPaths.length - 1), mutation), { minLength: 1, maxLength: 3 }), (mutations) => {
      let mutated = json;
      for (const [index, m] of mutations) {
        try {
          mutated = mutate(mutated, allPaths[index], m);
        } catch {
          // The path vanished under an earlier mutation; keep what we have.
        }
      }
      if (exercise(mutated, config)) loaded++;
    }), { numRuns: 300 });
    assert.ok(loaded > 0, 'no mutated tokenizer loaded: the property only exercised the error path');
  });
}

test('mutated tokenizer_config.json: typed error or working tokenizer', () => {
  const folder = join(localFixtures, 'tokenizers', 'llama2-style');
  const json = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as Json;
  const config = fc.dictionary(fc.constantFrom('bos_token', 'eos_token', 'pad_token', 'unk_token', 'clean_up_tokenization_spaces', 'remove_space'), jsonValue);
  fc.assert(fc.property(fc.oneof(config, jsonValue), (c) => {
    exercise(json, c);
  }), { numRuns: 300 });
});
