// Causal tracing: on a hand-built model whose fact sits in one MLP the trace lights up exactly the
// cells that carry it; the batched engine equals the one-pass-per-restoration loop (ROME's
// trace_with_patch) on GPT-2, NeoX and Llama fixtures, windows included; the noise, baselines,
// summary groups, progress / abort and errors.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { causalTrace, causalTraceMany, indirectEffects, type CausalTraceResult } from '../../src/editing/causal-trace.js';
import { windowLayers } from '../../src/editing/trace-engine.js';
import { embeddingStd } from '../../src/editing/trace-noise.js';
import { tokenGroups, traceSummary, strongestEffect } from '../../src/editing/trace-summary.js';
import { traceFigure, traceSummaryFigure } from '../../src/editing/trace-figures.js';
import { svgDocument } from '../../src/analysis/plots/svg.js';
import '../../src/index.js';
import { defaultBackend } from '../../src/backend/registry.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { ArgumentError, IndexError } from '../../src/util/errors.js';
import { assertNoLeak, ref } from '../analysis/inspect-helpers.js';
import { parseSvg } from '../cli/analysis-helpers.js';
import { FIXTURES, loadFixture } from '../models/helpers.js';
import { FACT_ANSWER, FACT_HOT_CELLS, FACT_PROMPT, FACT_SUBJECT, factModel } from './fact-model.js';

describe('causal tracing on a model with one stored fact', () => {
  let model: HookedTransformer;
  let trace: CausalTraceResult;
  before(async () => {
    // The hand-built weights are exact in any backend; the default one is the fastest here.
    model = factModel(defaultBackend());
    trace = await causalTrace(model, { tokens: FACT_PROMPT, subject: FACT_SUBJECT }, { window: 1, noiseStd: 3 });
  });
  after(() => model.dispose());

  test('the clean run knows the fact and the corrupted one does not', () => {
    assert.equal(trace.answer, FACT_ANSWER, 'the answer defaults to the clean top-1');
    assert.ok(trace.correct);
    assert.ok(trace.highScore > 0.99, `high score ${trace.highScore}`);
    assert.ok(trace.lowScore < 0.1, `low score ${trace.lowScore}`);
  });

  for (const kind of ['resid', 'mlp', 'attn'] as const) {
    test(`${kind}: exactly the cells that carry the fact restore it`, () => {
      const hot = new Set(FACT_HOT_CELLS[kind].map(([l, p]) => `${l},${p}`));
      const scores = trace.grids[kind]?.scores as number[][];
      scores.forEach((row, layer) => row.forEach((score, pos) => {
        const where = `${kind} layer ${layer} pos ${pos}: ${score} (high ${trace.highScore}, low ${trace.lowScore})`;
        if (hot.has(`${layer},${pos}`)) assert.ok(score > 0.95 * trace.highScore, where);
        else assert.ok(score < trace.lowScore + 0.05, where);
      }));
    });
  }

  test('the MLP peak is the lookup at the last subject token (layer 1), as the summary says', () => {
    const summary = traceSummary([trace], 'mlp');
    const last = summary.effects[summary.groups.indexOf('last subject token')];
    assert.equal(last.indexOf(Math.max(...last)), 1);
    assert.ok(Math.abs(last[1] - (trace.grids.mlp?.scores[1][2] as number) + trace.lowScore) < 1e-12);
    const effects = indirectEffects(trace, 'mlp');
    assert.ok(Math.abs(effects[1][2] - ((trace.grids.mlp?.scores[1][2] as number) - trace.lowScore)) < 1e-12);
  });

  test('a window restores every MLP within it: layer 0 with window 3 covers layers 0 and 1', async () => {
    assert.deepEqual(windowLayers(0, 3, 3), [0, 1]);
    assert.deepEqual(windowLayers(1, 10, 3), [0, 1, 2]);
    assert.deepEqual(windowLayers(2, 4, 5), [0, 1, 2, 3]);
    const windowed = await causalTrace(model, { tokens: FACT_PROMPT, subject: FACT_SUBJECT }, { kinds: ['mlp'], window: 3, noiseStd: 3 });
    const row = (windowed.grids.mlp?.scores as number[][]).map((r) => r[2]);
    // Windows around layers 0, 1 and 2 are [0, 2), [0, 3) and [1, 3): all hold layer 1.
    for (const score of row) assert.ok(score > 0.95 * windowed.highScore, `windowed scores at the subject ${row}`);
  });

  test('the figures are well-formed SVG with the subject tokens starred', () => {
    const svg = svgDocument(traceFigure(trace, { tokenStrings: ['<s>', 'A', 'B', 'C'], answer: ' x' }));
    parseSvg(svg);
    assert.ok(svg.includes('A*') && svg.includes('B*') && !svg.includes('C*'));
    parseSvg(svgDocument(traceSummaryFigure([traceSummary([trace], 'mlp'), traceSummary([trace], 'attn')])));
  });
});

describe('batched tracing equals the loop', () => {
  for (const name of FIXTURES) {
    test(`${name}: every kind, every layer and position (window 2: single layers at the edges, pairs inside)`, async () => {
      const model = await loadFixture(name, ref);
      try {
        const prompt = { tokens: [5, 17, 99, 4, 23, 8, 61], subject: [2, 4] as const, answer: 11 };
        for (const window of [2]) {
          const options = { window, samples: 3, noiseScale: 3, seed: 7 };
          const batched = await causalTrace(model, prompt, { ...options, batchSize: 5 });
          const loop = await causalTrace(model, prompt, { ...options, method: 'loop' });
          assert.equal(batched.lowScore, loop.lowScore);
          assert.equal(batched.highScore, loop.highScore);
          for (const kind of ['resid', 'mlp', 'attn'] as const) {
            const b = batched.grids[kind]?.scores as number[][];
            const l = loop.grids[kind]?.scores as number[][];
            b.forEach((row, layer) => row.forEach((v, pos) => {
              // Relative to the probabilities' size: restored probabilities are tiny in random models.
              const tolerance = 2e-5 * Math.max(batched.highScore, batched.lowScore, l[layer][pos]) + 1e-9;
              assert.ok(Math.abs(v - l[layer][pos]) <= tolerance, `${kind} w${window} L${layer} p${pos}: batched ${v}, loop ${l[layer][pos]}`);
            }));
            // Positions before the subject were never corrupted: restoring them is the corrupted run.
            for (const row of b) for (let p = 0; p < prompt.subject[0]; p++) assert.equal(row[p], batched.lowScore);
          }
          // Restoring the last layer's residual stream at the last position is the clean run.
          const resid = batched.grids.resid?.scores as number[][];
          assert.ok(Math.abs(resid[model.config.nLayers - 1][6] - batched.highScore) < 1e-5 * batched.highScore + 1e-9);
        }
      } finally {
        model.dispose();
      }
    });
  }
});

describe('tracing options', () => {
  let model: HookedTransformer;
  before(async () => { model = await loadFixture('llama-tiny', ref); });
  after(() => model.dispose());
  const prompt = { tokens: [3, 44, 101, 7, 9], subject: [1, 3] as const };

  test('the default noise is 3 × the std of the subject tokens’ embeddings (Bessel-corrected)', async () => {
    const trace = await causalTrace(model, prompt, { kinds: ['resid'], samples: 2 });
    const rows = model.params.embed.toArray();
    const d = model.config.dModel;
    const values = [44, 101].flatMap((id) => Array.from(rows.subarray(id * d, (id + 1) * d)));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
    assert.ok(Math.abs(trace.noiseStd - 3 * std) < 1e-6 * std);
    assert.ok(Math.abs(embeddingStd(model, [44, 101]) - std) < 1e-6 * std);
  });

  test('zero noise: the corrupted run is the clean run and every restoration scores the high score', async () => {
    const trace = await causalTrace(model, prompt, { kinds: ['mlp'], samples: 2, noiseStd: 0, window: 1 });
    assert.ok(Math.abs(trace.lowScore - trace.highScore) < 1e-6);
    for (const row of trace.grids.mlp?.scores as number[][]) for (const v of row) assert.ok(Math.abs(v - trace.highScore) < 1e-6);
  });

  test('the seed fixes the noise; another seed changes it', async () => {
    const a = await causalTrace(model, prompt, { kinds: ['attn'], samples: 2, seed: 3 });
    const b = await causalTrace(model, prompt, { kinds: ['attn'], samples: 2, seed: 3 });
    const c = await causalTrace(model, prompt, { kinds: ['attn'], samples: 2, seed: 4 });
    assert.deepEqual(a.grids, b.grids);
    assert.notEqual(a.lowScore, c.lowScore);
  });

  test('progress counts restorations over all prompts; abort stops between passes; no tensors leak', async () => {
    const seen: [number, number][] = [];
    const traces = await causalTraceMany(model, [prompt, { ...prompt, subject: [2, 3] as const }], {
      kinds: ['resid', 'mlp'], samples: 2, window: 1, batchSize: 3, onProgress: (done, total) => seen.push([done, total]),
    });
    const layers = model.config.nLayers;
    const total = 2 * layers * (5 - 1) + 2 * layers * (5 - 2);
    assert.equal(traces.length, 2);
    assert.deepEqual(seen.at(-1), [total, total]);
    assert.ok(seen.every(([done], i) => i === 0 || done > seen[i - 1][0]));
    const controller = new AbortController();
    const aborted = causalTrace(model, prompt, { samples: 2, batchSize: 1, signal: controller.signal, onProgress: () => controller.abort(new Error('stop')) });
    await assert.rejects(aborted, /stop/);
    const start = ref.liveBuffers();
    await causalTrace(model, prompt, { samples: 2, batchSize: 4 });
    assert.equal(ref.liveBuffers(), start);
    assertNoLeak('embeddingStd', () => embeddingStd(model));
  });

  test('bad inputs are rejected with messages that name them', async () => {
    await assert.rejects(causalTrace(model, { ...prompt, subject: [3, 3] }), (e: Error) => e instanceof IndexError && /subject range \[3, 3\)/.test(e.message));
    await assert.rejects(causalTrace(model, { ...prompt, answer: 10_000 }), (e: Error) => e instanceof IndexError && /10000/.test(e.message));
    await assert.rejects(causalTrace(model, prompt, { kinds: ['mlpp' as 'mlp'] }), (e: Error) => e instanceof ArgumentError && /mlpp/.test(e.message));
    await assert.rejects(causalTrace(model, prompt, { samples: 0 }), ArgumentError);
    await assert.rejects(causalTraceMany(model, []), ArgumentError);
  });
});

test('token groups follow ROME’s summary (one-token subjects count as first and last)', () => {
  assert.deepEqual(tokenGroups(8, [2, 5]), {
    'first subject token': [2], 'middle subject tokens': [3], 'last subject token': [4],
    'first subsequent token': [5], 'further tokens': [6], 'last token': [7],
  });
  assert.deepEqual(tokenGroups(5, [3, 4]), {
    'first subject token': [3], 'middle subject tokens': [], 'last subject token': [3],
    'first subsequent token': [4], 'further tokens': [], 'last token': [4],
  });
  const fake = (scores: number[][], low: number, correct: boolean): CausalTraceResult => ({
    tokens: [1, 2, 3], subject: [1, 2], answer: 0, highScore: 1, lowScore: low, correct, noiseStd: 1, samples: 1,
    grids: { mlp: { window: 1, scores } },
  });
  const summary = traceSummary([fake([[0, 0.5, 0.2]], 0.1, true), fake([[0, 0.3, 0.4]], 0.2, true), fake([[0, 9, 9]], 0, false)], 'mlp');
  assert.equal(summary.prompts, 2);
  assert.ok(Math.abs(summary.effects[2][0] - (0.4 + 0.1) / 2) < 1e-12, 'last subject token: mean of restored − low');
  assert.ok(Math.abs(summary.effects[5][0] - (0.1 + 0.2) / 2) < 1e-12, 'last token');
  assert.ok(Number.isNaN(summary.effects[1][0]), 'no middle subject tokens');
  assert.ok(Math.abs(summary.totalEffect - (1 - 0.15)) < 1e-12);
  assert.deepEqual(strongestEffect(summary), { group: 'first subject token', layer: 0, effect: 0.25 });
});
