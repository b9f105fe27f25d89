// End to end over HTTP: the same UI served by `dissect serve` (src/server), where the page finds
// GET api/models and the model runs on the server. Checks the HTTP transport: the tokens and an
// attention pattern (base64 float32 over JSON) equal Node's, and patching streams its progress
// (NDJSON) to the end. Skipped without Chromium or without the built UI (npm run build).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadModel, type HookedTransformer, type Tokenizer } from '../../src/index.js';
import { serve } from '../../src/server/index.js';
import { EMBEDDED_MODELS_DIR, WEB_BUILD_DIR } from '../../src/cli/commands/build-web.js';
import { findChromium, launchChromium } from './browser.js';

const PROMPT = 'When Mary and John went to the store, John gave a drink to';
const chromium = findChromium();
const built = existsSync(join(WEB_BUILD_DIR, 'index.html'));
const skip = !chromium ? 'no Chromium installed (apt-get install chromium)' : !built ? 'the web UI is not built (npm run build)' : false;

let server: Awaited<ReturnType<typeof serve>>;
let browser: Browser;
let page: Page;
let model: HookedTransformer;
let tokenizer: Tokenizer;

before(async () => {
  if (skip) return;
  server = await serve({ port: 0, webDir: WEB_BUILD_DIR, hubCacheDir: null, embeddedDir: EMBEDDED_MODELS_DIR });
  browser = await launchChromium(chromium as string);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.url}/`);
  ({ model, tokenizer } = await loadModel(join(EMBEDDED_MODELS_DIR, 'world-4l')) as { model: HookedTransformer; tokenizer: Tokenizer });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await server?.close();
  model?.dispose();
});

test('served by dissect serve, the UI runs world-4l on the server', { skip, timeout: 60_000 }, async () => {
  await page.locator('.head-thumb').first().waitFor({ timeout: 30_000 });
  assert.match(await page.locator('#backend').innerText(), /^dissect serve · 127\.0\.0\.1:\d+$/);
  const ids = [model.config.bosTokenId as number, ...tokenizer.encode(PROMPT)];
  const shown = await page.locator('.token').evaluateAll((tokens) => tokens.map((t) => Number(t.getAttribute('data-id'))));
  assert.deepEqual(shown, ids);

  const layer = model.config.nLayers - 1;
  await page.locator(`.head-thumb[data-layer="${layer}"][data-head="0"]`).click();
  const cells = page.locator(`svg[data-chart="attention pattern L${layer}H0"] rect.cell`);
  await cells.first().waitFor();
  const values = await cells.evaluateAll((rects) => rects.map((r) => ['data-row', 'data-col', 'data-value'].map((a) => Number(r.getAttribute(a)))));
  const name = `blocks.${layer}.attn.hook_pattern`;
  const { logits, cache } = model.runWithCache([ids], { names: [name] });
  const pattern = cache.get(name).toArray();
  logits.dispose();
  cache.dispose();
  const n = ids.length;
  const difference = Math.max(...values.map(([q, k, v]) => Math.abs(v - pattern[q * n + k])));
  assert.ok(difference < 1e-4, `max |browser − node| = ${difference}`);
});

test('patching over HTTP streams progress to the end and draws both heatmaps', { skip, timeout: 90_000 }, async () => {
  await page.locator('[data-view="patch"]').click();
  await page.locator('button', { hasText: 'Run patching' }).click();
  await page.locator('section[data-target="z"] svg').waitFor({ timeout: 60_000 });
  const { nLayers, nHeads } = model.config;
  const n = await page.locator('.token').count();
  const total = (n + nHeads) * nLayers;
  assert.equal(await page.locator('.patch-view progress').evaluate((p) => `${p.value}/${p.max}`), `${total}/${total}`);
  assert.equal(await page.locator('svg[data-chart="patching resid_pre"] rect.cell').count(), nLayers * n);
  assert.equal(await page.locator('svg[data-chart="patching z"] rect.cell').count(), nLayers * nHeads);
});
