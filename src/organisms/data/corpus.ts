// From generators to training rows: documents are sampled by weight, tokenized, and packed into
// rows of seqLen + 1 tokens, each document preceded by <|endoftext|> (GPT-2's packing). The
// tokenizer is the world's word-level one, built from every generator's pieces.

import type { Tokenizer } from '../../io/tokenizer.js';
import type { Rng } from '../../tensor/index.js';
import { ArgumentError } from '../../util/errors.js';
import type { TextGenerator } from './generator.js';

export interface MixtureEntry {
  generator: TextGenerator;
  /** Relative probability of drawing a document from this generator. */
  weight: number;
}

export class Corpus {
  private readonly total: number;

  constructor(readonly tokenizer: Tokenizer, readonly mixture: readonly MixtureEntry[], readonly endOfTextId: number) {
    this.total = mixture.reduce((sum, e) => sum + e.weight, 0);
    if (mixture.length === 0 || !(this.total > 0) || mixture.some((e) => !(e.weight >= 0))) {
      throw new ArgumentError(`Corpus: mixture weights must be >= 0 with a positive sum, got ${mixture.map((e) => e.weight).join(', ')}`);
    }
  }

  /** A document drawn from the mixture, tokenized (without the end-of-text marker). */
  document(rng: Rng): number[] {
    let r = rng.uniform(0, this.total);
    let entry = this.mixture[this.mixture.length - 1];
    for (const e of this.mixture) {
      if (r < e.weight) {
        entry = e;
        break;
      }
      r -= e.weight;
    }
    return this.tokenizer.encode(entry.generator.sample(rng), { addSpecialTokens: false });
  }

  /** batchSize rows of seqLen + 1 tokens (inputs and shifted targets), packed documents. */
  rows(rng: Rng, batchSize: number, seqLen: number): number[][] {
    return Array.from({ length: batchSize }, () => {
      const row: number[] = [];
      while (row.length < seqLen + 1) row.push(this.endOfTextId, ...this.document(rng));
      return row.slice(0, seqLen + 1);
    });
  }
}
