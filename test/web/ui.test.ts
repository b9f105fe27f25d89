// End to end: the static site `dissect build-web` writes, served with cross-origin isolation, opened
// in headless Chromium (Debian's, through playwright-core). The page runs world-4l in its worker on
// the wasm backend; the test reads the numbers the views drew (data-value on SVG cells and bars)
// and compares them with the same analyses computed here in Node through src/index.ts. Skipped
// without Chromium or without the built UI (npm run build). DISSECT_UI_SCREENSHOTS=DIR also saves
// a screenshot of each view there (scripts/ui-screenshots.sh writes docs/images/ui-*.png that way).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  DASHBOARD_SCHEMA_VERSION, FEATURE_DASHBOARD_SCHEMA, activationPatching, dashboardIndex, decomposeResid, dispose, logitAttrs,
  logitDiff, loadModel, metricBaselines, normalisedMetric, runLogitLens, type DashboardSource, type FeatureDashboard,
  type HookedTransformer, type Tokenizer,
} from '../../src/index.js';
import { buildStaticSite, EMBEDDED_MODELS_DIR, WEB_BUILD_DIR } from '../../src/cli/commands/build-web.js';
import { findChromium, launchChromium, startStaticServer, type StaticServer } from './browser.js';

const PROMPT = 'When Mary and John went to the store, John gave a drink to';
const CORRUPTED = 'When Mary and John went to the store, Mary gave a drink to';
const chromium = findChromium();
const built = existsSync(join(WEB_BUILD_DIR, 'index.html'));
const skip = !chromium ? 'no Chromium installed (apt-get install chromium)' : !built ? 'the web UI is not built (npm run build)' : false;
const screenshots = process.env.DISSECT_UI_SCREENSHOTS;

let site = '';
let server: StaticServer;
let browser: Browser;
let page: Page;
let model: HookedTransformer;
let tokenizer: Tokenizer;
let ids: number[];
const pageErrors: string[] = [];

/** [data-row, data-col, data-value] of every cell of the heatmap labelled `chart`. */
async function heatmapCells(chart: string): Promise<number[][]> {
  const cells = page.locator(`svg[data-chart="${chart}"] rect.cell`);
  await cells.first().waitFor();
  return cells.evaluateAll((rects) => rects.map((r) => ['data-row', 'data-col', 'data-value'].map((a) => Number(r.getAttribute(a)))));
}

function maxDifference(cells: number[][], expected: (row: number, col: number) => number): number {
  return Math.max(...cells.map(([r, c, v]) => Math.abs(v - expected(r, c))));
}

/** A one-feature dashboard folder, as `dissect sae dashboard` writes one (the schema's fields, made up values). */
function writeDashboard(folder: string): string {
  const source: DashboardSource = {
    model: 'world-4l', sae: { hook_name: 'blocks.1.hook_resid_post', d_in: 128, d_sae: 512 },
    corpus: { name: 'test rows', rows: 1, tokens: 6, excluded_token_ids: [] },
  };
  const example = { row: 0, position: 2, activation: 2.5, context_start: 0, focus: 2, token_ids: [7, 8, 9], tokens: [' fox', ' was', ' happy'], activations: [0, 1.25, 2.5] };
  const dashboard: FeatureDashboard = {
    schema: FEATURE_DASHBOARD_SCHEMA, version: DASHBOARD_SCHEMA_VERSION, feature: 42, ...source, density: 0.5, log10_density: Math.log10(0.5),
    fired_tokens: 3, max_activation: 2.5, mean_activation: 1.5, histogram: { bin_width: 0.5, counts: [0, 0, 1, 1, 0, 1] },
    top_examples: [example], interval_examples: [], logit_effects: null,
  };
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'feature-42.json'), JSON.stringify(dashboard));
  writeFileSync(join(folder, 'index.json'), JSON.stringify(dashboardIndex([dashboard], source)));
  return folder;
}

async function shoot(name: string, fullPage = true): Promise<void> {
  if (screenshots) await page.screenshot({ path: join(screenshots, `ui-${name}.png`), fullPage });
}

before(async () => {
  if (skip) return;
  site = mkdtempSync(join(tmpdir(), 'dissect-site-'));
  await buildStaticSite({ out: join(site, 'www'), dashboards: writeDashboard(join(site, 'dashboards')) });
  site = join(site, 'www');
  server = await startStaticServer(site, true);
  browser = await launchChromium(chromium as string);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${server.url}?threads=2`);
  ({ model, tokenizer } = await loadModel(join(EMBEDDED_MODELS_DIR, 'world-4l')) as { model: HookedTransformer; tokenizer: Tokenizer });
  ids = [model.config.bosTokenId as number, ...tokenizer.encode(PROMPT)];
});

after(async () => {
  if (skip) return;
  assert.deepEqual(pageErrors, [], 'the page threw');
  await browser?.close();
  await server?.close();
  model?.dispose();
  rmSync(join(site, '..'), { recursive: true, force: true });
});

test('the page runs world-4l in its worker: tokens, prediction and backend', { skip, timeout: 60_000 }, async () => {
  await page.locator('.head-thumb').first().waitFor({ timeout: 30_000 });
  assert.match(await page.locator('#backend').innerText(), /this browser · wasm · 2 threads$/);
  const shownIds = await page.locator('.token').evaluateAll((tokens) => tokens.map((t) => Number(t.getAttribute('data-id'))));
  assert.deepEqual(shownIds, ids);

  const logits = model.forward([ids], { logitPositions: 'last' });
  const row = Array.from(logits.softmax(-1).toArray());
  logits.dispose();
  const best = row.indexOf(Math.max(...row));
  const first = page.locator('.candidate').first();
  assert.equal(Number(await first.getAttribute('data-id')), best);
  assert.ok(Math.abs(Number(await first.getAttribute('data-prob')) - row[best]) < 1e-4);

  // Keyboard: ← on the token strip selects the previous position everywhere.
  await page.locator('.token[aria-selected="true"]').focus();
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.locator('.token[aria-selected="true"]').getAttribute('data-position'), String(ids.length - 2));
  assert.match(await page.locator('.prediction .subtitle').innerText(), new RegExp(`after ${ids.length - 2}`));
  await page.keyboard.press('End');
});

test('attention: every head in the grid, and a chosen head\'s pattern equals Node\'s', { skip, timeout: 60_000 }, async () => {
  const { nLayers, nHeads } = model.config;
  assert.equal(await page.locator('.head-thumb').count(), nLayers * nHeads);
  const names = Array.from({ length: nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const { logits, cache } = model.runWithCache([ids], { names });
  try {
    for (const [layer, head] of [[nLayers - 1, 1], [0, nHeads - 1]]) {
      await page.locator(`.head-thumb[data-layer="${layer}"][data-head="${head}"]`).click();
      const cells = await heatmapCells(`attention pattern L${layer}H${head}`);
      assert.equal(cells.length, ids.length * ids.length);
      const pattern = cache.get(names[layer]).toArray(); // [1, head, query, key]
      const n = ids.length;
      const difference = maxDifference(cells, (q, k) => pattern[(head * n + q) * n + k]);
      assert.ok(difference < 1e-4, `L${layer}H${head}: max |browser − node| = ${difference}`);
    }
  } finally {
    logits.dispose();
    cache.dispose();
  }
  // For the screenshot: a name-mover head of the last layer, attending from " to" to " Mary".
  await page.locator(`.head-thumb[data-layer="${nLayers - 1}"][data-head="1"]`).click();
  await shoot('attention');
});

test('logit lens: P(target) in every cell equals Node\'s runLogitLens', { skip, timeout: 60_000 }, async () => {
  await page.locator('[data-view="lens"]').click();
  const target = Number(await page.locator('.candidate.target').getAttribute('data-id'));
  assert.equal(target, tokenizer.encode(' Mary')[0], 'the default IOI prompt targets " Mary"');
  const cells = await heatmapCells('logit lens');
  const result = runLogitLens(model, [ids], { targets: target, topK: 1 });
  try {
    const probs = (result.targetProbs as NonNullable<typeof result.targetProbs>).toArray(); // [rows, 1, pos]
    assert.equal(cells.length, result.labels.length * ids.length);
    const difference = maxDifference(cells, (r, p) => probs[r * ids.length + p]);
    assert.ok(difference < 1e-4, `max |browser − node| = ${difference}`);
  } finally {
    dispose(result);
  }
  await shoot('lens');
});

test('direct logit attribution: bars equal Node\'s logitAttrs and sum to the logit difference', { skip, timeout: 60_000 }, async () => {
  await page.locator('[data-view="dla"]').click();
  const bars = page.locator('svg[data-chart="direct logit attribution by component"] rect.bar');
  await bars.first().waitFor();
  const shown = await bars.evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-value'))));
  const [mary, john] = [tokenizer.encode(' Mary')[0], tokenizer.encode(' John')[0]];
  const pos = ids.length - 1;
  const { logits, cache } = model.runWithCache([ids]);
  try {
    const decomposed = decomposeResid(model, cache, { pos });
    const attrs = logitAttrs(model, cache, decomposed.stack, { token: mary, against: john }, { pos });
    const expected = Array.from(attrs.attributions.toArray());
    const constant = attrs.constant.item();
    dispose([decomposed.stack, attrs]);
    assert.equal(shown.length, expected.length);
    shown.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 1e-3, `${decomposed.labels[i]}: ${value} vs ${expected[i]}`));
    const last = logits.select(1, pos).reshape(-1).toArray();
    const sum = shown.reduce((a, b) => a + b, 0) + constant;
    assert.ok(Math.abs(sum - (last[mary] - last[john])) < 2e-3, `components sum to ${sum}, logit difference ${last[mary] - last[john]}`);
  } finally {
    logits.dispose();
    cache.dispose();
  }
  await shoot('dla');
});

test('activation patching: progress, then residual and head heatmaps equal Node\'s sweep', { skip, timeout: 90_000 }, async () => {
  await page.locator('[data-view="patch"]').click();
  await page.locator('button', { hasText: 'Run patching' }).click();
  await page.locator('section[data-target="z"] svg').waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('.patch-view progress').evaluate((p) => [p.value, p.max].join('/')),
    `${(ids.length + model.config.nHeads) * model.config.nLayers}/${(ids.length + model.config.nHeads) * model.config.nLayers}`);
  const corrupted = [model.config.bosTokenId as number, ...tokenizer.encode(CORRUPTED)];
  const raw = logitDiff(tokenizer.encode(' Mary')[0], tokenizer.encode(' John')[0]);
  const inputs = { cleanTokens: [ids], corruptedTokens: [corrupted] };
  const metric = normalisedMetric(raw, metricBaselines(model, raw, inputs));
  for (const [target, chart] of [['resid_pre', 'patching resid_pre'], ['z', 'patching z']] as const) {
    const result = await activationPatching(model, target, { ...inputs, metric });
    const values = result.values.toArray();
    const columns = result.values.shape[1];
    result.values.dispose();
    const cells = await heatmapCells(chart);
    assert.equal(cells.length, values.length);
    const difference = maxDifference(cells, (l, c) => values[l * columns + c]);
    assert.ok(difference < 1e-3, `${target}: max |browser − node| = ${difference}`);
  }
  await shoot('patch');
});

test('generate & steer shows both texts; screenshots of the narrow layout', { skip, timeout: 60_000 }, async () => {
  await page.locator('[data-view="generate"]').click();
  const steered = page.locator('.generation[data-kind="steered"] .new-part');
  await steered.waitFor({ timeout: 30_000 });
  assert.ok((await page.locator('.generation[data-kind="unsteered"] .new-part').innerText()).length > 0);
  await shoot('generate');
  await page.setViewportSize({ width: 400, height: 800 });
  await page.locator('[data-view="attention"]').click();
  await shoot('narrow', false);
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('the SAE features panel lists the site\'s dashboards and draws the chosen one', { skip, timeout: 30_000 }, async () => {
  await page.locator('[data-view="features"]').click();
  await page.locator('.feature-entry[data-feature="42"]').waitFor();
  const host = page.locator('.dashboard-host[data-feature="42"]');
  await host.waitFor();
  const text = await host.evaluate((element) => element.shadowRoot?.textContent ?? '');
  assert.match(text, /happy/);
  assert.match(text, /2\.5/);
});

test('a local model folder opens in the browser and the views follow it', { skip, timeout: 60_000 }, async () => {
  // What <input webkitdirectory> hands the page when a user picks models/attn-only-2l.
  await page.locator('.model-picker input[type="file"]').setInputFiles(join(EMBEDDED_MODELS_DIR, 'attn-only-2l'));
  await page.locator('.model-status.ready', { hasText: 'attn-only-2l ready' }).waitFor({ timeout: 30_000 });
  await page.locator('[data-view="attention"]').click();
  await page.locator('.head-thumb').first().waitFor();
  const config = JSON.parse(readFileSync(join(EMBEDDED_MODELS_DIR, 'attn-only-2l', 'config.json'), 'utf8')) as { num_hidden_layers: number; num_attention_heads: number };
  const thumbs = page.locator('.head-thumb');
  for (let tries = 0; tries < 100 && await thumbs.count() !== config.num_hidden_layers * config.num_attention_heads; tries++) await page.waitForTimeout(100);
  assert.equal(await thumbs.count(), config.num_hidden_layers * config.num_attention_heads);
  assert.equal(await page.locator('#model-select').inputValue(), 'local:attn-only-2l');
});

test('without cross-origin isolation the worker falls back to one thread and still runs', { skip, timeout: 60_000 }, async () => {
  const plain = await startStaticServer(site, false);
  const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await other.goto(plain.url);
    await other.locator('.head-thumb').first().waitFor({ timeout: 30_000 });
    assert.match(await other.locator('#backend').innerText(), /1 thread \(page not cross-origin isolated\)/);
  } finally {
    await other.close();
    await plain.close();
  }
});
