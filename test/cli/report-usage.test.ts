// `dissect report` on the command line: its usage errors, and the induction report on a model
// outside the synthetic world (GPT-2's vocabulary), where the probe falls back to word tokens.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTempDir, sharedFixtures } from '../io/fixture-paths.js';
import { assertWellFormedReport, parseReport } from './report-helpers.js';
import { GPT2_TOKENIZER, assertCleanFailure, dissect } from './run-cli.js';

const GPT2 = [join(sharedFixtures, 'gpt2-tiny'), '--tokenizer', GPT2_TOKENIZER];

describe('dissect report (usage)', () => {
  const temp = makeTempDir('report-usage');
  after(() => temp.cleanup());

  test('an unknown kind names the closest one; no --out is a usage error', async () => {
    assertCleanFailure(await dissect(['report', 'iio', '--out', temp.dir]), /unknown report 'iio'; did you mean 'ioi'/, 2);
    assertCleanFailure(await dissect(['report', 'facts']), /--out DIR is required/, 2);
  });

  test('help lists the kinds', async () => {
    const result = await dissect(['report', '--help']);
    assert.equal(result.code, 0);
    for (const kind of ['ioi', 'facts', 'induction']) assert.match(result.stdout, new RegExp(`\\n  ${kind} `));
  });

  test('the IOI and facts reports refuse a model outside the synthetic world before computing anything', async () => {
    for (const kind of ['ioi', 'facts']) {
      assertCleanFailure(await dissect(['report', kind, ...GPT2, '--out', temp.dir]), new RegExp(`the ${kind} report needs a model that speaks the synthetic world`), 2);
    }
  });

  test('the induction report runs on GPT-2\'s vocabulary with word tokens as the probe', async () => {
    const out = join(temp.dir, 'gpt2.html');
    const result = await dissect(['report', 'induction', ...GPT2, '--out', out, '--length', '6', '--batch', '2', '--example-length', '4']);
    assert.equal(result.code, 0, result.stderr);
    const report = parseReport(readFileSync(out, 'utf8'));
    assertWellFormedReport(report, ['loss', 'heads', 'pairing', 'pattern']);
    const data = report.data as { pool: { source: string; ids: number[] }; rows: number[][] };
    assert.equal(data.pool.source, 'word tokens');
    assert.ok(data.rows.every((row) => row.length === 1 + 2 * 6 && row[0] === 50256), 'rows are BOS + the segment twice');
  });
});
