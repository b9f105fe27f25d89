// The synthetic world every organism speaks: its generators, its word-level tokenizer (built from
// the generators' pieces) and the corpus that packs their documents into training rows.

import { Tokenizer } from '../io/tokenizer.js';
import { Corpus, type MixtureEntry } from './data/corpus.js';
import { factGenerator } from './data/facts.js';
import { fillerGenerator } from './data/filler.js';
import { inductionGenerator } from './data/induction.js';
import { ioiGenerator } from './data/ioi.js';
import * as words from './data/words.js';
import { buildWordTokenizer, type WordTokenizerFiles } from './tokenizer.js';

/** Every single word of the world's lists: the pool induction spans draw from. */
export const WORLD_WORDS: readonly string[] = [...new Set([
  ...words.ALL_NAMES, ...words.PLACES, ...words.OBJECTS, ...words.ANIMALS, ...words.ADJECTIVES, ...words.FOODS,
  ...words.COLORS, ...words.COUNTRIES, ...words.CAPITALS, ...words.LANGUAGES, ...words.SURNAMES, ...words.OCCUPATIONS,
])];

export const WORLD_GENERATORS = {
  ioi: ioiGenerator,
  facts: factGenerator(),
  filler: fillerGenerator,
  induction: inductionGenerator(WORLD_WORDS, { minSpan: 6, maxSpan: 24 }),
};

/** Longest sequence the world's models are trained on and accept. */
export const WORLD_CONTEXT = 128;

export interface World {
  files: WordTokenizerFiles;
  tokenizer: Tokenizer;
  corpus(mixture: Partial<Record<keyof typeof WORLD_GENERATORS, number>>): Corpus;
}

let cached: World | null = null;

/** The world's tokenizer and corpus builder (built once; deterministic). */
export function world(): World {
  if (cached !== null) return cached;
  const pieces = Object.values(WORLD_GENERATORS).flatMap((g) => g.pieces());
  const files = buildWordTokenizer(pieces, WORLD_CONTEXT);
  const tokenizer = Tokenizer.fromJSON(files.tokenizer, files.tokenizerConfig, 'world tokenizer');
  const built: World = {
    files,
    tokenizer,
    corpus(mixture) {
      const entries: MixtureEntry[] = Object.entries(mixture).map(([name, weight]) => ({
        generator: WORLD_GENERATORS[name as keyof typeof WORLD_GENERATORS], weight: weight as number,
      }));
      return new Corpus(tokenizer, entries, files.endOfTextId);
    },
  };
  cached = built;
  return built;
}
