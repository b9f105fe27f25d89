// `dissect report facts` on world-4l with a small setting: the HTML is well-formed and
// self-contained, has every section, and its numbers agree with the library computed directly —
// the organisms' recall metric, causal tracing of the same prompts with the same noise, a plain
// softmax for the edit's starting probability — and each verdict follows from its numbers.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  TRACE_KINDS, causalTraceMany, factRecallHeldOut, loadModel, tidy, traceSummary, type LoadedModel,
} from '../../src/index.js';
import { makeTempDir, repoRoot } from '../io/fixture-paths.js';
import { assertWellFormedReport, hasValue, parseReport, type ParsedReport } from './report-helpers.js';
import { dissect } from './run-cli.js';

const MODEL = join(repoRoot, 'models', 'world-4l');
const SAMPLES = 2;

interface FactsData {
  recall: { heldOut: number };
  tracing: {
    prompts: { tokens: number[]; subject: [number, number]; answer: number }[];
    summaries: { kind: string; effects: (number | null)[][]; prompts: number }[];
  };
  edit: {
    prompt: string; newObject: string;
    before: { efficacy: { pTarget: number } };
    checks: { name: string; value: number; met: boolean }[];
    thresholds: { generalisation: number; specificity: number };
  };
}

describe('dissect report facts', () => {
  const temp = makeTempDir('report-facts');
  let report: ParsedReport;
  let data: FactsData;
  let loaded: LoadedModel;

  before(async () => {
    const result = await dissect(['report', 'facts', MODEL, '--out', temp.dir, '--n', '2', '--samples', String(SAMPLES), '--documents', '40', '--steps', '10']);
    assert.equal(result.code, 0, result.stderr);
    report = parseReport(readFileSync(join(temp.dir, 'facts.html'), 'utf8'));
    data = report.data as unknown as FactsData;
    loaded = await loadModel(MODEL);
  });
  after(() => {
    loaded?.model.dispose();
    temp.cleanup();
  });

  test('well-formed, self-contained, every section with claim, method, figures or tables, and verdict', () => {
    assertWellFormedReport(report, ['recall', 'tracing', 'rome']);
  });

  test('held-out recall is the organisms\' metric, and the verdict follows the 90% target', () => {
    const ref = factRecallHeldOut(loaded.model, loaded.tokenizer as NonNullable<LoadedModel['tokenizer']>);
    assert.ok(Math.abs(data.recall.heldOut - ref.top1) < 1e-12, `${data.recall.heldOut} vs ${ref.top1}`);
    const section = report.sections.find((s) => s.id === 'recall');
    assert.ok(section && hasValue(section.values, ref.top1), 'the table shows it');
    assert.equal(section?.verdictStatus, ref.top1 >= 0.9 ? 'met' : 'not met');
  });

  test('the averaged traces equal causal tracing of the same prompts with the same noise', async () => {
    const traces = await causalTraceMany(loaded.model, data.tracing.prompts, { kinds: TRACE_KINDS, window: 1, samples: SAMPLES, seed: 1 });
    TRACE_KINDS.forEach((kind, k) => {
      const expected = traceSummary(traces, kind);
      const got = data.tracing.summaries[k];
      assert.equal(got.kind, kind);
      assert.equal(got.prompts, expected.prompts);
      expected.effects.forEach((row, g) => row.forEach((v, l) => {
        const value = got.effects[g][l];
        if (Number.isNaN(v)) assert.equal(value, null, `${kind} ${g} ${l} is empty`);
        else assert.ok(Math.abs((value as number) - v) < 1e-9, `${kind} group ${g} layer ${l}: ${value} vs ${v}`);
      }));
    });
  });

  test('the edit starts from the model\'s own P(new object), and each check\'s verdict follows its threshold', () => {
    const { model, tokenizer } = loaded;
    const tok = tokenizer as NonNullable<LoadedModel['tokenizer']>;
    const [target] = tok.encode(data.edit.newObject, { addSpecialTokens: false });
    const p = tidy(() => model.forward([tok.encode(data.edit.prompt)], { logitPositions: 'last' }).softmax(-1).reshape(-1).toArray()[target]);
    assert.ok(Math.abs(data.edit.before.efficacy.pTarget - p) < 1e-5 * Math.max(1e-3, p) + 1e-9, `${data.edit.before.efficacy.pTarget} vs ${p}`);
    const byName = Object.fromEntries(data.edit.checks.map((c) => [c.name, c]));
    assert.equal(byName.generalisation.met, byName.generalisation.value >= data.edit.thresholds.generalisation);
    assert.equal(byName.specificity.met, byName.specificity.value >= data.edit.thresholds.specificity);
    const section = report.sections.find((s) => s.id === 'rome');
    const allMet = data.edit.checks.every((c) => c.met);
    assert.equal(section?.verdictStatus, allMet ? 'met' : data.edit.checks.some((c) => c.met) ? 'partly' : 'not met');
  });
});
