// The analysis commands on the GPT-2 fixture (with the GPT-2 tokenizer via --tokenizer): each
// prints its table, writes an SVG that is well-formed XML and a PNG the size of that SVG at
// PNG_SCALE, and its --json numbers equal the library's for the same input (same ref backend).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import { decomposeResid, stackHeadResults } from '../../src/analysis/cache-analysis.js';
import { logitAttrs } from '../../src/analysis/direct-logit-attribution.js';
import { HEAD_KINDS, detectHeads, repeatedRandomTokens } from '../../src/analysis/head-detection.js';
import { runLogitLens } from '../../src/analysis/logit-lens.js';
import { logitDiff, answerProbability, normalisedMetric } from '../../src/analysis/metrics.js';
import { neuronValueTokens, topActivatingExamples } from '../../src/analysis/neurons.js';
import { activationPatching, metricBaselines, patchBlockEvery } from '../../src/analysis/patching.js';
import { contrastVector, steeringHook } from '../../src/analysis/steering.js';
import { PNG_SCALE } from '../../src/cli/png.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import { Tokenizer } from '../../src/io/tokenizer.js';
import { generate } from '../../src/models/generate.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { dispose } from '../../src/tensor/index.js';
import { makeTempDir, sharedFixtures } from '../io/fixture-paths.js';
import { assertPngOfSvg, readSvg, runOk } from './analysis-helpers.js';
import { GPT2_TOKENIZER } from './run-cli.js';

const folder = join(sharedFixtures, 'gpt2-tiny');
const common = [folder, '--tokenizer', GPT2_TOKENIZER, '--backend', 'ref'];
const PROMPT = 'When Mary and John went to the store, John gave a drink to';
const CORRUPT = 'When Mary and John went to the store, Mary gave a drink to';
const TOLERANCE = 1e-5;

let model: HookedTransformer;
let tokenizer: Tokenizer;
let dir: string;
let cleanup: () => void;

before(async () => {
  model = await loadModelFolder(folder, { backend: getBackend('ref') });
  tokenizer = await Tokenizer.fromFile(GPT2_TOKENIZER);
  ({ dir, cleanup } = makeTempDir('cli-analysis'));
});

after(() => {
  model.dispose();
  cleanup();
});

function assertAllClose(actual: readonly number[], expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const ok = Number.isNaN(expected[i]) ? actual[i] === null || Number.isNaN(actual[i]) : Math.abs(actual[i] - expected[i]) <= TOLERANCE;
    assert.ok(ok, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const id = (text: string) => tokenizer.encode(text, { addSpecialTokens: false })[0];

/** Runs the command twice in parallel: a table with --out .svg, and --json with --out .png. */
async function tableAndJson(name: string, args: string[]): Promise<{ table: string; json: Record<string, unknown>; svg: ReturnType<typeof readSvg> }> {
  const svgPath = join(dir, `${name}.svg`);
  const pngPath = join(dir, `${name}.png`);
  const [table, json] = await Promise.all([runOk([...args, '--out', svgPath]), runOk([...args, '--json', '--out', pngPath])]);
  assert.match(table, new RegExp(`wrote ${svgPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`));
  assertPngOfSvg(pngPath, svgPath, PNG_SCALE);
  return { table, json: JSON.parse(json) as Record<string, unknown>, svg: readSvg(svgPath) };
}

test('dissect lens: table, figure, and --json equal to runLogitLens', async () => {
  const { table, json, svg } = await tableAndJson('lens', ['lens', ...common, '--text', PROMPT, '--target', ' Mary', '--top-k', '3']);
  assert.match(table, /^logit lens \(fresh ln_final\) on 14 tokens; each cell: top token, P\(" Mary"\)\n/);
  assert.match(table, /\n0_pre +"When" /);
  assert.match(table, /\nfinal_post /);
  assert.ok(svg.texts.includes('Logit lens') && svg.texts.includes('␣Mary 1') && svg.texts.includes('P(" Mary")'));

  const ids = tokenizer.encode(PROMPT);
  assert.deepEqual(json.input_ids, ids);
  const expected = runLogitLens(model, [ids], { targets: id(' Mary'), topK: 3 });
  try {
    assert.deepEqual((json.top_tokens as number[][][]).flat(2), Array.from(expected.topTokens.toArray()));
    assertAllClose((json.top_probs as number[][][]).flat(2), expected.topProbs.toArray(), 'top_probs');
    assertAllClose((json.target_probs as number[][]).flat(), (expected.targetProbs as NonNullable<typeof expected.targetProbs>).toArray(), 'target_probs');
    assert.deepEqual((json.target_ranks as number[][]).flat(), Array.from((expected.targetRanks as NonNullable<typeof expected.targetRanks>).toArray()));
    assert.deepEqual(json.rows, ['0_pre', '1_pre', 'final_post']);
  } finally {
    dispose(expected);
  }
  const withBos = JSON.parse(await runOk(['lens', ...common, '--text', PROMPT, '--bos', '--json'])) as { input_ids: number[] };
  assert.deepEqual(withBos.input_ids, [50256, ...ids], '--bos prepends the model\'s BOS token');
});

test('dissect heads: random repeated tokens by default; scores equal detectHeads', async () => {
  const { table, json, svg } = await tableAndJson('heads', ['heads', ...common, '--seq-len', '8', '--batch', '2', '--seed', '3']);
  assert.match(table, /^head scores on 2 rows of 8 random tokens repeated twice \(seed 3\)\nhead +previous_token +duplicate_token +induction\nL0H0 /);
  assert.match(table, /\nstrongest: previous_token L\dH\d \(/);
  assert.ok(svg.texts.includes('induction score'));
  const rows = repeatedRandomTokens(model, { length: 8, batch: 2, seed: 3 });
  assert.deepEqual(json.tokens, rows);
  const scores = json.scores as Record<string, number[][]>;
  for (const kind of HEAD_KINDS) {
    const expected = detectHeads(model, rows, kind);
    assertAllClose(scores[kind].flat(), expected.toArray(), kind);
    expected.dispose();
  }
});

test('dissect patch --target every: tables per component; values and baselines equal patchBlockEvery', async () => {
  const args = ['patch', ...common, '--clean', PROMPT, '--corrupt', CORRUPT, '--answer', ' Mary', '--wrong', ' John', '--target', 'every'];
  const { table, json, svg } = await tableAndJson('patch', args);
  assert.match(table, /^logit difference at the last position: clean run -?[\d.]+, corrupted run -?[\d.]+\n/);
  for (const component of ['resid_pre', 'attn_out', 'mlp_out']) assert.ok(table.includes(`\npatching ${component} (rows: layer, columns: position)\n`));
  assert.ok(svg.texts.includes('patching mlp_out'));
  const clean = tokenizer.encode(PROMPT);
  const corrupted = tokenizer.encode(CORRUPT);
  const metric = logitDiff(id(' Mary'), id(' John'));
  const expected = await patchBlockEvery(model, { cleanTokens: [clean], corruptedTokens: [corrupted], metric });
  assertAllClose((json.values as number[][][]).flat(2), expected.values.toArray(), 'values');
  expected.values.dispose();
  const baselines = metricBaselines(model, metric, { cleanTokens: [clean], corruptedTokens: [corrupted] });
  assertAllClose([(json.baselines as { clean: number }).clean, (json.baselines as { corrupted: number }).corrupted], [baselines.clean, baselines.corrupted], 'baselines');
  assert.deepEqual(json.axes, ['component', 'layer', 'pos']);
});

test('dissect patch --target z --metric prob --normalise equals the library\'s normalised sweep', async () => {
  const out = await runOk(['patch', ...common, '--clean', PROMPT, '--corrupt', CORRUPT, '--answer', ' Mary', '--target', 'z', '--metric', 'prob', '--normalise', '--json']);
  const json = JSON.parse(out) as { values: number[][]; axes: string[] };
  const clean = tokenizer.encode(PROMPT);
  const corrupted = tokenizer.encode(CORRUPT);
  const raw = answerProbability(id(' Mary'));
  const metric = normalisedMetric(raw, metricBaselines(model, raw, { cleanTokens: [clean], corruptedTokens: [corrupted] }));
  const expected = await activationPatching(model, 'z', { cleanTokens: [clean], corruptedTokens: [corrupted], metric });
  assert.deepEqual(json.axes, ['layer', 'head']);
  assertAllClose(json.values.flat(), expected.values.toArray(), 'values');
  expected.values.dispose();
});

test('dissect attribute --heads: components and heads equal logitAttrs, and sum to the model\'s logit difference', async () => {
  const { table, json, svg } = await tableAndJson('attribute', ['attribute', ...common, '--text', PROMPT, '--answer', ' Mary', '--wrong', ' John', '--heads']);
  assert.match(table, /^direct logit attribution of logit\(" Mary"\) - logit\(" John"\) at position 13 \(" to"\)\ncomponent +attribution\nembed /);
  assert.match(table, /\nper head /);
  assert.ok(svg.texts.includes('per component') && svg.texts.includes('per attention head'));

  const ids = tokenizer.encode(PROMPT);
  const target = { token: id(' Mary'), against: id(' John') };
  const { logits, cache } = model.runWithCache([ids]);
  try {
    const stack = decomposeResid(model, cache, { pos: 13 });
    const attrs = logitAttrs(model, cache, stack.stack, target, { pos: 13 });
    const components = json.components as { label: string; attribution: number }[];
    assert.deepEqual(components.map((c) => c.label), stack.labels);
    assertAllClose(components.map((c) => c.attribution), attrs.attributions.toArray(), 'components');
    assertAllClose([json.constant as number], attrs.constant.toArray(), 'constant');
    const heads = stackHeadResults(model, cache, { pos: 13 });
    const headAttrs = logitAttrs(model, cache, heads.stack, target, { pos: 13 });
    assertAllClose((json.heads as { attribution: number }[]).map((h) => h.attribution), headAttrs.attributions.toArray(), 'heads');
    const row = logits.select(1, 13).reshape(-1).toArray();
    const modelDiff = row[target.token] - row[target.against];
    assert.ok(Math.abs((json.model_logit as number) - modelDiff) < TOLERANCE);
    assert.ok(Math.abs((json.total as number) - modelDiff) < 1e-4, `components sum to ${json.total}, the model's logit difference is ${modelDiff}`);
    dispose([stack, attrs, heads, headAttrs]);
  } finally {
    logits.dispose();
    cache.dispose();
  }
});

test('dissect steer: side-by-side text; a saved vector reproduces the run; generations equal the library\'s', async () => {
  const vector = join(dir, 'love-hate.safetensors');
  const steer = ['steer', ...common, '--prompt', 'I think dogs are', '--layer', '1', '--coefficient', '8', '--max-new-tokens', '6'];
  const table = await runOk([...steer, '--pos-prompt', 'Love', '--neg-prompt', 'Hate', '--save-vector', vector, '--out', join(dir, 'steer.svg')]);
  assert.match(table, /^steering resid_pre of layer 1 by 8 × "Love" - "Hate" \(\|v\| = [\d.e-]+\)\nprompt: I think dogs are\n\nunsteered +│ steered \(×8\)\n/);
  assert.match(table, /\nraised +Δp +lowered +Δp\n/);
  readSvg(join(dir, 'steer.svg'));
  const [fromFile, jsonText] = await Promise.all([
    runOk([...steer, '--vector', vector, '--out', join(dir, 'steer-file.svg')]),
    runOk([...steer, '--vector', vector, '--json', '--out', join(dir, 'steer.png')]),
  ]);
  assertPngOfSvg(join(dir, 'steer.png'), join(dir, 'steer-file.svg'), PNG_SCALE);
  const generations = (text: string) => text.slice(text.indexOf('\nprompt:'), text.indexOf('\nwrote'));
  assert.equal(generations(fromFile), generations(table), 'the saved vector steers as the contrast did');
  const json = JSON.parse(jsonText) as {
    unsteered: { ids: number[]; text: string }; steered: { ids: number[] }; shifts: { up: { id: number; delta: number }[] };
  };

  const ids = tokenizer.encode('I think dogs are');
  const v = contrastVector(model, { layer: 1, positive: [tokenizer.encode('Love')], negative: [tokenizer.encode('Hate')] });
  const hook = steeringHook(model, v, { layer: 1, coefficient: 8 });
  v.dispose();
  const plain = await generate(model, ids, { maxNewTokens: 6, stopTokenIds: [], seed: 0 });
  const steered = await generate(model, ids, { maxNewTokens: 6, stopTokenIds: [], seed: 0, hooks: [hook] });
  assert.deepEqual(json.unsteered.ids, plain.tokens[0]);
  assert.equal(json.unsteered.text, tokenizer.decode(plain.tokens[0], { skipSpecialTokens: true }));
  assert.deepEqual(json.steered.ids, steered.tokens[0]);
  const shifts = json.shifts.up.map((s) => s.delta);
  assert.deepEqual(shifts, [...shifts].sort((a, b) => b - a), 'raised tokens are sorted by the change');
});

test('dissect neuron --corpus: contexts and vocabulary projection equal the library\'s', async () => {
  const corpus = join(dir, 'corpus.txt');
  const lines = [PROMPT, 'The quick brown fox jumps over the lazy dog.', '', 'Paris is the capital of France.'];
  writeFileSync(corpus, lines.join('\n'));
  const { table, json, svg } = await tableAndJson('neuron', ['neuron', ...common, '--layer', '1', '--neuron', '7', '--corpus', corpus, '--top', '4', '--vocab', '3']);
  assert.match(table, /^neuron L1N7: top 4 activations over 3 row\(s\); the activating token in «»\nrank +activation +row:pos +context\n +1 /);
  assert.match(table, /\npromoted +logit +suppressed +logit\n/);
  assert.ok(svg.texts.includes('promoted and suppressed tokens'));

  const rows = lines.filter((l) => l !== '').map((l) => tokenizer.encode(l));
  const [examples] = topActivatingExamples(model, rows, 1, 7, { k: 4, window: { before: 8, after: 2 } });
  const got = json.examples as { row: number; position: number; activation: number; context_ids: number[] }[];
  assert.deepEqual(got.map((e) => [e.row, e.position, e.context_ids]), examples.map((e) => [e.row, e.position, e.context]));
  assertAllClose(got.map((e) => e.activation), examples.map((e) => e.activation), 'activations');
  const vocab = neuronValueTokens(model, 1, 7, { k: 3 });
  vocab.value.dispose();
  assert.deepEqual((json.top as { id: number }[]).map((t) => t.id), vocab.top.map((t) => t.token));
  assertAllClose((json.bottom as { value: number }[]).map((t) => t.value), vocab.bottom.map((t) => t.value), 'bottom');
});
