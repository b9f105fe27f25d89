// The dashboard pages in a real browser (Debian's Chromium, headless, driven by playwright-core):
// the DOM shows the hand-built feature's numbers and tokens, hovering a token shows its activation,
// Tab reaches each context and lists its values, highlighted text has WCAG AA contrast, the index
// links to the feature pages, and a full-page screenshot is taken. Skipped without Chromium.
// DISSECT_DASHBOARD_SCREENSHOT=path.png keeps the screenshot.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { dashboardIndex } from '../../src/sae/dashboard-data.js';
import { featureDashboardHtml } from '../../src/sae/dashboard-html.js';
import { dashboardIndexHtml } from '../../src/sae/dashboard-index-html.js';
import { EFFECTS, SOURCE, VOCAB, handBuiltDashboard } from './dashboard-fixture.js';

type Playwright = typeof import('playwright-core');

// Browser globals the page.evaluate callbacks use (the Node tsconfig has no DOM library).
interface PageElement {
  readonly tagName: string;
  readonly tabIndex: number;
  readonly offsetHeight: number;
  querySelector(selector: string): PageElement | null;
}
declare const document: { readonly activeElement: PageElement | null };
declare function getComputedStyle(element: unknown, pseudo?: string): { content: string; color: string; backgroundColor: string };
type Browser = Awaited<ReturnType<Playwright['chromium']['launch']>>;

function findChromium(): string | null {
  for (const candidate of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (candidate && spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

async function loadPlaywright(): Promise<Playwright | null> {
  try {
    return await import('playwright-core');
  } catch {
    return null;
  }
}

const chromium = findChromium();
const playwright = chromium === null ? null : await loadPlaywright();
const skip = chromium === null ? 'no Chromium installed' : playwright === null ? 'playwright-core is not installed' : false;

let browser: Browser;
let dir: string;
const dashboard = handBuiltDashboard();

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'dissect-dashboard-'));
  writeFileSync(join(dir, 'feature-7.html'), featureDashboardHtml(dashboard, { indexHref: 'index.html' }));
  writeFileSync(join(dir, 'index.html'), dashboardIndexHtml(dashboardIndex([dashboard, { ...dashboard, feature: 9 }], SOURCE)));
  browser = await (playwright as Playwright).chromium.launch({
    executablePath: chromium as string, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  if (skip) return;
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The number a cell shows ('38%' → 0.38, '−1.9' → −1.9). */
function shown(text: string): number {
  const value = Number(text.trim().replace('−', '-').replace(/[%,]/g, ''));
  return text.includes('%') ? value / 100 : value;
}

/** Agrees to the 3 significant digits the page shows. */
function assertShows(text: string, value: number, what: string): void {
  assert.ok(Math.abs(shown(text) - value) <= 0.006 * Math.abs(value) + 1e-12, `${what}: page shows '${text}', data says ${value}`);
}

/** WCAG contrast ratio of two CSS rgb() colours. */
function contrast(a: string, b: string): number {
  const luminance = (css: string) => {
    const [r, g, bl] = (css.match(/\d+(\.\d+)?/g) as string[]).slice(0, 3).map((c) => {
      const s = Number(c) / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

test('the feature page shows the numbers and tokens of its JSON', { skip, timeout: 60_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  try {
    await page.goto(pathToFileURL(join(dir, 'feature-7.html')).href);
    assert.equal(await page.textContent('h1'), 'Feature 7');
    const stats = await page.$$eval('.stats dd:not(.sub)', (dds) => dds.map((dd) => dd.textContent ?? ''));
    assertShows(stats[0], dashboard.density, 'density');
    assertShows(stats[1], dashboard.max_activation, 'max');
    assertShows(stats[2], dashboard.mean_activation as number, 'mean');

    // Top activations: one item per example, its value, every token of its window, the focus token.
    const items = await page.$$eval('section:has(#top-heading) ol.contexts > li', (lis) => lis.map((li) => ({
      act: li.querySelector('.act')?.textContent ?? '',
      tokens: [...li.querySelectorAll('.tok')].map((t) => ({ text: t.textContent ?? '', act: t.getAttribute('data-act') })),
      focus: li.querySelector('.tok.focus')?.textContent ?? '',
      text: li.querySelector('.ctx')?.textContent ?? '',
      tabIndex: (li as unknown as PageElement).tabIndex,
    })));
    assert.equal(items.length, dashboard.top_examples.length);
    items.forEach((item, i) => {
      const example = dashboard.top_examples[i];
      assertShows(item.act, example.activation, `example ${i}`);
      // Each token is one span; a word's leading space sits just before it, outside the highlight.
      const expected = example.tokens.map((t) => t.replace('\n', '↵'));
      assert.deepEqual(item.tokens.map((t) => t.text), expected.map((t) => t.replace(/^ +(?=\S)/, '')), `example ${i} tokens`);
      assert.equal(item.text, expected.join(''), `example ${i} reads as its tokens joined`);
      assert.equal(item.focus, example.tokens[example.focus].trimStart());
      assert.equal(item.tabIndex, 0, 'examples are keyboard focusable');
      item.tokens.forEach((t, j) => {
        if (example.activations[j] > 0) assertShows(t.act as string, example.activations[j], `example ${i} token ${j}`);
        else assert.equal(t.act, null, `example ${i} token ${j} does not fire and has no value`);
      });
    });

    // Hovering the strongest token shows its activation.
    const strongest = page.locator('section:has(#top-heading) ol.contexts > li').first().locator('.tok.focus');
    await strongest.hover();
    const tooltip = await strongest.evaluate((el) => getComputedStyle(el, '::after').content);
    assertShows(tooltip.replace(/"/g, ''), dashboard.max_activation, 'hover tooltip');

    // Tab moves through the link and then the examples; a focused example lists its values.
    const valuesShown = () => page.evaluate(() => {
      const active = document.activeElement;
      const values = active?.querySelector('.values') ?? null;
      return { tag: active?.tagName, visible: values !== null && values.offsetHeight > 0 };
    });
    await page.keyboard.press('Tab');
    assert.equal((await valuesShown()).tag, 'A', 'the first stop is the link to the index');
    await page.keyboard.press('Tab');
    assert.deepEqual(await valuesShown(), { tag: 'LI', visible: true });
    assert.equal(await page.locator('.values:visible').count(), 1, 'only the focused example lists values');

    // Highlighted tokens keep WCAG AA contrast (4.5:1).
    const colours = await page.$$eval('.tok[style]', (toks) => toks.map((t) => [getComputedStyle(t).color, getComputedStyle(t).backgroundColor]));
    assert.ok(colours.length > 10);
    for (const [fg, bg] of colours) assert.ok(contrast(fg, bg) >= 4.5, `contrast of ${fg} on ${bg} is ${contrast(fg, bg).toFixed(2)}`);

    // The histogram draws one bar per non-empty bin; the logit effects list the tokens.
    assert.equal(await page.locator('svg rect').count(), dashboard.histogram.counts.filter((c) => c > 0).length);
    const promoted = await page.$$eval('.effects div:first-child .chip', (chips) => chips.map((c) => c.textContent));
    assert.deepEqual(promoted, EFFECTS.positive.map((s) => VOCAB[s.token].replace(/ /g, '␣')));
    assert.equal(await page.locator('details').count(), dashboard.interval_examples.length);

    const png = await page.screenshot({ fullPage: true });
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
    assert.ok(png.readUInt32BE(16) === 1200 && png.readUInt32BE(20) > 600, `screenshot is ${png.readUInt32BE(16)}×${png.readUInt32BE(20)}`);
    if (process.env.DISSECT_DASHBOARD_SCREENSHOT) writeFileSync(process.env.DISSECT_DASHBOARD_SCREENSHOT, png);
  } finally {
    await page.close();
  }
});

test('the index links to each feature page', { skip, timeout: 60_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 600 } });
  try {
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    const rows = await page.$$eval('tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    assert.equal(rows.length, 2);
    assert.deepEqual(rows.map((r) => r[0]), ['Feature 7', 'Feature 9']);
    assertShows(rows[0][1], dashboard.density, 'index density');
    assertShows(rows[0][2], dashboard.max_activation, 'index max');
    await page.click('text=Feature 7');
    await page.waitForURL(/feature-7\.html$/);
    assert.equal(await page.textContent('h1'), 'Feature 7');
  } finally {
    await page.close();
  }
});
