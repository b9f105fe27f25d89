// Induction data: a random span of words, then the same span again. Nothing predicts the first
// copy; every token of the second is predictable by finding the previous occurrence of the current
// token and copying what followed it — the job of an induction head (Olsson et al. 2022).

import type { Rng } from '../../tensor/index.js';
import type { TextGenerator } from './generator.js';

export interface InductionOptions {
  /** Span lengths are drawn uniformly from [minSpan, maxSpan]. */
  minSpan: number;
  maxSpan: number;
}

/** Token ids of a random span repeated: [x1..xL, x1..xL]. */
export function repeatedSpan(rng: Rng, pool: readonly number[], length: number): number[] {
  const span = Array.from({ length }, () => pool[rng.int(0, pool.length)]);
  return [...span, ...span];
}

/** Repeated spans of words drawn from `words` (each with a leading space, so each is one token). */
export function inductionGenerator(words: readonly string[], options: InductionOptions): TextGenerator {
  const pool = [...new Set(words)].map((w) => ` ${w}`);
  return {
    name: 'induction',
    sample(rng) {
      const length = rng.int(options.minSpan, options.maxSpan + 1);
      const span = Array.from({ length }, () => pool[rng.int(0, pool.length)]).join('');
      return `${span}${span}`;
    },
    pieces: () => pool,
  };
}
