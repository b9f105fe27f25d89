// A horizontal bar chart of signed values (direct logit attributions, a neuron's vocabulary
// projection): one labelled bar per item, red to the right of zero, blue to the left (the
// diverging scale's colours), the value written at the end of each bar.

import { ShapeError } from '../../util/errors.js';
import { NEGATIVE_COLOR, POSITIVE_COLOR } from './color-scales.js';
import { element, escapeXml, formatValue, headingWidth, line, text, type Figure } from './svg.js';
import { fitText, textWidth } from './text-metrics.js';

export interface BarChartSpec {
  title: string;
  subtitle?: string;
  /** One label per bar, top to bottom. */
  labels: readonly string[];
  values: readonly number[];
  /** What the bars measure, under the axis (e.g. 'logit attribution'). */
  valueAxisLabel: string;
  /** Width of the bars' area in pixels (default 420). */
  plotWidth?: number;
}

const PAD = 16;
const TITLE_SIZE = 16;
const LABEL_SIZE = 12;
const VALUE_SIZE = 11;
const ROW_H = 22;
const BAR_H = 15;
const MAX_LABEL_WIDTH = 260;

/** About `count` round tick values (1, 2 or 5 × 10^k apart) from at or below `min` to at or above `max`. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min, min + 1];
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough * (1 - 1e-9)) as number;
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  // toPrecision removes float noise (0.30000000000000004); + 0 turns −0 into 0.
  return Array.from({ length: last - first + 1 }, (_, i) => Number(((first + i) * step).toPrecision(12)) + 0);
}

export function barChartFigure(spec: BarChartSpec): Figure {
  if (spec.labels.length !== spec.values.length) {
    throw new ShapeError(`bar chart '${spec.title}': ${spec.labels.length} labels for ${spec.values.length} values`);
  }
  const plotW = spec.plotWidth ?? 420;
  const finite = spec.values.filter(Number.isFinite);
  // The axis spans the data (and 0) exactly; round ticks are drawn inside it.
  let lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  if (hi === lo) hi = lo + 1;
  const ticks = niceTicks(lo, hi).filter((t) => t >= lo - (hi - lo) * 1e-9 && t <= hi + (hi - lo) * 1e-9);
  [lo, hi] = [Math.min(lo, ...ticks), Math.max(hi, ...ticks)];
  const labels = spec.labels.map((l) => fitText(l, MAX_LABEL_WIDTH, LABEL_SIZE));
  const labelW = Math.max(0, ...labels.map((l) => textWidth(l, LABEL_SIZE))) + 10;
  const valueTexts = spec.values.map(formatValue);
  // Room for value labels beyond the bar ends, on whichever sides bars point.
  const valueRoom = Math.max(0, ...valueTexts.map((t) => textWidth(t, VALUE_SIZE))) + 8;
  const leftRoom = finite.some((v) => v < 0) ? valueRoom : 0;
  const rightRoom = finite.some((v) => v > 0) ? valueRoom : 0;

  const headerH = 30 + (spec.subtitle ? 18 : 0);
  const plotX = PAD + labelW + leftRoom;
  const plotY = PAD + headerH;
  const plotH = Math.max(1, spec.values.length) * ROW_H;
  const xOf = (v: number) => plotX + ((v - lo) / (hi - lo)) * plotW;

  const parts: string[] = [text(PAD, PAD + TITLE_SIZE, spec.title, { size: TITLE_SIZE, weight: 'bold' })];
  if (spec.subtitle) parts.push(text(PAD, PAD + TITLE_SIZE + 18, spec.subtitle, { size: LABEL_SIZE, fill: '#555' }));
  for (const tick of ticks) {
    const x = xOf(tick);
    parts.push(line(x, plotY, x, plotY + plotH, tick === 0 ? '#333' : '#e3e3e3', tick === 0 ? 1.2 : 1));
    parts.push(text(x, plotY + plotH + 16, formatValue(tick), { size: VALUE_SIZE, anchor: 'middle', fill: '#444' }));
  }
  parts.push(line(plotX, plotY + plotH, plotX + plotW, plotY + plotH, '#888'));
  spec.values.forEach((value, i) => {
    const cy = plotY + i * ROW_H + ROW_H / 2;
    parts.push(text(plotX - leftRoom - 8, cy, labels[i], { size: LABEL_SIZE, anchor: 'end', baseline: 'middle' }));
    if (!Number.isFinite(value)) {
      parts.push(text(xOf(0) + 4, cy, valueTexts[i], { size: VALUE_SIZE, baseline: 'middle', fill: '#888' }));
      return;
    }
    const x0 = xOf(Math.min(0, value));
    const width = Math.abs(xOf(value) - xOf(0));
    const tooltip = `<title>${escapeXml(`${spec.labels[i]}: ${valueTexts[i]}`)}</title>`;
    parts.push(element('rect', { x: x0, y: cy - BAR_H / 2, width: Math.max(width, 0.5), height: BAR_H, fill: value < 0 ? NEGATIVE_COLOR : POSITIVE_COLOR }, tooltip));
    parts.push(value < 0
      ? text(xOf(value) - 4, cy, valueTexts[i], { size: VALUE_SIZE, anchor: 'end', baseline: 'middle' })
      : text(xOf(value) + 4, cy, valueTexts[i], { size: VALUE_SIZE, baseline: 'middle' }));
  });
  const axisY = plotY + plotH + 36;
  parts.push(text(plotX + plotW / 2, axisY, spec.valueAxisLabel, { size: 13, anchor: 'middle' }));
  return { width: Math.max(plotX + plotW + rightRoom + PAD, headingWidth(spec.title, spec.subtitle, TITLE_SIZE)), height: axisY + 8 + PAD, body: parts.join('') };
}
