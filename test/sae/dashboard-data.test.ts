// The dashboard JSON and the HTML markup, from the hand-built feature: every field against values
// computed here from the rows and activations, JSON safety (no NaN, no undefined), ranking, and
// pages that carry no external assets and escape token text.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DASHBOARD_SCHEMA_VERSION, FEATURE_DASHBOARD_SCHEMA, dashboardIndex, featureDashboard, roundValue, topFeatures,
} from '../../src/sae/dashboard-data.js';
import { featureDashboardHtml } from '../../src/sae/dashboard-html.js';
import { dashboardIndexHtml } from '../../src/sae/dashboard-index-html.js';
import { FeatureStatsAccumulator } from '../../src/sae/dashboard-stats.js';
import { activationColors } from '../../src/sae/dashboard-style.js';
import { ArgumentError } from '../../src/util/errors.js';
import { EFFECTS, FEATURE, ROWS, SOURCE, VOCAB, activationOf, handBuiltDashboard, handBuiltStatistics, tokenStrings } from './dashboard-fixture.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('the feature JSON holds what the rows and activations say', () => {
  const d = handBuiltDashboard();
  assert.equal(d.schema, FEATURE_DASHBOARD_SCHEMA);
  assert.equal(d.version, DASHBOARD_SCHEMA_VERSION);
  assert.equal(d.feature, FEATURE);
  assert.deepEqual([d.model, d.sae, d.corpus], [SOURCE.model, SOURCE.sae, SOURCE.corpus]);
  // Independently: every counted (non-BOS) token and its activation.
  const counted = ROWS.flatMap((row) => row.flatMap((id, p) => (id === 0 ? [] : [activationOf(id, p)])));
  const firing = counted.filter((v) => v > 0);
  assert.equal(d.fired_tokens, firing.length);
  close(d.density, firing.length / counted.length, 'density');
  close(d.log10_density as number, Math.log10(firing.length / counted.length), 'log10 density');
  close(d.max_activation, Math.max(...firing), 'max');
  close(d.mean_activation as number, firing.reduce((a, b) => a + b, 0) / firing.length, 'mean');
  assert.equal(d.histogram.counts.reduce((a, b) => a + b, 0), firing.length, 'the histogram counts every firing token');
  // Top examples: windows of the rows, focus on the example's token, activations per token.
  const best = [...ROWS.flatMap((row, r) => row.map((id, p) => ({ r, p, v: activationOf(id, p) })))]
    .filter((x) => x.v > 0).sort((a, b) => b.v - a.v || a.r - b.r || a.p - b.p).slice(0, 8);
  assert.deepEqual(d.top_examples.map((e) => [e.row, e.position]), best.map((x) => [x.r, x.p]));
  for (const e of [...d.top_examples, ...d.interval_examples.flatMap((i) => i.examples)]) {
    const start = Math.max(0, e.position - 12);
    const ids = ROWS[e.row].slice(start, e.position + 5);
    assert.equal(e.context_start, start);
    assert.deepEqual(e.token_ids, ids);
    assert.deepEqual(e.tokens, ids.map((id) => VOCAB[id]));
    assert.deepEqual(e.activations, ids.map((id, i) => roundValue(activationOf(id, start + i))));
    assert.equal(e.token_ids[e.focus], ROWS[e.row][e.position]);
    close(e.activation, activationOf(ROWS[e.row][e.position], e.position), 'example activation');
  }
  const intervalTotal = d.interval_examples.reduce((a, i) => a + i.count, 0);
  assert.equal(intervalTotal, firing.length, 'intervals partition the firing tokens');
  for (const i of d.interval_examples) close(i.fraction, i.count / firing.length, 'interval fraction');
  assert.deepEqual(d.logit_effects?.positive.map((t) => [t.token_id, t.token, t.value]), EFFECTS.positive.map((s) => [s.token, VOCAB[s.token], s.value]));
  assert.equal(d.logit_effects?.method, 'the test method');
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d, 'the dashboard survives JSON unchanged');
});

test('a feature that never fired is valid JSON with nulls', () => {
  const acc = new FeatureStatsAccumulator([3]);
  acc.addBatch([0], 2, new Float32Array(2));
  const d = featureDashboard(acc.finish()[0], [[5, 6]], (ids) => ids.map(String), SOURCE, null);
  assert.deepEqual([d.density, d.log10_density, d.mean_activation, d.max_activation, d.top_examples, d.interval_examples, d.logit_effects],
    [0, null, null, 0, [], [], null]);
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
  const html = featureDashboardHtml(d);
  assert.match(html, /never fires/);
  assert.match(html, /no direct path to the logits/);
});

test('logit effects of another feature are refused', () => {
  assert.throws(() => featureDashboard(handBuiltStatistics(), ROWS, tokenStrings, SOURCE, { effects: { ...EFFECTS, feature: 2 }, method: '' }),
    (e: Error) => e instanceof ArgumentError && /logit effects of feature 2 given for feature 7/.test(e.message));
});

test('the index lists each feature with its files and strongest example', () => {
  const d = handBuiltDashboard();
  const index = dashboardIndex([d, { ...d, feature: 9 }], SOURCE);
  assert.deepEqual(index.features.map((f) => [f.feature, f.json, f.html]), [[7, 'feature-7.json', 'feature-7.html'], [9, 'feature-9.json', 'feature-9.html']]);
  assert.deepEqual(index.features[0].top_example, d.top_examples[0]);
  assert.deepEqual(index.features[0].positive_tokens, EFFECTS.positive.map((s) => VOCAB[s.token]));
});

test('topFeatures ranks live features, ties by index', () => {
  const acc = new FeatureStatsAccumulator([0, 1, 2, 3]);
  // Per token: feature 0 fires 1×4 (density 1, max 1); 1 fires once at 9; 2 never; 3 fires 2×1 (density .5, max 1).
  acc.addBatch([0], 4, Float32Array.of(1, 0, 0, 1, 1, 0, 0, 1, 1, 9, 0, 0, 1, 0, 0, 0));
  const stats = acc.finish();
  assert.deepEqual(topFeatures(stats, 4, 'density').map((s) => s.feature), [0, 3, 1]);
  assert.deepEqual(topFeatures(stats, 2, 'max').map((s) => s.feature), [1, 0]);
  assert.deepEqual(topFeatures(stats, 3, 'mean').map((s) => s.feature), [1, 0, 3]);
  assert.throws(() => topFeatures(stats, 0, 'max'), /count must be a positive integer, got 0/);
});

test('pages are self-contained and escape token text', () => {
  const d = handBuiltDashboard();
  for (const html of [featureDashboardHtml(d, { indexHref: 'index.html' }), dashboardIndexHtml(dashboardIndex([d], SOURCE))]) {
    assert.doesNotMatch(html, /<script|<link|<img|src=|url\(|@import|https?:/i, 'no scripts or external assets');
    assert.doesNotMatch(html, /<b>park/, 'token text is escaped');
    assert.match(html, /&lt;b&gt;park&lt;\/b&gt;/);
  }
});

test('every highlight colour keeps WCAG AA contrast with its text', () => {
  const luminance = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => {
      const s = parseInt(hex.slice(i, i + 2), 16) / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let previous = Infinity;
  for (let i = 1; i <= 1000; i++) {
    const colors = activationColors(i / 100, 10) ?? assert.fail(`no colour for ${i / 100}`);
    const [a, b] = [luminance(colors.background), luminance(colors.text)].sort((x, y) => y - x);
    assert.ok((a + 0.05) / (b + 0.05) >= 4.5, `${colors.text} on ${colors.background}: ${((a + 0.05) / (b + 0.05)).toFixed(2)}`);
    assert.ok(luminance(colors.background) <= previous + 1e-12, 'larger activations are darker');
    previous = luminance(colors.background);
  }
  assert.equal(activationColors(0, 10), null, 'zero is not highlighted');
  assert.equal(activationColors(-1, 10), null);
});
