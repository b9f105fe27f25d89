// `dissect sae dashboard` on the shipped world-4l model with a random SAE saved in SAELens's
// layout: the files it writes, their JSON against the corpus it read, --top ranking, --json, the
// default corpus, and usage errors.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { saeDashboardCommand } from '../../src/cli/commands/sae-dashboard.js';
import { UsageError } from '../../src/cli/flags.js';
import type { Terminal } from '../../src/cli/terminal.js';
import { loadModel } from '../../src/io/load.js';
import { Tokenizer } from '../../src/io/tokenizer.js';
import { world } from '../../src/organisms/world.js';
import { DASHBOARD_INDEX_SCHEMA, FEATURE_DASHBOARD_SCHEMA, type DashboardIndex, type FeatureDashboard } from '../../src/sae/dashboard-data.js';
import { saveSAE } from '../../src/sae/saelens-files.js';
import { makeTempDir, repoRoot } from '../io/fixture-paths.js';
import { inputStats, randomSae, ref } from './dashboard-helpers.js';

const MODEL = join(repoRoot, 'models', 'world-4l');
const CORPUS = join(repoRoot, 'docs', 'examples', 'world-4l-corpus.txt');
const HOOK = 'blocks.1.hook_resid_post';
const D_SAE = 64;
let temp: ReturnType<typeof makeTempDir>;
let saeDir: string;
let tokenizer: Tokenizer;

before(async () => {
  temp = makeTempDir('sae-dashboard-cli');
  saeDir = join(temp.dir, 'sae');
  tokenizer = await Tokenizer.fromFile(join(MODEL, 'tokenizer.json'));
  const { model } = await loadModel(MODEL, { backend: ref });
  const rows = readFileSync(CORPUS, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => tokenizer.encode(l));
  const sae = randomSae(HOOK, 1, model.config.dModel, D_SAE, 3, inputStats(model, HOOK, rows, model.config.dModel));
  await saveSAE(sae, saeDir);
  sae.dispose();
  model.dispose();
});

after(() => temp.cleanup());

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const terminal: Terminal = { out: (text) => (out += text), err: () => {}, errIsTTY: false };
  const code = await saeDashboardCommand.execute(args, terminal, { signal: new AbortController().signal });
  return { code, out };
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

test('--features writes a page and a JSON file per feature and an index', async () => {
  const out = join(temp.dir, 'chosen');
  const result = await run(['--sae', saeDir, '--features', '3,0', '--corpus', CORPUS, '--out', out]);
  assert.equal(result.code, 0);
  assert.match(result.out, /2 feature dashboard\(s\) of blocks\.1\.hook_resid_post/);
  for (const file of ['index.html', 'index.json', 'feature-0.html', 'feature-0.json', 'feature-3.html', 'feature-3.json']) {
    assert.ok(existsSync(join(out, file)), `${file} written`);
  }
  // Counted tokens: every token of every line, BOS (prepended to each line) left out.
  const bos = readJson<{ bos_token_id: number }>(join(MODEL, 'config.json')).bos_token_id;
  const lines = readFileSync(CORPUS, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const counted = lines.reduce((sum, line) => sum + tokenizer.encode(line).filter((id) => id !== bos).length, 0);
  const index = readJson<DashboardIndex>(join(out, 'index.json'));
  assert.equal(index.schema, DASHBOARD_INDEX_SCHEMA);
  assert.deepEqual(index.features.map((f) => f.feature), [3, 0], 'in the order asked');
  for (const f of index.features) {
    const d = readJson<FeatureDashboard>(join(out, f.json));
    assert.equal(d.schema, FEATURE_DASHBOARD_SCHEMA);
    assert.equal(d.feature, f.feature);
    assert.deepEqual([d.corpus.rows, d.corpus.tokens, d.corpus.excluded_token_ids], [lines.length, counted, [bos]]);
    assert.equal(d.sae.d_sae, D_SAE);
    assert.ok(Math.abs(d.density * counted - d.fired_tokens) < 1e-3, 'density is fired / counted');
    if (d.fired_tokens > 0) assert.equal(d.max_activation, d.top_examples[0].activation);
    assert.equal(d.logit_effects?.positive.length, 10);
    const html = readFileSync(join(out, f.html), 'utf8');
    assert.match(html, new RegExp(`<h1>Feature ${f.feature}</h1>`));
    assert.match(html, /href="index\.html"/);
  }
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /href="feature-3\.html"/);
});

test('--top ranks the features that fired; --json prints the index', async () => {
  const out = join(temp.dir, 'top');
  const result = await run(['--sae', saeDir, '--top', '4', '--rank', 'max', '--corpus', CORPUS, '--out', out, '--json']);
  assert.equal(result.code, 0);
  const printed = JSON.parse(result.out) as DashboardIndex;
  assert.deepEqual(printed, readJson<DashboardIndex>(join(out, 'index.json')));
  const maxima = printed.features.map((f) => f.max_activation);
  assert.equal(maxima.length, 4);
  assert.deepEqual(maxima, [...maxima].sort((a, b) => b - a), 'largest max activation first');
  // No feature left out had a larger maximum: scan them all with --features and compare.
  const all = await run(['--sae', saeDir, '--features', Array.from({ length: D_SAE }, (_, i) => i).join(','), '--corpus', CORPUS,
    '--out', join(temp.dir, 'all'), '--json']);
  const everyMax = (JSON.parse(all.out) as DashboardIndex).features.map((f) => f.max_activation).sort((a, b) => b - a);
  assert.deepEqual(maxima, everyMax.slice(0, 4));
});

test('the default corpus is world-4l\'s training mixture when the model speaks its vocabulary', async () => {
  const out = join(temp.dir, 'default');
  const args = ['--sae', saeDir, '--top', '2', '--tokens', '300', '--out', out];
  if (tokenizer.vocabSize === world().tokenizer.vocabSize) {
    assert.equal((await run(args)).code, 0);
    const index = readJson<DashboardIndex>(join(out, 'index.json'));
    assert.equal(index.corpus.name, "world-4l's training mixture");
    assert.ok(index.corpus.rows * 128 >= 300 && index.corpus.rows >= 3);
  } else {
    // The shipped checkpoint predates the current world vocabulary (a retraining is due).
    await assert.rejects(run(args), (e: Error) => e instanceof UsageError && /not the synthetic world's/.test(e.message));
  }
});

test('usage errors name the problem', async () => {
  const cases: [string[], RegExp][] = [
    [['--features', '1', '--out', 'x'], /needs --sae/],
    [['--sae', saeDir, '--features', '1', '--top', '2', '--out', 'x'], /exactly one of --features and --top/],
    [['--sae', saeDir, '--features', '1,a', '--out', 'x'], /--features expects feature indices/],
    [['--sae', saeDir, '--features', '1', '--rank', 'max', '--out', 'x'], /--rank goes with --top/],
    [['--sae', saeDir, '--top', '2', '--rank', 'loud', '--out', 'x'], /--rank must be one of density, max, mean/],
    [['--sae', saeDir, '--features', `${D_SAE}`, '--corpus', CORPUS, '--out', join(temp.dir, 'bad')], new RegExp(`${D_SAE} is out of range 0\\.\\.${D_SAE - 1}`)],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(run([MODEL, ...args]), (e: Error) => e instanceof UsageError && message.test(e.message), `${args.join(' ')}`);
  }
});
