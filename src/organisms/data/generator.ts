// What every synthetic data source provides: seeded documents, and the word pieces it can ever
// produce (the tokenizer's vocabulary is their union, so no document falls back to bytes).

import type { Rng } from '../../tensor/index.js';
import { splitWords } from '../tokenizer.js';

export interface TextGenerator {
  readonly name: string;
  /** One document (no end-of-text marker). */
  sample(rng: Rng): string;
  /** Every piece (as splitWords gives) a document may contain. */
  pieces(): string[];
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(0, items.length)];
}

/** Two different items. */
export function pickTwo<T>(rng: Rng, items: readonly T[]): [T, T] {
  const i = rng.int(0, items.length);
  let j = rng.int(0, items.length - 1);
  if (j >= i) j++;
  return [items[i], items[j]];
}

/** Replaces {SLOT} markers in a template by values. */
export function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Z]+)\}/g, (_, slot: string) => values[slot] ?? `{${slot}}`);
}

/**
 * The pieces of templates whose slots take single words from `entities`: the template's own
 * pieces (slots filled with a probe word, then dropped) plus each entity with and without a
 * leading space (start of a document, after punctuation).
 */
export function templatePieces(templates: readonly string[], entities: readonly string[]): string[] {
  const probe = 'Zqxj';
  const pieces = new Set<string>();
  for (const template of templates) {
    for (const piece of splitWords(template.replace(/\{[A-Z]+\}/g, probe))) if (!piece.includes(probe)) pieces.add(piece);
  }
  for (const entity of entities) for (const word of entity.split(' ')) pieces.add(word).add(` ${word}`);
  return [...pieces];
}
