// The HTML of a report: one self-contained file (inline CSS, inline SVG figures, the numbers as a
// JSON block), readable as plain text and printable. The markup is also well-formed XML (XHTML
// syntax: every element closed, only the five XML entities), so tests parse it with a strict XML
// parser, and nothing in it points outside the file.

import { escapeXml, svgDocument, type Figure } from '../../index.js';

/** How a section's finding compares with what it set out to show. */
export type VerdictStatus = 'met' | 'not met' | 'partly' | 'observed';

export interface Verdict {
  status: VerdictStatus;
  /** One or two sentences: what the numbers say, plainly. */
  text: string;
}

/** A table cell: text, or text with the full-precision number behind it (kept in data-value). */
export type Cell = string | { text: string; value?: number; strong?: boolean };

export interface ReportTable {
  caption: string;
  header: readonly string[];
  rows: readonly (readonly Cell[])[];
}

export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'figure'; figure: Figure; caption: string; label: string }
  | { kind: 'table'; table: ReportTable }
  | { kind: 'list'; items: readonly string[] };

export interface ReportSection {
  id: string;
  title: string;
  /** What the section tests, as a claim that can fail. */
  claim: string;
  /** What was run, with its settings. */
  method: string;
  blocks: Block[];
  verdict: Verdict;
  /** Wall-clock seconds of the section's computation. */
  seconds?: number;
}

export interface ReportDocument {
  title: string;
  /** The paragraph under the title: what the report is about. */
  lede: string;
  /** Label/value pairs describing the run (model, backend, settings, command, runtime). */
  meta: readonly (readonly [string, string])[];
  sections: readonly ReportSection[];
  /** Every number the report shows, as JSON (for scripts and tests). */
  data: unknown;
}

export const paragraph = (text: string): Block => ({ kind: 'paragraph', text });
export const list = (items: readonly string[]): Block => ({ kind: 'list', items });
export const table = (t: ReportTable): Block => ({ kind: 'table', table: t });
export const figure = (f: Figure, label: string, caption: string): Block => ({ kind: 'figure', figure: f, label, caption });

/** Text with `code` spans and **bold** spans; everything else escaped. */
export function inline(text: string): string {
  return escapeXml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

const STYLE = `
:root { color-scheme: light; --ink: #1d1d1f; --muted: #5a5a60; --rule: #d8d8dc; --panel: #f6f6f8;
  --met: #1a7f37; --notmet: #b3261e; --partly: #9a6700; --observed: #0550ae; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 16px/1.6 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: 0 0 .5rem; }
h2 { font-size: 1.35rem; margin: 2.75rem 0 .75rem; padding-top: .75rem; border-top: 1px solid var(--rule); }
p, li, dl { max-width: 46rem; }
p.lede { font-size: 1.08rem; color: #333; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; background: var(--panel); padding: 0 .25em; border-radius: 3px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; font-size: .92rem; color: var(--muted); margin: 1rem 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.claim, .method { margin: .5rem 0; }
.label { font-weight: 700; }
figure { margin: 1.5rem 0; }
figure .plot { overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { max-width: 46rem; font-size: .93rem; color: #333; margin-top: .5rem; }
figcaption .label, table caption .label { color: var(--ink); }
table { border-collapse: collapse; margin: 1.25rem 0; font-size: .92rem; font-variant-numeric: tabular-nums; }
table caption { caption-side: top; text-align: left; font-size: .93rem; color: #333; padding-bottom: .4rem; max-width: 46rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { text-align: left; background: var(--panel); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fbfbfc; }
.table-wrap { overflow-x: auto; }
.verdict { border-left: 5px solid var(--observed); background: var(--panel); padding: .6rem 1rem; margin: 1.25rem 0; max-width: 46rem; }
.verdict.met { border-color: var(--met); } .verdict.not-met { border-color: var(--notmet); }
.verdict.partly { border-color: var(--partly); } .verdict.observed { border-color: var(--observed); }
.verdict .status { font-weight: 700; text-transform: uppercase; letter-spacing: .03em; font-size: .85rem; margin-right: .4rem; }
.verdict.met .status { color: var(--met); } .verdict.not-met .status { color: var(--notmet); }
.verdict.partly .status { color: var(--partly); } .verdict.observed .status { color: var(--observed); }
.runtime { color: var(--muted); font-size: .85rem; }
table.findings td, table.findings th { font-size: .88rem; }
table.findings th a { color: var(--ink); }
.badge { font-weight: 700; text-transform: uppercase; font-size: .78rem; letter-spacing: .03em; white-space: nowrap; }
.badge.met { color: var(--met); } .badge.not-met { color: var(--notmet); } .badge.partly { color: var(--partly); } .badge.observed { color: var(--observed); }
@media print { h2 { break-before: auto; } figure, table { break-inside: avoid; } }
`;

function cellHtml(cell: Cell, tag: 'td' | 'th'): string {
  if (typeof cell === 'string') return `<${tag}>${escapeXml(cell)}</${tag}>`;
  const content = cell.strong ? `<strong>${escapeXml(cell.text)}</strong>` : escapeXml(cell.text);
  const value = cell.value === undefined ? '' : ` data-value="${Number.isFinite(cell.value) ? String(cell.value) : 'NaN'}"`;
  return `<${tag} class="num"${value}>${content}</${tag}>`;
}

function tableHtml(t: ReportTable): string {
  const head = `<thead><tr>${t.header.map((h) => `<th scope="col">${escapeXml(h)}</th>`).join('')}</tr></thead>`;
  const body = `<tbody>${t.rows.map((row) => `<tr>${row.map((c, i) => (i === 0 ? cellHtml(c, 'th').replace('<th', '<th scope="row"') : cellHtml(c, 'td'))).join('')}</tr>`).join('')}</tbody>`;
  return `<div class="table-wrap"><table><caption>${inline(t.caption)}</caption>${head}${body}</table></div>`;
}

/** An SVG figure inline: the standalone document without its XML declaration, labelled for screen readers. */
function svgInline(f: Figure, label: string): string {
  const svg = svgDocument(f).replace(/^<\?xml[^>]*\?>\s*/, '').trimEnd();
  return svg.replace('<svg ', `<svg role="img" aria-label="${escapeXml(label)}" `);
}

function blockHtml(block: Block, figureNumber: () => number): string {
  switch (block.kind) {
    case 'paragraph':
      return `<p>${inline(block.text)}</p>`;
    case 'list':
      return `<ul>${block.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`;
    case 'table':
      return tableHtml(block.table);
    case 'figure': {
      const n = figureNumber();
      return `<figure id="figure-${n}"><div class="plot">${svgInline(block.figure, block.label)}</div>`
        + `<figcaption><span class="label">Figure ${n}.</span> ${inline(block.caption)}</figcaption></figure>`;
    }
    default:
      return block satisfies never;
  }
}

function sectionHtml(section: ReportSection, index: number, figureNumber: () => number): string {
  const v = section.verdict;
  const runtime = section.seconds === undefined ? '' : `<p class="runtime">Computed in ${section.seconds.toFixed(1)} s.</p>`;
  return `<section id="${escapeXml(section.id)}"><h2>${index + 1}. ${escapeXml(section.title)}</h2>`
    + `<p class="claim"><span class="label">Claim.</span> ${inline(section.claim)}</p>`
    + `<p class="method"><span class="label">Method.</span> ${inline(section.method)}</p>`
    + section.blocks.map((b) => blockHtml(b, figureNumber)).join('\n')
    + `<div class="verdict ${v.status.replace(' ', '-')}" data-status="${v.status}"><span class="status">${escapeXml(v.status)}</span>${inline(v.text)}</div>`
    + `${runtime}</section>`;
}

/** JSON inside <script>: no '<', '>' or '&' (so neither HTML nor XML parsers see markup, entities or ']]>' in it). */
function jsonScript(data: unknown): string {
  const json = JSON.stringify(data, (_, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value))
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return `<script type="application/json" id="report-data">${json}</script>`;
}

/** The whole report as one HTML document. */
export function renderReport(doc: ReportDocument): string {
  let figures = 0;
  const nextFigure = () => ++figures;
  const meta = doc.meta.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${inline(v)}</dd>`).join('');
  const findings = doc.sections.map((s, i) => `<tr><th scope="row"><a href="#${escapeXml(s.id)}">${i + 1}. ${escapeXml(s.title)}</a></th>`
    + `<td><span class="badge ${s.verdict.status.replace(' ', '-')}">${escapeXml(s.verdict.status)}</span></td><td>${inline(s.verdict.text)}</td></tr>`).join('');
  const sections = doc.sections.map((s, i) => sectionHtml(s, i, nextFigure)).join('\n');
  return `<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta name="generator" content="dissect report"/>
<title>${escapeXml(doc.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><h1>${escapeXml(doc.title)}</h1><p class="lede">${inline(doc.lede)}</p><dl class="meta">${meta}</dl></header>
<nav aria-label="Findings"><div class="table-wrap"><table class="findings"><caption>Findings at a glance: each section's verdict (details below).</caption><thead><tr><th scope="col">section</th><th scope="col">verdict</th><th scope="col">what the numbers say</th></tr></thead><tbody>${findings}</tbody></table></div></nav>
${sections}
${jsonScript(doc.data)}
</main>
</body>
</html>
`;
}
