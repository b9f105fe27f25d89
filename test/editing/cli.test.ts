// `dissect trace` and `dissect edit` on the embedded world-4l, as a user runs them: JSON results
// consistent with their definitions, figures, the statistics cache, saving, and usage errors.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseSvg } from '../cli/analysis-helpers.js';
import { assertCleanFailure, dissect } from '../cli/run-cli.js';
import { makeTempDir } from '../io/fixture-paths.js';
import { fixtureFolder } from '../models/helpers.js';

const temp = makeTempDir('editing-cli');
after(() => temp.cleanup());

test('dissect trace --json: grids per kind, untouched before the subject, the figure marks the subject', async () => {
  const out = join(temp.dir, 'trace.svg');
  const result = await dissect(['trace', '--prompt', 'The capital of Veloria is', '--subject', 'Veloria', '--kind', 'mlp',
    '--window', '1', '--samples', '3', '--json', '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  const [start, end] = json.subject_range;
  assert.equal(json.token_strings.slice(start, end).join('').trim(), 'Veloria');
  assert.deepEqual(Object.keys(json.grids), ['mlp']);
  const { scores, indirect_effects: effects, strongest } = json.grids.mlp;
  assert.equal(scores.length, 4);
  for (const row of scores) for (let p = 0; p < start; p++) assert.equal(row[p], json.low_score);
  effects.forEach((row: number[], l: number) => row.forEach((e, p) => assert.ok(Math.abs(e - (scores[l][p] - json.low_score)) < 1e-12)));
  assert.ok(strongest.effect >= Math.max(...effects.flat()) - 1e-12);
  const svg = await readFile(out, 'utf8');
  parseSvg(svg);
  assert.ok(svg.includes('Veloria*'));
});

test('dissect edit: rewrites the fact, reuses cached statistics, saves a loadable folder', async () => {
  const stats = join(temp.dir, 'stats');
  const saved = join(temp.dir, 'edited');
  const args = ['edit', '--prompt', 'The capital of {} is', '--subject', 'Veloria', '--new', ' Brellin', '--layer', '0',
    '--paraphrase', 'In Veloria, the capital is', '--paraphrase', 'The seat of power in Veloria is its capital,',
    '--neighbour', 'The capital of Dunmere is', '--documents', '150', '--stats-dir', stats, '--json'];
  // 30 steps are enough to move the answer; the full 100 are what the world-4l test checks.
  const first = await dissect([...args, '--steps', '30', '--out', saved]);
  assert.equal(first.code, 0, first.stderr);
  const json = JSON.parse(first.stdout);
  assert.equal(json.statistics.cached, false);
  assert.equal(json.layer, 0);
  assert.equal(json.before.paraphrases.length, 2, 'both repeated --paraphrase flags arrive');
  assert.equal(json.before.neighbours[0].answer, json.after.neighbours[0].answer);
  assert.ok(json.after.efficacy.pTarget > json.before.efficacy.pTarget);
  assert.equal(JSON.parse(await readFile(join(saved, 'config.json'), 'utf8')).model_type, 'llama');
  const second = await dissect([...args, '--steps', '2']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(JSON.parse(second.stdout).statistics.cached, true);
  // The saved folder is a model the CLI opens, and it answers with the new capital.
  const traced = await dissect(['trace', saved, '--prompt', 'The capital of Veloria is', '--subject', 'Veloria', '--kind', 'resid', '--samples', '2', '--json']);
  assert.equal(traced.code, 0, traced.stderr);
  const answer = JSON.parse(traced.stdout).answer_string;
  if (json.after.efficacy.top1) assert.equal(answer, ' Brellin');
  else assert.notEqual(answer, ' Brellin');
});

test('usage errors name what is missing', async () => {
  assertCleanFailure(await dissect(['trace', '--prompt', 'The capital of Veloria is']), /--prompt and --subject are required/, 2);
  assertCleanFailure(await dissect(['trace', '--prompt', 'The capital of Veloria is', '--subject', 'Atlantis']), /Atlantis/, 2);
  assertCleanFailure(await dissect(['trace', '--prompt', 'x y', '--subject', 'x', '--kind', 'mlps']), /--kind must be one of/, 2);
  assertCleanFailure(await dissect(['edit', fixtureFolder('gpt2-tiny'), '--tokenizer', join(fixtureFolder('gpt2-tokenizer'), 'tokenizer.json'),
    '--prompt', 'The capital of France is', '--subject', 'France', '--new', ' Rome']), /--corpus FILE is needed/, 2);
  assertCleanFailure(await dissect(['edit', '--prompt', 'The capital of Veloria is', '--subject', 'Atlantis', '--new', ' X']), /Atlantis/, 2);
});
