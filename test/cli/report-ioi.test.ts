// `dissect report ioi` on world-4l with few prompts: the HTML is well-formed and self-contained,
// has every section, and its numbers agree with the library computed directly — the organisms'
// IOI metric on the same prompts, activation patching and path patching run one patch at a time
// (the 'loop' methods), and the faithfulness curve's fixed ends (no edge: 0, every edge: 1).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  activationPatching, ioiHeldOut, loadModel, logitDiff, metricBaselines, normalisedMetric, pathPatching, type HeadRef, type LoadedModel,
} from '../../src/index.js';
import { makeTempDir, repoRoot } from '../io/fixture-paths.js';
import { assertWellFormedReport, hasValue, parseReport, type ParsedReport } from './report-helpers.js';
import { dissect } from './run-cli.js';

const MODEL = join(repoRoot, 'models', 'world-4l');
const PROMPTS = 24;

interface Pair { clean: number[]; corrupted: number[]; answer: number; wrong: number }
interface IoiData {
  behaviour: { meanLogitDiff: number; accuracy: number };
  patching: { pairs: Pair[]; heads: Record<string, number[][]> };
  pathPatching: { direct: number[][]; keyHeads: (HeadRef & { effect: number })[] };
  circuit: { edges: number; topN: number; faithfulness: number; curves: { ig: { topN: number; faithfulness: number }[] } };
}

describe('dissect report ioi', () => {
  const temp = makeTempDir('report-ioi');
  let report: ParsedReport;
  let data: IoiData;
  let loaded: LoadedModel;

  before(async () => {
    const result = await dissect(['report', 'ioi', MODEL, '--out', join(temp.dir, 'ioi-small.html'), '--prompts', String(PROMPTS), '--n', '6', '--steps', '2']);
    assert.equal(result.code, 0, result.stderr);
    report = parseReport(readFileSync(join(temp.dir, 'ioi-small.html'), 'utf8'));
    data = report.data as unknown as IoiData;
    loaded = await loadModel(MODEL);
  });
  after(() => {
    loaded?.model.dispose();
    temp.cleanup();
  });

  test('well-formed, self-contained, every section with claim, method, figures and verdict', () => {
    assertWellFormedReport(report, ['behaviour', 'activation-patching', 'path-patching', 'attention', 'circuit']);
  });

  test('the logit difference is the organisms\' IOI metric on the same held-out-name prompts', () => {
    const ref = ioiHeldOut(loaded.model, loaded.tokenizer as NonNullable<LoadedModel['tokenizer']>, PROMPTS, 0);
    assert.ok(Math.abs(data.behaviour.meanLogitDiff - ref.meanLogitDiff) < 1e-4, `${data.behaviour.meanLogitDiff} vs ${ref.meanLogitDiff}`);
    assert.equal(data.behaviour.accuracy, ref.accuracy);
    const section = report.sections.find((s) => s.id === 'behaviour');
    assert.ok(section && hasValue(section.values, data.behaviour.meanLogitDiff), 'the table shows it');
    assert.equal(section?.verdictStatus, ref.meanLogitDiff > 2 ? 'met' : 'not met');
  });

  test('head patching (z) and the direct effect of the top key head equal one-at-a-time runs', async () => {
    const { model } = loaded;
    const pairs = data.patching.pairs;
    const inputs = { cleanTokens: pairs.map((p) => p.clean), corruptedTokens: pairs.map((p) => p.corrupted) };
    const metric = logitDiff(pairs.map((p) => p.answer), pairs.map((p) => p.wrong));
    const base = metricBaselines(model, metric, inputs);
    const z = await activationPatching(model, 'z', { ...inputs, metric: normalisedMetric(metric, base), method: 'loop' });
    const values = z.values.toArray();
    z.values.dispose();
    data.patching.heads.z.flat().forEach((v, i) => assert.ok(Math.abs(v - values[i]) < 1e-4, `z patch ${i}: ${v} vs ${values[i]}`));
    const top = data.pathPatching.keyHeads[0];
    const patched = await pathPatching(model, [top], { ...inputs, metric, receivers: 'logits', method: 'loop' });
    const expected = (patched - base.clean) / (base.clean - base.corrupted);
    assert.ok(Math.abs(data.pathPatching.direct[top.layer][top.head] - expected) < 1e-4, `${data.pathPatching.direct[top.layer][top.head]} vs ${expected}`);
  });

  test('the faithfulness curve runs from 0 (no edge) to 1 (every edge); the chosen circuit is the first to reach 0.8, else 10%', () => {
    const curve = data.circuit.curves.ig;
    assert.equal(curve[0].topN, 0);
    assert.ok(Math.abs(curve[0].faithfulness) < 1e-3, `empty circuit ${curve[0].faithfulness}`);
    assert.equal(curve[curve.length - 1].topN, data.circuit.edges);
    assert.ok(Math.abs(curve[curve.length - 1].faithfulness - 1) < 1e-3, `full circuit ${curve[curve.length - 1].faithfulness}`);
    const first = curve.find((p) => p.faithfulness >= 0.8);
    assert.equal(data.circuit.topN, first ? first.topN : Math.round(0.1 * data.circuit.edges));
  });
});
