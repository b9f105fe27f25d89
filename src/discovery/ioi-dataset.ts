// IOI prompt pairs for circuit discovery (Wang et al. 2022; Hanna et al. 2024): the clean prompt
// "When Mary and John went to the store, John gave a drink to" should continue with the indirect
// object " Mary" rather than the subject " John"; the corrupted prompt puts three other names in
// the three name slots ("When Anna and Tom went to the store, Max gave a drink to"), so no name is
// repeated and nothing points at either answer. Positions stay aligned because every name is one
// token. The prompt texts come from the caller (the organisms' IOI generator, or anyone's).

import type { Tokenizer } from '../io/tokenizer.js';
import { Rng } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';
import type { CircuitExample } from './dataset.js';

/** An IOI sentence up to the indirect object, with its two names (words, no leading space). */
export interface NamedPrompt {
  readonly prompt: string;
  readonly io: string;
  readonly s: string;
}

export interface IoiPairOptions {
  /** Names to draw the corrupted prompt's names from (at least 5, so three differ from IO and S). */
  names: readonly string[];
  /** Seed for choosing the corrupted names (default 0). */
  seed?: number;
  /** Passed to the tokenizer (default false: the organisms' prompts carry no BOS). */
  addSpecialTokens?: boolean;
}

/** The single token of " word"; ArgumentError when the tokenizer splits it. */
export function singleWordToken(tokenizer: Tokenizer, word: string): number {
  const ids = tokenizer.encode(` ${word}`, { addSpecialTokens: false });
  if (ids.length !== 1) throw new ArgumentError(`' ${word}' is ${ids.length} tokens for this tokenizer; IOI pairs need names that are one token`);
  return ids[0];
}

/** Clean/corrupted IOI pairs: IO → a new name, the first S → another, the second S → a third. */
export function ioiCircuitExamples(tokenizer: Tokenizer, prompts: readonly NamedPrompt[], options: IoiPairOptions): CircuitExample[] {
  const names = [...new Set(options.names)];
  if (names.length < 5) throw new ArgumentError(`IOI pairs need at least 5 distinct names to draw corrupted names from, got ${names.length}`);
  const nameTokens = names.map((n) => singleWordToken(tokenizer, n));
  const rng = new Rng(options.seed ?? 0);
  return prompts.map((p, i) => {
    const clean = tokenizer.encode(p.prompt, { addSpecialTokens: options.addSpecialTokens ?? false });
    const io = singleWordToken(tokenizer, p.io);
    const s = singleWordToken(tokenizer, p.s);
    const ioAt = clean.flatMap((t, pos) => (t === io ? [pos] : []));
    const sAt = clean.flatMap((t, pos) => (t === s ? [pos] : []));
    if (ioAt.length !== 1 || sAt.length !== 2) {
      throw new ArgumentError(`IOI prompt ${i} ("${p.prompt}") must mention '${p.io}' once and '${p.s}' twice as single tokens; found ${ioAt.length} and ${sAt.length}`);
    }
    const fresh: number[] = [];
    while (fresh.length < 3) {
      const token = nameTokens[rng.int(0, nameTokens.length)];
      if (token !== io && token !== s && !fresh.includes(token)) fresh.push(token);
    }
    const corrupted = [...clean];
    corrupted[ioAt[0]] = fresh[0];
    corrupted[sAt[0]] = fresh[1];
    corrupted[sAt[1]] = fresh[2];
    return { clean, corrupted, answer: io, wrong: s };
  });
}
