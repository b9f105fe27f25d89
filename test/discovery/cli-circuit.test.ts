// dissect circuit on the default model (world-4l): IOI pairs or one prompt pair in, a summary, the
// JSON graph and the SVG figure out; bad flag combinations are usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../io/fixture-paths.js';
import { assertCleanFailure, dissect } from '../cli/run-cli.js';
import { readSvg, runOk } from '../cli/analysis-helpers.js';
import type { CircuitJson } from '../../src/discovery/export.js';

test('dissect circuit --dataset ioi writes a JSON graph whose circuit matches the summary, and an SVG', async () => {
  const { dir, cleanup } = makeTempDir('cli-circuit');
  try {
    const out = join(dir, 'graph.json');
    const svg = join(dir, 'graph.svg');
    const stdout = await runOk(['circuit', '--dataset', 'ioi', '--n', '8', '--method', 'eap', '--top-n', '30', '--out', out, '--svg', svg]);
    const json = JSON.parse(readFileSync(out, 'utf8')) as CircuitJson;
    assert.equal(json.format, 'dissect-circuit');
    assert.equal(json.method, 'eap');
    assert.equal(json.examples, 8);
    const kept = json.edges.filter((e) => e.in_circuit);
    assert.equal(kept.length, json.circuit?.edges);
    assert.ok(kept.length <= 30 && kept.length > 0);
    assert.match(stdout, new RegExp(`circuit: ${kept.length} of ${json.edge_total} edges`));
    assert.match(stdout, /faithfulness/);
    const parsed = readSvg(svg);
    assert.equal(parsed.texts.filter((t) => t.includes('->')).length, kept.length, 'one titled path per kept edge');
  } finally {
    cleanup();
  }
});

test('dissect circuit on one prompt pair prints JSON; conflicting or bad flags are usage errors', async () => {
  const json = JSON.parse(await runOk(['circuit', '--clean', 'When Mary and John went to the store, John gave a drink to',
    '--corrupt', 'When Anna and Tom went to the store, Max gave a drink to', '--answer', ' Mary', '--wrong', ' John',
    '--method', 'eap', '--threshold', '0.5', '--json'])) as CircuitJson;
  assert.equal(json.examples, 1);
  for (const e of json.edges.filter((edge) => edge.in_circuit)) assert.ok(Math.abs(e.score) >= 0.5);
  assertCleanFailure(await dissect(['circuit', '--dataset', 'ioi', '--top-n', '5', '--threshold', '1']), /--top-n or --threshold/, 2);
  assertCleanFailure(await dissect(['circuit', '--dataset', 'abc']), /--dataset must be one of ioi/, 2);
  assertCleanFailure(await dissect(['circuit', '--clean', 'When Mary', '--corrupt', 'When Mary and', '--answer', ' Mary', '--wrong', ' John']), /same number of tokens|equal lengths/, 2);
});
