// Where the heads look from the last position (END): for IOI, name-mover heads attend from END to
// the indirect object, the answer, rather than to the subject. Reading the attention of a circuit's
// heads this way checks that it found the mechanism and not only a faithful set of edges.

import type { HookedTransformer } from '../models/transformer.js';
import { noGrad } from '../tensor/index.js';
import { DEFAULT_BATCH_SIZE, exampleBatches, type CircuitExample } from './dataset.js';
import type { Circuit } from './circuit.js';

export interface EndAttention {
  readonly layer: number;
  readonly head: number;
  /** Attention from the last position to the positions holding the answer token, mean over prompts. */
  readonly toAnswer: number;
  /** The same for the wrong (distractor) token: IOI's subject, both mentions. */
  readonly toWrong: number;
}

/** END attention of every head on the clean prompts, layer by layer. */
export function endAttention(model: HookedTransformer, examples: readonly CircuitExample[], batchSize = DEFAULT_BATCH_SIZE): EndAttention[] {
  const c = model.config;
  const sums = Array.from({ length: c.nLayers * c.nHeads }, () => ({ toAnswer: 0, toWrong: 0 }));
  const names = Array.from({ length: c.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  for (const batch of exampleBatches(examples, batchSize)) {
    const { logits, cache } = noGrad(() => model.runWithCache(batch.clean, { names, logitPositions: 'last' }));
    try {
      const pos = batch.clean[0].length;
      for (let l = 0; l < c.nLayers; l++) {
        const pattern = cache.get(names[l]).toArray(); // [batch, head, query, key]
        batch.clean.forEach((row, b) => {
          for (let h = 0; h < c.nHeads; h++) {
            const base = ((b * c.nHeads + h) * pos + (pos - 1)) * pos;
            row.forEach((token, key) => {
              if (token === batch.answers[b]) sums[l * c.nHeads + h].toAnswer += pattern[base + key];
              else if (token === batch.wrongs[b]) sums[l * c.nHeads + h].toWrong += pattern[base + key];
            });
          }
        });
      }
    } finally {
      logits.dispose();
      cache.dispose();
    }
  }
  return sums.map((s, i) => ({ layer: Math.floor(i / c.nHeads), head: i % c.nHeads, toAnswer: s.toAnswer / examples.length, toWrong: s.toWrong / examples.length }));
}

/** The heads a circuit keeps, as [layer, head]. */
export function circuitHeads(circuit: Circuit): { layer: number; head: number }[] {
  return circuit.graph.nodes.filter((n, i) => n.kind === 'head' && circuit.nodes[i] === 1).map((n) => ({ layer: n.layer as number, head: n.head as number }));
}
