// A line chart as an SVG Figure (the library draws heatmaps and bar charts; reports also need
// curves: loss by position, faithfulness by edges kept, effect by layer). Series use the
// Okabe–Ito palette, which stays distinguishable with the common colour-vision deficiencies, and
// each also differs by marker shape, so nothing depends on colour alone.

import { FONT_FAMILY, escapeXml, formatValue, niceTicks, textWidth, type Figure } from '../../index.js';

const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'];
const MARKERS = ['circle', 'square', 'diamond', 'triangle'] as const;

export interface LineSeries {
  name: string;
  /** [x, y] points; non-finite y values break the line. */
  points: readonly (readonly [number, number])[];
}

export interface LineChartSpec {
  title: string;
  subtitle?: string;
  series: readonly LineSeries[];
  xLabel: string;
  yLabel: string;
  /** 'log1p' spaces x by log10(1 + x), so counts from 0 to thousands share one axis. */
  xScale?: 'linear' | 'log1p';
  /** Integer x ticks only (layers, positions). */
  integerX?: boolean;
  /** Fixed y range; default the data's (and 0). */
  yMin?: number;
  yMax?: number;
  /** Dashed reference lines across the plot. */
  horizontalLines?: readonly { y: number; label: string }[];
  verticalLines?: readonly { x: number; label: string }[];
  /** Draw a marker at each point (default true for up to 40 points per series). */
  markers?: boolean;
  plotWidth?: number;
  plotHeight?: number;
}

const PAD = 16;
const TITLE = 16;
const LABEL = 12;
const TICK = 11;

function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}

interface TextStyle {
  anchor?: 'start' | 'middle' | 'end';
  fill?: string;
  bold?: boolean;
  /** Degrees about (x, y). */
  rotate?: number;
}

function textEl(x: number, y: number, content: string, size: number, style: TextStyle = {}): string {
  const anchor = style.anchor && style.anchor !== 'start' ? ` text-anchor="${style.anchor}"` : '';
  const bold = style.bold ? ' font-weight="bold"' : '';
  const rotate = style.rotate ? ` transform="rotate(${style.rotate} ${num(x)} ${num(y)})"` : '';
  return `<text x="${num(x)}" y="${num(y)}" font-size="${size}" fill="${style.fill ?? '#222'}"${anchor}${bold}${rotate} xml:space="preserve">${escapeXml(content)}</text>`;
}

function marker(kind: (typeof MARKERS)[number], x: number, y: number, color: string): string {
  const r = 3.2;
  switch (kind) {
    case 'circle': return `<circle cx="${num(x)}" cy="${num(y)}" r="${r}" fill="${color}"/>`;
    case 'square': return `<rect x="${num(x - r)}" y="${num(y - r)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
    case 'diamond': return `<path d="M${num(x)} ${num(y - r - 1)}L${num(x + r + 1)} ${num(y)}L${num(x)} ${num(y + r + 1)}L${num(x - r - 1)} ${num(y)}Z" fill="${color}"/>`;
    case 'triangle': return `<path d="M${num(x)} ${num(y - r - 1)}L${num(x + r + 1)} ${num(y + r)}L${num(x - r - 1)} ${num(y + r)}Z" fill="${color}"/>`;
    default: return kind satisfies never;
  }
}

/** Ticks for a log1p axis: 0 and 1, 2, 5 × powers of ten up to `max`. */
function log1pTicks(max: number): number[] {
  const ticks = [0];
  for (let p = 1; p <= Math.max(1, max) * 1.0001; p *= 10) for (const m of [1, 2, 5]) if (m * p <= max * 1.0001) ticks.push(m * p);
  return ticks.length > 8 ? ticks.filter((t) => t === 0 || /^1|^5/.test(String(t))) : ticks;
}

export function lineChartFigure(spec: LineChartSpec): Figure {
  const plotW = spec.plotWidth ?? 520;
  const plotH = spec.plotHeight ?? 260;
  const log = spec.xScale === 'log1p';
  const points = spec.series.flatMap((s) => s.points);
  const xs = points.map((p) => p[0]).filter(Number.isFinite);
  const ys = [...points.map((p) => p[1]), ...(spec.horizontalLines ?? []).map((l) => l.y)].filter(Number.isFinite);
  const tx = (x: number) => (log ? Math.log10(1 + Math.max(0, x)) : x);
  const x0 = Math.min(...xs.map(tx));
  const x1 = Math.max(...xs.map(tx)) > x0 ? Math.max(...xs.map(tx)) : x0 + 1;
  const yTicks = niceTicks(spec.yMin ?? Math.min(0, ...ys), spec.yMax ?? Math.max(...ys, (spec.yMin ?? 0) + 1e-9));
  const [y0, y1] = [spec.yMin ?? yTicks[0], spec.yMax ?? yTicks[yTicks.length - 1]];
  const xTicks = log ? log1pTicks(10 ** x1 - 1) : niceTicks(x0, x1, Math.min(10, spec.integerX ? Math.max(1, Math.round(x1 - x0)) : 6))
    .filter((t) => !spec.integerX || Number.isInteger(t));

  const yTickW = Math.max(...yTicks.map((t) => textWidth(formatValue(t), TICK)));
  const left = PAD + LABEL + 10 + yTickW + 6;
  const top = PAD + TITLE + (spec.subtitle ? 18 : 0) + 14;
  const sx = (x: number) => left + ((tx(x) - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => top + plotH - ((Math.min(y1, Math.max(y0, y)) - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [textEl(PAD, PAD + TITLE, spec.title, TITLE, { bold: true })];
  if (spec.subtitle) parts.push(textEl(PAD, PAD + TITLE + 18, spec.subtitle, LABEL, { fill: '#555' }));

  for (const t of yTicks) {
    if (t < y0 || t > y1) continue;
    parts.push(`<line x1="${num(left)}" y1="${num(sy(t))}" x2="${num(left + plotW)}" y2="${num(sy(t))}" stroke="#e6e6e6"/>`);
    parts.push(textEl(left - 6, sy(t) + TICK * 0.35, formatValue(t), TICK, { anchor: 'end' }));
  }
  for (const t of xTicks) {
    if (tx(t) < x0 - 1e-9 || tx(t) > x1 + 1e-9) continue;
    parts.push(`<line x1="${num(sx(t))}" y1="${num(top + plotH)}" x2="${num(sx(t))}" y2="${num(top + plotH + 4)}" stroke="#777"/>`);
    parts.push(textEl(sx(t), top + plotH + 16, formatValue(t), TICK, { anchor: 'middle' }));
  }
  parts.push(`<rect x="${num(left)}" y="${num(top)}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  parts.push(textEl(left + plotW / 2, top + plotH + 34, spec.xLabel, LABEL, { anchor: 'middle' }));
  const yMid = top + plotH / 2;
  parts.push(textEl(PAD + LABEL, yMid, spec.yLabel, LABEL, { anchor: 'middle', rotate: -90 }));

  for (const line of spec.horizontalLines ?? []) {
    if (line.y < y0 || line.y > y1) continue;
    parts.push(`<line x1="${num(left)}" y1="${num(sy(line.y))}" x2="${num(left + plotW)}" y2="${num(sy(line.y))}" stroke="#555" stroke-dasharray="5 4"/>`);
    parts.push(textEl(left + plotW - 4, sy(line.y) - 4, line.label, TICK, { anchor: 'end', fill: '#444' }));
  }
  for (const line of spec.verticalLines ?? []) {
    parts.push(`<line x1="${num(sx(line.x))}" y1="${num(top)}" x2="${num(sx(line.x))}" y2="${num(top + plotH)}" stroke="#555" stroke-dasharray="5 4"/>`);
    parts.push(textEl(sx(line.x) + 4, top + 12, line.label, TICK));
  }
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${num(sx(x))} ${num(sy(y))}`;
      pen = true;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"><title>${escapeXml(s.name)}</title></path>`);
    if (spec.markers ?? s.points.length <= 40) {
      for (const [x, y] of s.points) {
        if (Number.isFinite(y)) parts.push(`<g>${marker(MARKERS[i % MARKERS.length], sx(x), sy(y), color)}<title>${escapeXml(`${s.name}: ${formatValue(x)} → ${formatValue(y)}`)}</title></g>`);
      }
    }
  });

  // Legend to the right of the plot: marker, line and name per series.
  const legendX = left + plotW + 18;
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const y = top + 10 + i * 20;
    parts.push(`<line x1="${num(legendX)}" y1="${num(y)}" x2="${num(legendX + 22)}" y2="${num(y)}" stroke="${color}" stroke-width="2"/>`);
    parts.push(marker(MARKERS[i % MARKERS.length], legendX + 11, y, color));
    parts.push(textEl(legendX + 28, y + 4, s.name, LABEL));
  });
  const legendW = spec.series.length ? 28 + Math.max(...spec.series.map((s) => textWidth(s.name, LABEL))) + 18 : 0;
  // Widths are measured for the regular face; the bold title runs about 12% wider.
  const headingW = 2 * PAD + Math.max(1.12 * textWidth(spec.title, TITLE), spec.subtitle ? textWidth(spec.subtitle, LABEL) : 0);
  const width = Math.max(legendX + legendW, headingW);
  const height = top + plotH + 34 + PAD;
  return { width, height, body: `<g font-family="${escapeXml(FONT_FAMILY)}">${parts.join('')}</g>` };
}
