// The analysis commands on the Llama fixture (RMSNorm, rotary, grouped-query attention, SwiGLU;
// vocabulary 512 and no tokenizer): prompts go in as --ids, and steer, which prints text, gets a
// byte-level tokenizer written by the test. Also: tuned lenses (identity = the logit lens),
// the KL metric, GQA's missing k/v heads, and one-line errors for bad input.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import { klDivergence } from '../../src/analysis/metrics.js';
import { patchHeadsEvery } from '../../src/analysis/patching.js';
import { TunedLens } from '../../src/analysis/tuned-lens.js';
import { saveTunedLens } from '../../src/analysis/tuned-lens-file.js';
import { PNG_SCALE } from '../../src/cli/png.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { tensor, tidy } from '../../src/tensor/index.js';
import { makeTempDir, sharedFixtures } from '../io/fixture-paths.js';
import { assertPngOfSvg, readSvg, runOk, writeByteTokenizer } from './analysis-helpers.js';
import { assertCleanFailure, dissect } from './run-cli.js';

const folder = join(sharedFixtures, 'llama-tiny');
const common = [folder, '--backend', 'ref'];
const CLEAN = '1,17,83,200,17,83,5';
const CORRUPT = '1,17,83,200,17,90,5';

let model: HookedTransformer;
let dir: string;
let cleanup: () => void;

before(async () => {
  model = await loadModelFolder(folder, { backend: getBackend('ref') });
  ({ dir, cleanup } = makeTempDir('cli-analysis-llama'));
});

after(() => {
  model.dispose();
  cleanup();
});

const ids = (text: string) => text.split(',').map(Number);

function assertAllClose(actual: readonly (number | null)[], expected: ArrayLike<number>, what: string, tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const ok = Number.isNaN(expected[i]) ? actual[i] === null : Math.abs((actual[i] as number) - expected[i]) <= tolerance;
    assert.ok(ok, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('every analysis command runs on --ids, prints a table and writes a well-formed SVG', async () => {
  const runs: [string, string[]][] = [
    ['lens', ['lens', ...common, '--ids', CLEAN, '--target-id', '83']],
    ['heads', ['heads', ...common, '--ids', CLEAN]],
    ['patch', ['patch', ...common, '--clean-ids', CLEAN, '--corrupt-ids', CORRUPT, '--answer-id', '83', '--wrong-id', '90', '--target', 'attn_out']],
    ['attribute', ['attribute', ...common, '--ids', CLEAN, '--answer-id', '83', '--wrong-id', '90', '--heads']],
    ['neuron', ['neuron', ...common, '--ids', CLEAN, '--layer', '1', '--neuron', '171', '--top', '3']],
  ];
  const outputs = await Promise.all(runs.map(([name, args]) => runOk([...args, '--out', join(dir, `${name}.svg`)])));
  const heading: Record<string, RegExp> = {
    lens: /^logit lens \(fresh ln_final\) on 7 tokens; each cell: top token, P\("#83"\)\nlayer +0 "#1" +1 "#17"/,
    heads: /^head scores on the prompt \(7 tokens\)\ntokens: "#1" "#17" /,
    patch: /^logit difference at the last position: clean run .*\n\npatching attn_out \(rows: layer, columns: position\)\nlayer +0 "#1"/,
    attribute: /^direct logit attribution of logit\("#83"\) - logit\("#90"\) at position 6 \("#5"\)\ncomponent +attribution\nembed .*\n0_attn_out/,
    neuron: /^neuron L1N171: top 3 activations over 1 row\(s\); the activating token in «»\n/,
  };
  runs.forEach(([name], i) => {
    assert.match(outputs[i], heading[name], `${name} table:\n${outputs[i]}`);
    assert.ok(readSvg(join(dir, `${name}.svg`)).texts.length > 5, `${name}.svg has text`);
  });
});

test('dissect lens --tuned: an identity lens gives the logit lens; a shifted one equals TunedLens.logits', async () => {
  const identity = TunedLens.identity(model);
  const shifted = TunedLens.identity(model);
  const d = model.config.dModel;
  const bias = Float32Array.from({ length: d }, (_, i) => Math.sin(i) * 2);
  const moved = new TunedLens(shifted.weights, shifted.biases.map(() => tensor(bias, [d], { backend: model.backend })));
  await saveTunedLens(identity, join(dir, 'identity.safetensors'));
  await saveTunedLens(moved, join(dir, 'moved.safetensors'));
  const lensArgs = ['lens', ...common, '--ids', CLEAN, '--target-id', '83', '--top-k', '2', '--json'];
  const [plain, viaIdentity, viaMoved] = (await Promise.all([
    runOk(lensArgs), runOk([...lensArgs, '--tuned', join(dir, 'identity.safetensors')]), runOk([...lensArgs, '--tuned', join(dir, 'moved.safetensors')]),
  ])).map((out) => JSON.parse(out) as { top_tokens: number[][][]; top_probs: number[][][]; target_probs: number[][]; lens: string });
  assert.equal(viaIdentity.lens, 'tuned');
  assert.deepEqual(viaIdentity.top_tokens, plain.top_tokens);
  assertAllClose(viaIdentity.top_probs.flat(2), plain.top_probs.flat(2), 'identity top_probs');
  assertAllClose(viaIdentity.target_probs.flat(), plain.target_probs.flat(), 'identity target_probs');

  const names = Array.from({ length: model.config.nLayers }, (_, l) => `blocks.${l}.hook_resid_pre`);
  const { logits, cache } = model.runWithCache([ids(CLEAN)], { names });
  try {
    for (let l = 0; l < model.config.nLayers; l++) {
      const probs = tidy(() => moved.logits(model, cache.get(names[l]), l).softmax(-1).toArray());
      const target = Array.from({ length: 7 }, (_, p) => probs[p * model.config.dVocab + 83]);
      assertAllClose(viaMoved.target_probs[l], target, `layer ${l} target_probs`);
    }
    assertAllClose(viaMoved.target_probs[model.config.nLayers], plain.target_probs[model.config.nLayers], 'the last row is the model\'s own');
  } finally {
    logits.dispose();
    cache.dispose();
    identity.dispose();
    moved.dispose();
  }
});

test('dissect patch --target heads-every --metric kl: equals patchHeadsEvery; k and v beyond the kv heads are null', async () => {
  const args = ['patch', ...common, '--clean-ids', CLEAN, '--corrupt-ids', CORRUPT, '--target', 'heads-every', '--metric', 'kl'];
  const [, jsonText] = await Promise.all([runOk([...args, '--out', join(dir, 'heads-every.svg')]), runOk([...args, '--json', '--out', join(dir, 'heads-every.png')])]);
  assertPngOfSvg(join(dir, 'heads-every.png'), join(dir, 'heads-every.svg'), PNG_SCALE);
  const json = JSON.parse(jsonText) as { values: (number | null)[][][]; labels: { component: string[] } };
  assert.deepEqual(json.labels.component, ['z', 'q', 'k', 'v', 'pattern']);
  const cleanLogits = model.forward([ids(CLEAN)], { logitPositions: 'last' });
  const metric = klDivergence(cleanLogits);
  cleanLogits.dispose();
  const expected = await patchHeadsEvery(model, { cleanTokens: [ids(CLEAN)], corruptedTokens: [ids(CORRUPT)], metric });
  assertAllClose(json.values.flat(2), expected.values.toArray(), 'values');
  expected.values.dispose();
  assert.equal(json.values[2][0][model.config.nKvHeads], null, 'k has no head beyond the kv heads');
  assert.ok(readSvg(join(dir, 'heads-every.svg')).texts.includes('KV1'), 'k and v columns name kv heads');
});

test('dissect steer with a byte-level tokenizer: prints both continuations side by side', async () => {
  const tokenizer = writeByteTokenizer(dir);
  const args = ['steer', ...common, '--tokenizer', tokenizer, '--prompt', 'I think', '--pos-prompt', 'Joy', '--neg-prompt', 'Grief',
    '--layer', '1', '--coefficient', '4', '--max-new-tokens', '5'];
  const [out, jsonText] = await Promise.all([runOk([...args, '--out', join(dir, 'steer.svg')]), runOk([...args, '--json'])]);
  assert.match(out, /^steering resid_pre of layer 1 by 4 × "Joy" - "Grief" \(\|v\| = [\d.e-]+\)\nprompt: I think\n\nunsteered +│ steered \(×4\)\n─+ │ ─+\n/);
  readSvg(join(dir, 'steer.svg'));
  const json = JSON.parse(jsonText) as { vector_norm: number; unsteered: { ids: number[]; text: string } };
  assert.ok(json.vector_norm > 0);
  // The model's vocabulary (512) is larger than the tokenizer's (259): ids without a token print as '#id'.
  const unknown = json.unsteered.ids.filter((id) => id >= 259);
  for (const id of unknown) assert.ok(json.unsteered.text.includes(`#${id}`));

  const zero = await dissect(['steer', ...common, '--tokenizer', tokenizer, '--prompt', 'I think', '--pos-prompt', 'Love', '--neg-prompt', 'Hate', '--layer', '0', '--max-new-tokens', '1']);
  assert.equal(zero.code, 0);
  assert.match(zero.stderr, /^dissect: warning: the steering vector is all zeros \(the two prompts leave the same residual stream at their last token at layer 0;/);
});

test('bad input fails with one line naming the problem', async () => {
  const cases: [string[], RegExp][] = [
    [['lens', ...common, '--text', 'hello'], /has no tokenizer\.json; pass --tokenizer <tokenizer\.json> or give --ids/],
    [['lens', ...common, '--ids', '1,2,999'], /--ids: token id 999 is not in the model's vocabulary \(0\.\.511\)/],
    [['lens', ...common, '--ids', '1,2', '--out', 'figure.pdf'], /--out must end in \.svg or \.png, got 'figure\.pdf'/],
    [['patch', ...common, '--clean-ids', '1,2', '--corrupt-ids', '1,2,3', '--answer-id', '3', '--wrong-id', '4'], /the clean prompt has 2 tokens and the corrupted one 3/],
    [['patch', ...common, '--clean-ids', '1,2', '--corrupt-ids', '1,3', '--target', 'z_by_pos'], /--target must be one of resid_pre, .*; got 'z_by_pos'/],
    [['patch', ...common, '--clean-ids', '1,2', '--corrupt-ids', '1,3'], /--metric logit-diff needs --answer and --wrong/],
    [['attribute', ...common, '--ids', '1,2'], /attribute needs --answer/],
    [['neuron', ...common, '--ids', '1,2', '--layer', '0', '--neuron', '172'], /--neuron 172 is out of range 0\.\.171/],
    [['steer', ...common, '--prompt', 'x', '--layer', '0'], /give --pos-prompt and --neg-prompt, or --vector FILE/],
    [['heads', ...common, '--ids', '1,2', '--seed', '3'], /--random, --seq-len, --batch and --seed choose random tokens/],
  ];
  const results = await Promise.all(cases.map(([args]) => dissect(args)));
  results.forEach((result, i) => assertCleanFailure(result, cases[i][1], 2));
});
