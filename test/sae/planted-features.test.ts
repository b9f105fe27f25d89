// Planted features: activations built from known sparse directions in superposition (more
// features than dimensions, each firing rarely with a random magnitude) train an SAE through the
// real trainer, activation store and schedule; its decoder must recover the directions (mean over
// true features of the best cosine similarity with a decoder row ≥ 0.9).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import '../../src/index.js';
import { Rng } from '../../src/tensor/index.js';
import type { ChunkSource, HarvestedChunk } from '../../src/sae/activation-store.js';
import { trainSAE, saeTrainSpec } from '../../src/sae/trainer.js';
import type { SAEArchitecture, SAEConfig, SparseAutoencoder } from '../../src/sae/sae.js';

const D = 24;
const FEATURES = 48;
const P_ACTIVE = 0.04;
const CHUNK_TOKENS = 2048;

/** Unit random directions [FEATURES][D]. */
function plantedDirections(seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: FEATURES }, () => {
    const v = Float64Array.from({ length: D }, () => rng.normal());
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

/** x = Σ_i a_i d_i over the active features (each on with probability P_ACTIVE, magnitude in [0.5, 1.5]). */
function syntheticSource(directions: Float64Array[]): ChunkSource {
  return {
    dIn: D, dOut: D, hasOutput: false,
    chunk(index: number): HarvestedChunk {
      const rng = new Rng(1000 + index);
      const input = new Float32Array(CHUNK_TOKENS * D);
      for (let t = 0; t < CHUNK_TOKENS; t++) {
        for (let f = 0; f < FEATURES; f++) {
          if (rng.next() >= P_ACTIVE) continue;
          const a = rng.uniform(0.5, 1.5);
          for (let i = 0; i < D; i++) input[t * D + i] += a * directions[f][i];
        }
      }
      return { tokens: CHUNK_TOKENS, input, output: null };
    },
  };
}

/** Mean over planted directions of the best |cosine| with any decoder row. */
function meanMaxCosine(sae: SparseAutoencoder, directions: Float64Array[]): number {
  const W = sae.W_dec.toArray();
  const rows = Array.from({ length: sae.dSae }, (_, j) => {
    const r = Array.from(W.subarray(j * D, (j + 1) * D));
    const n = Math.hypot(...r) || 1;
    return r.map((x) => x / n);
  });
  let total = 0;
  for (const d of directions) {
    let best = 0;
    for (const r of rows) best = Math.max(best, r.reduce((s, x, i) => s + x * d[i], 0));
    total += best;
  }
  return total / directions.length;
}

function config(architecture: SAEArchitecture): SAEConfig {
  return {
    architecture, d_in: D, d_sae: 2 * FEATURES, k: 3, apply_b_dec_to_input: true, normalize_activations: 'none',
    hook_name: 'synthetic', hook_layer: 0, dtype: 'float32',
  };
}

describe('planted features in superposition', () => {
  const directions = plantedDirections(7);

  for (const [architecture, overrides] of [
    ['topk', { lr: 4e-3, steps: 400 }],
    ['standard', { lr: 4e-3, steps: 400, l1Coefficient: 0.5, l1WarmupSteps: 100 }],
    ['batchtopk', { lr: 4e-3, steps: 400 }],
    ['jumprelu', { lr: 4e-3, steps: 700, l0Coefficient: 0.4, l0WarmupSteps: 100, jumpreluInitThreshold: 0.1 }],
  ] as const) {
    test(`${architecture}: the decoder recovers the planted directions`, async () => {
      const spec = saeTrainSpec(config(architecture), {
        ...overrides, batchTokens: 256, bufferTokens: 4096, lrDecaySteps: 100, deadFeatureWindow: 100, seed: 3,
      });
      const result = await trainSAE(spec, { source: syntheticSource(directions) });
      try {
        const score = meanMaxCosine(result.sae, directions);
        assert.ok(score >= 0.9, `${architecture}: mean max cosine similarity ${score.toFixed(3)} < 0.9`);
      } finally {
        result.sae.dispose();
      }
    });
  }
});
