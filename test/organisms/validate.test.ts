// The method validation report on the shipped organisms: head detection finds attn-only-2l's
// induction (layer 1) and previous-token (layer 0) heads, the superposition toy represents more
// features than dimensions only when sparse, activation patching on world-4l's IOI prompts
// localises the effect to a few heads at END with a name mover among them (its hand-made plan
// checked against the generic sweep, its verdict against reports built to fail), fact location's
// patching has the exact zeros causality requires, and `dissect validate` prints the checks with
// the right exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import '../../src/index.js';
import { loadModel } from '../../src/io/load.js';
import { activationPatching, metricBaselines } from '../../src/analysis/patching.js';
import { logitDiff } from '../../src/analysis/metrics.js';
import type { Tokenizer } from '../../src/io/tokenizer.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { FACT_TEMPLATES } from '../../src/organisms/data/facts.js';
import { ioiEvalSet } from '../../src/organisms/data/ioi.js';
import { wordToken } from '../../src/organisms/evaluate.js';
import { factLocation } from '../../src/organisms/fact-location.js';
import {
  causalTracingCheck, headDetectionCheck, ioiPatchingCheck, superpositionCheck, type ValidationCheck,
} from '../../src/organisms/validate.js';
import { IOI_RULES, ioiHeadReport, ioiVerdict } from '../../src/organisms/validate-ioi.js';
import { tracePrompts } from '../../src/organisms/validate-tracing.js';
import { WORLD_4L } from '../../src/organisms/recipes.js';
import { Rng } from '../../src/tensor/index.js';
import { repoRoot } from '../io/fixture-paths.js';
import { dissect } from '../cli/run-cli.js';

const models = join(repoRoot, 'models');

test('validate: head detection on attn-only-2l puts induction heads in layer 1 and previous-token heads in layer 0', async () => {
  const { model, tokenizer } = await loadModel(join(models, 'attn-only-2l'));
  try {
    const check = headDetectionCheck(model, tokenizer!);
    const n = check.numbers;
    assert.equal(check.status, 'pass', check.summary);
    assert.ok(n.induction_layer1_max - n.induction_layer0_max >= 0.1, check.summary);
    assert.ok(n.previous_token_layer0_max - n.previous_token_layer1_max >= 0.1, check.summary);
    for (const v of Object.values(n)) assert.ok(v >= 0 && v <= 1, `scores are shares of attention: ${check.summary}`);
  } finally {
    model.dispose();
  }
});

test('validate: superposition-toy represents more features than dimensions only when sparse', async () => {
  const check = await superpositionCheck(join(models, 'superposition-toy'));
  assert.equal(check.status, 'pass', check.summary);
  assert.ok(check.numbers['represented_at_S=0'] <= check.numbers.n_hidden, check.summary);
});

async function withWorld<T>(fn: (model: HookedTransformer, tokenizer: Tokenizer) => Promise<T>): Promise<T> {
  const { model, tokenizer } = await loadModel(join(models, 'world-4l'));
  try {
    return await fn(model, tokenizer!);
  } finally {
    model.dispose();
  }
}

test('validate: IOI patching on world-4l localises the effect to a few heads reading the names at END, a name mover among them', async () => {
  const check = await withWorld((model, tokenizer) => ioiPatchingCheck(model, tokenizer));
  const n = check.numbers;
  // Swapping IO and S flips the answer, so the logit difference must change sign.
  assert.ok(n.clean_logit_diff > 1 && n.corrupted_logit_diff < -1, check.summary);
  const heads = Object.keys(n).filter((k) => k.endsWith('_patch_effect')).map((k) => k.slice(0, -'_patch_effect'.length));
  assert.equal(heads.length, n.effect_heads);
  for (const h of heads) {
    assert.ok(n[`${h}_patch_effect`] >= IOI_RULES.effectHead, check.summary);
    const attention = [n[`${h}_attn_to_io`], n[`${h}_attn_to_s1`], n[`${h}_attn_to_s2`]];
    assert.ok(attention.every((a) => a >= 0) && attention.reduce((x, y) => x + y) <= 1 + 1e-5, check.summary);
  }
  // Path effects into a name mover's query are shares of the same logit difference.
  for (const key of Object.keys(n).filter((k) => k.endsWith('_query_path'))) assert.ok(n[key] > -0.2 && n[key] < 1.2, `${key}: ${check.summary}`);
  assert.equal(check.status, 'pass', check.summary);
});

test('validate: the END-position head patching agrees with the generic z_by_pos sweep at the last position', async () => {
  await withWorld(async (model, tokenizer) => {
    const report = await ioiHeadReport(model, tokenizer, { count: 6, seed: 5 });
    // Recompute the same effects with activationPatching's own (layer, pos, head) plan, one group at a time.
    const expected = new Map<string, number>();
    const prompts = ioiEvalSet(new Rng(5), 6);
    const byLength = new Map<number, typeof prompts>();
    for (const p of prompts) {
      const length = tokenizer.encode(p.prompt, { addSpecialTokens: false }).length;
      byLength.set(length, [...(byLength.get(length) ?? []), p]);
    }
    let clean = 0;
    let corrupted = 0;
    const sums = new Float64Array(model.config.nLayers * model.config.nHeads);
    for (const [T, group] of byLength) {
      const cleanTokens = group.map((p) => tokenizer.encode(p.prompt, { addSpecialTokens: false }));
      const io = group.map((p) => wordToken(tokenizer, p.io));
      const s = group.map((p) => wordToken(tokenizer, p.s));
      const corruptedTokens = cleanTokens.map((row, b) => row.map((t) => (t === io[b] ? s[b] : t === s[b] ? io[b] : t)));
      const metric = logitDiff(io, s);
      const base = metricBaselines(model, metric, { cleanTokens, corruptedTokens });
      const result = await activationPatching(model, 'z_by_pos', { cleanTokens, corruptedTokens, metric });
      const values = result.values.toArray(); // [layer, pos, head]
      result.values.dispose();
      const w = group.length / prompts.length;
      const H = model.config.nHeads;
      sums.forEach((_, i) => { sums[i] += w * (values[(Math.floor(i / H) * T + T - 1) * H + (i % H)] - base.corrupted); });
      clean += w * base.clean;
      corrupted += w * base.corrupted;
    }
    sums.forEach((v, i) => expected.set(`L${Math.floor(i / model.config.nHeads)}H${i % model.config.nHeads}`, v / (clean - corrupted)));
    assert.ok(Math.abs(report.cleanLogitDiff - clean) < 1e-4 && Math.abs(report.corruptedLogitDiff - corrupted) < 1e-4);
    for (const h of report.heads) assert.ok(Math.abs(h.effect - expected.get(`L${h.layer}H${h.head}`)!) < 1e-4, `L${h.layer}H${h.head}`);
  });
});

test('validate: the IOI verdict fails when the effect is spread out, when a head reads no names, or when no head is a name mover', () => {
  const head = (layer: number, effect: number, attnIo: number, attnS2: number, directEffect = 0.3) => ({
    layer, head: 0, effect, attnIo, attnS1: 0, attnS2, directEffect,
  });
  const report = (heads: ReturnType<typeof head>[]) => ({ prompts: 1, cleanLogitDiff: 3, corruptedLogitDiff: -3, heads });
  const moverAndInhibitor = [head(3, 0.5, 0.8, 0.1), head(3, 0.4, 0.05, 0.9), head(1, 0.01, 0, 0)];
  assert.equal(ioiVerdict(report(moverAndInhibitor), 16).pass, true);
  assert.deepEqual(ioiVerdict(report(moverAndInhibitor), 16).effectHeads.map((h) => h.effect), [0.5, 0.4]);
  // Spread over five of sixteen heads: not localised.
  assert.equal(ioiVerdict(report([...Array(5)].map(() => head(3, 0.2, 0.8, 0.1))), 16).pass, false);
  // The heads that matter attend elsewhere.
  assert.equal(ioiVerdict(report([head(3, 0.5, 0.8, 0.1), head(2, 0.4, 0.1, 0.1)]), 16).pass, false);
  // Only S attenders, or an IO attender that writes against IO: no name mover.
  assert.equal(ioiVerdict(report([head(3, 0.5, 0.05, 0.9), head(3, 0.4, 0.1, 0.8)]), 16).pass, false);
  assert.equal(ioiVerdict(report([head(3, 0.9, 0.8, 0.1, -0.2)]), 16).pass, false);
  // Too little restored in total, or the clean run not preferring IO.
  assert.equal(ioiVerdict(report([head(3, 0.2, 0.8, 0.1)]), 16).pass, false);
  assert.equal(ioiVerdict({ ...report(moverAndInhibitor), cleanLogitDiff: -4 }, 16).pass, false);
});

test('fact location: effects per layer, and exactly none from the last layer\'s MLP at the subject (nothing after it reads other positions)', async () => {
  await withWorld(async (model, tokenizer) => {
    const location = await factLocation(model, tokenizer, 'capital', FACT_TEMPLATES.capital.train[0]);
    const L = model.config.nLayers;
    assert.equal(location.prompts, 24);
    assert.ok(location.clean > 1 && location.corrupted < -1, `the model knows the capitals: ${location.clean} / ${location.corrupted}`);
    for (const values of [location.mlpAtSubject, location.attnAtEnd, location.mlpAtEnd]) {
      assert.equal(values.length, L);
      assert.ok(values.every(Number.isFinite));
    }
    assert.ok(Math.abs(location.mlpAtSubject[L - 1]) < 1e-5, `${location.mlpAtSubject}`);
    // At the last position the last MLP feeds the logits directly: restoring it must move the metric.
    assert.ok(location.mlpAtEnd.some((v) => Math.abs(v) > 0.05), `${location.mlpAtEnd}`);
  });
});

test('validate: causal tracing on world-4l peaks at the MLPs at the last subject token, in the layers its card names', async () => {
  await withWorld(async (model, tokenizer) => {
    const prompts = tracePrompts(tokenizer, 2);
    assert.equal(prompts.length, 6);
    for (const p of prompts) {
      // The subject range covers the subject's words: one token for a country, two for a person.
      const words = tokenizer.decode(p.tokens.slice(p.subject[0], p.subject[1])).trim().split(' ');
      assert.ok(words.length >= 1 && words.length <= 2 && words.every((w) => /^[A-Z][a-z]+$/.test(w)), tokenizer.decode(p.tokens));
    }
    const check = await causalTracingCheck(model, tokenizer, { factLayers: WORLD_4L.factLayers ?? [], subjectsPerRelation: 4 });
    const n = check.numbers;
    assert.ok(n.high_score > n.low_score, check.summary);
    assert.ok(n.prompts_correct > 0 && n.prompts_correct <= n.prompts_traced, check.summary);
    // Nothing after the last layer reads other positions: its MLP at the subject cannot matter.
    assert.ok(Math.abs(n[`mlp${model.config.nLayers - 1}_at_last_subject_token`]) < 1e-6, check.summary);
    assert.equal(check.status, 'pass', check.summary);
    // The same trace with the wrong layers named fails.
    const wrong = await causalTracingCheck(model, tokenizer, { factLayers: [model.config.nLayers - 1], subjectsPerRelation: 4 });
    assert.equal(wrong.status, 'fail', wrong.summary);
  });
});

test('dissect validate: prints every check, --json matches, exit code 1 exactly when a check fails', async () => {
  const json = await dissect(['validate', '--json']);
  const checks = JSON.parse(json.stdout) as ValidationCheck[];
  assert.deepEqual(checks.map((c) => c.method), ['head detection', 'activation patching', 'causal tracing', 'superposition']);
  const failed = checks.filter((c) => c.status === 'fail').length;
  assert.equal(json.code, failed > 0 ? 1 : 0, json.stderr);
  const table = await dissect(['validate']);
  assert.equal(table.code, json.code, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0], /^organism\s+method\s+result\s+numbers$/);
  for (const c of checks) {
    assert.ok(lines.some((line) => line.includes(c.organism) && line.includes(c.method) && line.includes(c.status)), `${c.method} row:\n${table.stdout}`);
  }
  assert.equal(lines.at(-1), failed === 0 ? 'all checks passed' : `${failed} of ${checks.length} checks failed`);
});
