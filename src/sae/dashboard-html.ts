// A feature dashboard as one self-contained HTML page (inline CSS and SVG, no script, no external
// assets): statistics, the activation histogram, logit effects, top-activating contexts and
// samples across the activation range. Tokens are highlighted by activation; hovering a token shows
// its value, and focusing a context (Tab, or a click) lists the values of all its firing tokens.
// Pure string building, so the web UI can render the same markup.

import { niceTicks } from '../analysis/plots/bar-chart.js';
import { escapeXml as escape, formatValue } from '../analysis/plots/svg.js';
import { visibleToken } from '../analysis/plots/text-metrics.js';
import type { DashboardExample, FeatureDashboard, TokenEffect } from './dashboard-data.js';
import { DASHBOARD_CSS, activationColors, activationGradient } from './dashboard-style.js';

/** A density as a person reads it, 3 significant digits: 0.423%, 0.00312%, 37.5%. */
export function formatPercent(fraction: number): string {
  return fraction === 0 ? '0%' : `${Number((fraction * 100).toPrecision(3))}%`;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** '1 token', '2,048 tokens'. */
function tokenCount(n: number): string {
  return `${formatCount(n)} token${n === 1 ? '' : 's'}`;
}

/** A context token as it reads in running text: real spaces, but a newline or tab shown as a mark. */
function contextToken(token: string): string {
  return token.replace(/\r?\n/g, '↵').replace(/\t/g, '⇥') || '∅';
}

/** One context: its tokens highlighted by activation, coloured on the scale up to `scaleMax`. */
export function contextMarkup(example: DashboardExample, scaleMax: number, special: ReadonlySet<number>): string {
  return example.tokens.map((token, i) => {
    const value = example.activations[i];
    const excluded = special.has(example.token_ids[i]);
    // Tokens left out of the statistics (BOS) are not coloured: their outlier activations would draw the eye.
    const colors = excluded ? null : activationColors(value, scaleMax);
    const classes = ['tok', ...(i === example.focus ? ['focus'] : []), ...(excluded ? ['special'] : [])];
    const style = colors ? ` style="background:${colors.background};color:${colors.text}"` : '';
    const act = value > 0 ? ` data-act="${escape(formatValue(value))}"` : '';
    // A word's leading space stays outside its highlight, so "Paul␣and" reads as two words, not "Paul" glued to a box.
    const text = contextToken(token);
    const space = /^ +(?=\S)/.exec(text)?.[0] ?? '';
    return `${space}<span class="${classes.join(' ')}"${style}${act}>${escape(text.slice(space.length))}</span>`;
  }).join('');
}

function exampleItem(example: DashboardExample, scaleMax: number, special: ReadonlySet<number>): string {
  const focusToken = visibleToken(example.tokens[example.focus]);
  const firing = example.tokens.map((t, i) => ({ t, v: example.activations[i] })).filter((x) => x.v > 0);
  const values = firing.map((x) => `<span class="mono">${escape(visibleToken(x.t))}</span> ${escape(formatValue(x.v))}`).join(' · ');
  const label = `activation ${formatValue(example.activation)} on ${focusToken}, row ${example.row} position ${example.position}: ${example.tokens.join('')}`;
  return `<li tabindex="0" aria-label="${escape(label)}"><span class="act">${escape(formatValue(example.activation))}</span>`
    + `<span class="ctx">${contextMarkup(example, scaleMax, special)}</span>`
    + `<span class="values">row ${example.row}, position ${example.position} · ${values || 'no firing tokens'}</span></li>`;
}

function exampleList(examples: readonly DashboardExample[], scaleMax: number, special: ReadonlySet<number>): string {
  if (examples.length === 0) return '<p class="empty">No examples.</p>';
  return `<ol class="contexts">${examples.map((e) => exampleItem(e, scaleMax, special)).join('')}</ol>`;
}

/** The histogram of firing activations as an inline SVG, bars coloured as the tokens are. */
function histogramSvg(d: FeatureDashboard): string {
  const counts = d.histogram.counts;
  const [width, height, left, right, top, bottom] = [320, 150, 40, 10, 8, 34];
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const span = counts.length * d.histogram.bin_width;
  const largest = Math.max(...counts);
  const x = (v: number) => left + (v / span) * plotW;
  const y = (c: number) => top + plotH - (c / largest) * plotH;
  const parts: string[] = [];
  counts.forEach((count, i) => {
    if (count === 0) return;
    const lower = i * d.histogram.bin_width;
    const color = activationColors(lower + d.histogram.bin_width / 2, d.max_activation)?.background ?? '#fee6ce';
    const tip = `${formatValue(lower)} – ${formatValue(lower + d.histogram.bin_width)}: ${tokenCount(count)}`;
    parts.push(`<rect x="${x(lower).toFixed(2)}" y="${y(count).toFixed(2)}" width="${Math.max(0.8, x(d.histogram.bin_width) - left - 0.6).toFixed(2)}" height="${(top + plotH - y(count)).toFixed(2)}" fill="${color}" stroke="#a63603" stroke-width="0.4"><title>${escape(tip)}</title></rect>`);
  });
  const axisY = top + plotH;
  parts.push(`<line x1="${left}" y1="${axisY}" x2="${width - right}" y2="${axisY}" stroke="#888"/>`);
  for (const tick of niceTicks(0, span, 4).filter((t) => t <= span * (1 + 1e-9))) {
    parts.push(`<line x1="${x(tick).toFixed(2)}" y1="${axisY}" x2="${x(tick).toFixed(2)}" y2="${axisY + 4}" stroke="#888"/>`);
    parts.push(`<text x="${x(tick).toFixed(2)}" y="${axisY + 16}" font-size="11" text-anchor="middle" fill="#444">${escape(formatValue(tick))}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${height - 2}" font-size="11.5" text-anchor="middle" fill="#333">activation</text>`);
  parts.push(`<text x="${left - 6}" y="${top + 9}" font-size="11" text-anchor="end" fill="#444">${escape(formatCount(largest))}</text>`);
  parts.push(`<text x="${left - 6}" y="${axisY}" font-size="11" text-anchor="end" fill="#444">0</text>`);
  parts.push(`<text transform="translate(11 ${top + plotH / 2}) rotate(-90)" font-size="11.5" text-anchor="middle" fill="#333">tokens</text>`);
  return `<svg role="img" aria-label="Histogram of the ${formatCount(d.fired_tokens)} non-zero activations, from 0 to ${formatValue(d.max_activation)}" width="100%" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

function effectList(title: string, effects: readonly TokenEffect[], largest: number, color: string): string {
  const items = effects.map((e) => `<li><span class="chip" title="token id ${e.token_id}">${escape(visibleToken(e.token))}</span>`
    + `<span class="value">${escape(formatValue(e.value))}</span>`
    + `<span class="bar" style="width:${((Math.abs(e.value) / largest) * 100).toFixed(1)}%;background:${color}"></span></li>`).join('');
  return `<div><h3>${title}</h3><ol>${items}</ol></div>`;
}

function logitEffectsCard(d: FeatureDashboard): string {
  const effects = d.logit_effects;
  if (effects === null) {
    return '<section class="card"><h2>Logit effects</h2><p class="empty">This hook has no direct path to the logits.</p></section>';
  }
  const largest = Math.max(1e-30, ...[...effects.positive, ...effects.negative].map((e) => Math.abs(e.value)));
  return `<section class="card" aria-labelledby="effects-heading"><h2 id="effects-heading">Logit effects</h2><div class="effects">`
    + effectList('Promotes', effects.positive, largest, 'var(--positive)')
    + effectList('Suppresses', effects.negative, largest, 'var(--negative)')
    + `</div><p class="note" title="${escape(effects.method)}">Change in each token's logit per unit of activation, through the direct path `
    + '(the decoder row through the final norm\'s weight and W<sub>U</sub>, as a linear map). Leading spaces show as ␣.</p></section>';
}

function statsCard(d: FeatureDashboard): string {
  const density = d.log10_density === null ? 'never fires' : `log₁₀ ${formatValue(d.log10_density)}`;
  return '<section class="card" aria-labelledby="stats-heading"><h2 id="stats-heading">Statistics</h2><dl class="stats">'
    + `<div><dt>Density</dt><dd>${formatPercent(d.density)}</dd><dd class="sub">${escape(density)}</dd></div>`
    + `<div><dt>Max</dt><dd>${escape(formatValue(d.max_activation))}</dd></div>`
    + `<div><dt>Mean if firing</dt><dd>${d.mean_activation === null ? '–' : escape(formatValue(d.mean_activation))}</dd></div>`
    + `</dl><p class="note">Fires on ${formatCount(d.fired_tokens)} of ${formatCount(d.corpus.tokens)} tokens.</p></section>`;
}

function legend(max: number): string {
  return `<p class="legend" aria-hidden="true"><span>0</span><span class="ramp" style="background:${activationGradient()}"></span>`
    + `<span>${escape(formatValue(max))}</span><span>· hover a token for its activation; Tab or click a context to list them</span></p>`;
}

function intervalsCard(d: FeatureDashboard, special: ReadonlySet<number>): string {
  // Open the three highest intervals that show something the top activations do not.
  const shown = new Set(d.top_examples.map((e) => `${e.row}:${e.position}`));
  const fresh = d.interval_examples.filter((interval) => interval.examples.some((e) => !shown.has(`${e.row}:${e.position}`)));
  const open = new Set(fresh.slice(0, 3));
  const sections = d.interval_examples.map((interval) => `<details${open.has(interval) ? ' open' : ''}><summary>`
    + `${escape(formatValue(interval.lower))} – ${escape(formatValue(interval.upper))} `
    + `<span class="count">· ${tokenCount(interval.count)} (${formatPercent(interval.fraction)} of firing)`
    + `${interval.examples.length < interval.count ? `, ${interval.examples.length} sampled at random` : ''}</span></summary>`
    + `${exampleList(interval.examples, d.max_activation, special)}</details>`).join('');
  return '<section class="card" aria-labelledby="intervals-heading"><h2 id="intervals-heading">Samples across the activation range</h2>'
    + `${sections || '<p class="empty">The feature never fired on this corpus.</p>'}</section>`;
}

/** The dashboard's content (a <main> element) without page chrome: for embedding beside DASHBOARD_CSS. */
export function featureDashboardFragment(d: FeatureDashboard): string {
  const special = new Set(d.corpus.excluded_token_ids);
  const left = `<div class="column">${statsCard(d)}`
    + `<section class="card" aria-labelledby="hist-heading"><h2 id="hist-heading">Activation histogram</h2>`
    + `${d.fired_tokens > 0 ? histogramSvg(d) : '<p class="empty">No non-zero activations.</p>'}`
    + `<p class="note">Non-zero activations only, bins ${escape(formatValue(d.histogram.bin_width))} wide.</p></section>`
    + `${logitEffectsCard(d)}</div>`;
  const right = '<div class="column"><section class="card" aria-labelledby="top-heading"><h2 id="top-heading">Top activations</h2>'
    + `${legend(d.max_activation)}${exampleList(d.top_examples, d.max_activation, special)}</section>`
    + `${intervalsCard(d, special)}</div>`;
  return `<main><div class="layout">${left}${right}</div></main>`;
}

/** The heading line that says what was scanned. */
export function sourceLine(d: Pick<FeatureDashboard, 'model' | 'sae' | 'corpus'>): string {
  return `SAE on <code>${escape(d.sae.hook_name)}</code> of ${escape(d.model)} · ${formatCount(d.sae.d_sae)} features · `
    + `${formatCount(d.corpus.tokens)} tokens of ${escape(d.corpus.name)}`;
}

export interface DashboardPageOptions {
  /** A link back to the index page (e.g. 'index.html'); none when omitted. */
  indexHref?: string;
}

/** One feature's dashboard as a complete HTML document. */
export function featureDashboardHtml(d: FeatureDashboard, options: DashboardPageOptions = {}): string {
  const crumbs = options.indexHref === undefined ? '' : `<p class="crumbs"><a href="${escape(options.indexHref)}">← All features</a></p>`;
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`
    + `<title>Feature ${d.feature} · ${escape(d.sae.hook_name)}</title><style>${DASHBOARD_CSS}</style></head><body>`
    + `<header>${crumbs}<h1>Feature ${d.feature}</h1><p class="meta">${sourceLine(d)}</p></header>`
    + `${featureDashboardFragment(d)}</body></html>\n`;
}
