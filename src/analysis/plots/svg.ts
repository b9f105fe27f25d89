// The small SVG vocabulary the plot builders share: escaping, number formatting, and Figure — a
// piece of SVG markup with its size, which figures compose (side by side, stacked) before one
// document wraps them. Pure string building: no DOM and no Node APIs, so the web UI renders the
// same markup the CLI writes.

import { textWidth } from './text-metrics.js';

/** Fonts the text is laid out for (widths come from DejaVu Sans; the others are narrower, so they fit). */
export const FONT_FAMILY = 'DejaVu Sans, Verdana, Arial, sans-serif';

/** SVG markup drawn in its own coordinates, from (0, 0) to (width, height). */
export interface Figure {
  readonly width: number;
  readonly height: number;
  readonly body: string;
}

/** Text safe inside an XML element or a double-quoted attribute. Drops characters XML 1.0 forbids (NUL, most C0 controls, lone surrogates). */
export function escapeXml(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (char === '&') out += '&amp;';
    else if (char === '<') out += '&lt;';
    else if (char === '>') out += '&gt;';
    else if (char === '"') out += '&quot;';
    else if (char === "'") out += '&apos;';
    else if (code === 0x9 || code === 0xa || code === 0xd) out += `&#${code};`; // kept, not normalised away in attributes
    else if (code < 0x20 || (code >= 0xd800 && code <= 0xdfff) || code === 0xfffe || code === 0xffff) out += '\uFFFD';
    else out += char;
  }
  return out;
}

/** Numbers in coordinates: at most two decimals, no trailing zeros. */
export function coord(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** A number as a person reads it on an axis or in a cell: 3 significant digits, exponent when tiny or huge. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  const text = magnitude >= 1e5 || magnitude < 1e-3 ? value.toExponential(1) : String(Number(value.toPrecision(3)));
  return text.replace(/^-/, '−');
}

/**
 * A formatter for a set of values shown side by side (heatmap cells, legend ticks): fixed decimals
 * enough to tell apart values that differ by a hundredth of their range (0.6598 vs 0.6602, not
 * 0.66 twice); formatValue's significant digits when the values are tiny, huge or all equal.
 */
export function valueFormatter(values: readonly number[]): (value: number) => string {
  const present = values.filter(Number.isFinite);
  if (present.length === 0) return formatValue;
  const largest = Math.max(...present.map(Math.abs));
  const span = Math.max(...present) - Math.min(...present);
  if (largest === 0 || largest >= 1e5 || largest < 1e-3 || span === 0) return formatValue;
  const decimals = Math.min(6, Math.max(0, Math.ceil(-Math.log10(span)) + 2));
  return (value) => {
    if (!Number.isFinite(value)) return formatValue(value);
    const fixed = value.toFixed(decimals);
    return (/^-0\.?0*$/.test(fixed) ? fixed.slice(1) : fixed).replace(/^-/, '−');
  };
}

/** An element: name, attributes (undefined ones are left out) and inner markup. */
export function element(name: string, attributes: Readonly<Record<string, string | number | undefined>>, inner = ''): string {
  const attrs = Object.entries(attributes)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? coord(v) : escapeXml(v as string)}"`)
    .join('');
  return inner === '' ? `<${name}${attrs}/>` : `<${name}${attrs}>${inner}</${name}>`;
}

export interface TextOptions {
  size: number;
  anchor?: 'start' | 'middle' | 'end';
  weight?: 'normal' | 'bold';
  fill?: string;
  /** Degrees, about (x, y). */
  rotate?: number;
  /** Vertical placement of y: 'middle' centres the text on it (default: y is the baseline). */
  baseline?: 'alphabetic' | 'middle';
}

/** A text element; the content is escaped and its spaces kept. */
export function text(x: number, y: number, content: string, options: TextOptions): string {
  // dominant-baseline is not drawn the same everywhere (resvg, browsers); shift by the font's x-height instead.
  const dy = options.baseline === 'middle' ? options.size * 0.35 : 0;
  return element('text', {
    x, y: y + dy,
    'font-size': options.size,
    'text-anchor': options.anchor ?? 'start',
    'font-weight': options.weight === 'bold' ? 'bold' : undefined,
    fill: options.fill ?? '#222',
    transform: options.rotate ? `rotate(${coord(options.rotate)} ${coord(x)} ${coord(y)})` : undefined,
    'xml:space': 'preserve',
  }, escapeXml(content) || ' ');
}

export function rect(x: number, y: number, width: number, height: number, fill: string, extra: Record<string, string | number> = {}): string {
  return element('rect', { x, y, width, height, fill, ...extra });
}

export function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1): string {
  return element('line', { x1, y1, x2, y2, stroke, 'stroke-width': width });
}

/** A figure moved by (dx, dy) inside a larger one. */
export function translated(figure: Figure, dx: number, dy: number): string {
  return `<g transform="translate(${coord(dx)} ${coord(dy)})">${figure.body}</g>`;
}

export interface ArrangeOptions {
  /** 'row' places figures left to right, 'column' top to bottom (default). */
  direction?: 'row' | 'column';
  /** With direction 'row': start a new row after this many figures (a grid). Default: all in one row. */
  columns?: number;
  /** Space between figures. Default 16. */
  gap?: number;
  /** A title over the whole arrangement, and a smaller line under it. */
  title?: string;
  subtitle?: string;
}

/** Several figures in one: a row (or a grid of `columns`) aligned at the top, or a column aligned at the left. */
export function arrangeFigures(figures: readonly Figure[], options: ArrangeOptions = {}): Figure {
  const gap = options.gap ?? 16;
  const perRow = options.direction === 'row' ? Math.max(1, options.columns ?? figures.length) : 1;
  const gridRows = Math.ceil(figures.length / perRow);
  const colWidths = Array.from({ length: perRow }, (_, c) => Math.max(0, ...figures.filter((_, i) => i % perRow === c).map((f) => f.width)));
  const rowHeights = Array.from({ length: gridRows }, (_, r) => Math.max(0, ...figures.slice(r * perRow, (r + 1) * perRow).map((f) => f.height)));
  const offsets = (sizes: number[]) => sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b + gap, 0));
  const colX = offsets(colWidths);
  const rowY = offsets(rowHeights);
  const titleHeight = options.title ? 34 + (options.subtitle ? 18 : 0) : 0;
  const parts = figures.map((figure, i) => translated(figure, colX[i % perRow], titleHeight + rowY[Math.floor(i / perRow)]));
  const span = (sizes: number[]) => Math.max(0, sizes.reduce((a, b) => a + b + gap, 0) - gap);
  const width = Math.max(span(colWidths), headingWidth(options.title, options.subtitle, 17));
  const height = titleHeight + span(rowHeights);
  if (options.subtitle) parts.unshift(text(16, 44, options.subtitle, { size: 12, fill: '#555' }));
  if (options.title) parts.unshift(text(16, 26, options.title, { size: 17, weight: 'bold' }));
  return { width, height, body: parts.join('') };
}

const BOLD_WIDTH = 1.15;

/** Width a figure needs for its title and subtitle (with 16 px margins). */
export function headingWidth(title: string | undefined, subtitle: string | undefined, titleSize: number): number {
  // Titles are drawn bold; DejaVu Sans Bold's advances are up to ~15% wider than the regular ones measured.
  return 32 + Math.max(title ? BOLD_WIDTH * textWidth(title, titleSize) : 0, subtitle ? textWidth(subtitle, 12) : 0);
}

/** A standalone SVG document of the figure on a white background. */
export function svgDocument(figure: Figure): string {
  const width = Math.ceil(figure.width);
  const height = Math.ceil(figure.height);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT_FAMILY)}">`
    + `${rect(0, 0, width, height, '#ffffff')}${figure.body}</svg>\n`;
}
