// The inspection invariants on every architecture case the model tests cover (GPT-2 variants,
// NeoX sequential/parallel, Llama GQA/MQA/tied/biases, Mistral sliding window, Qwen2, Gemma's
// (1 + w) norms and √d embedding scale, head_dim · heads ≠ d_model): residual decomposition,
// per-head results, direct logit attribution summing to the logits, the logit lens's last row,
// and per-head weights reproducing hook_q/k/v.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { decomposeResid, stackHeadResults } from '../../src/analysis/cache-analysis.js';
import { logitAttrs } from '../../src/analysis/direct-logit-attribution.js';
import { logitLens } from '../../src/analysis/logit-lens.js';
import { headBias, headWeight, kvHeadOf } from '../../src/analysis/model-weights.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import { dispose, tidy } from '../../src/tensor/index.js';
import { ARCH_CASES } from '../models/arch-cases.js';
import { tempRoot, writeModelFolder } from '../models/helpers.js';
import { TestRng, assertClose, maxAbs, ref, sumFirstAxis } from './inspect-helpers.js';

describe('inspection invariants on every architecture', () => {
  const root = tempRoot('inspect-arch');
  after(() => root.cleanup());

  ARCH_CASES.forEach((archCase, index) => {
    test(archCase.name, async () => {
      const rng = new TestRng(2000 + index);
      const folder = await writeModelFolder(root.dir, `case-${index}`, archCase.config, archCase.weights(rng));
      const model = await loadModelFolder(folder, { backend: ref });
      const c = model.config;
      const tokens = rng.tokens(2, 7, c.dVocab);
      const { logits, cache } = model.runWithCache(tokens);
      try {
        const logitData = logits.toArray();
        const parts = decomposeResid(model, cache);
        const final = cache.get(`blocks.${c.nLayers - 1}.hook_resid_post`).toArray();
        assertClose(sumFirstAxis(parts.stack), final, 1e-4 * maxAbs(final), 'decomposition');

        const heads = stackHeadResults(model, cache);
        const layer = c.nLayers - 1;
        const summed = tidy(() => heads.stack.narrow(0, layer * c.nHeads, c.nHeads).sum(0).add(heads.outBias.select(0, layer)));
        const attnOut = cache.get(`blocks.${layer}.hook_attn_out`).toArray();
        assertClose(summed.toArray(), attnOut, 1e-4 * maxAbs(attnOut), 'Σ heads + b_O');

        const targets = tokens.map((row) => row.map(() => rng.int(0, c.dVocab)));
        const dla = logitAttrs(model, cache, parts.stack, targets);
        const constant = dla.constant.toArray();
        const got = sumFirstAxis(dla.attributions).map((v, i) => v + constant[i]);
        const expected = targets.flatMap((row, b) => row.map((t, p) => logitData[(b * 7 + p) * c.dVocab + t]));
        assertClose(got, expected, 1e-4 * Math.max(1, maxAbs(expected)), 'Σ DLA + constant = logits');

        const lens = logitLens(model, cache, { positions: [6], topK: 1, targets: targets.map((row) => [row[6]]) });
        const lastProbs = lens.targetProbs!.toArray().subarray(c.nLayers * 2);
        for (let b = 0; b < 2; b++) {
          const row = logitData.subarray((b * 7 + 6) * c.dVocab, (b * 7 + 7) * c.dVocab);
          const max = Math.max(...row);
          const total = Array.from(row).reduce((s, x) => s + Math.exp(x - max), 0);
          assertClose([lastProbs[b]], [Math.exp(row[targets[b][6]] - max) / total], 1e-5, `lens final row, batch ${b}`);
        }

        // Per-head q/k/v weights: the hooks' values from ln1's output (RMSNorm's hook lacks the weight).
        const x = tidy(() => {
          const normalized = cache.get('blocks.0.ln1.hook_normalized');
          const w = model.params.blocks[0].ln1.weight;
          return c.norm === 'rmsnorm' && w !== null ? normalized.mul(w.add(c.normWeightOffset)) : normalized.mul(1);
        });
        for (const which of ['Q', 'K', 'V'] as const) {
          const head = c.nHeads - 1;
          const got = tidy(() => {
            const y = x.matmul(headWeight(model, 0, head, which));
            const b = headBias(model, 0, head, which);
            return b === null ? y : y.add(b);
          });
          const index = which === 'Q' ? head : kvHeadOf(c, head);
          const want = tidy(() => cache.get(`blocks.0.attn.hook_${which.toLowerCase()}`).select(2, index).contiguous());
          assertClose(got.toArray(), want.toArray(), 1e-5 * Math.max(1, maxAbs(want.toArray())), `W_${which}`);
          dispose([got, want]);
        }
        assert.equal(parts.labels.includes('pos_embed'), c.positional === 'learned');
        dispose([parts, heads, summed, dla, lens, x]);
      } finally {
        logits.dispose();
        cache.dispose();
        model.dispose();
      }
    });
  });
});
