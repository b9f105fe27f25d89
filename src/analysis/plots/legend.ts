// The colour bar beside a heatmap: the scale drawn as a column of bands, max at the top, with
// tick values and what the colour means (rotated, on one or two lines).

import { MISSING_COLOR, type ColorScale } from './color-scales.js';
import { line, rect, text, valueFormatter } from './svg.js';
import { fitText, textWidth } from './text-metrics.js';

const BAR_WIDTH = 14;
const TICK_SIZE = 11;
const LABEL_SIZE = 12;
const LINE_GAP = 15;
// Enough bands that neighbours differ by less than a perceptible step.
const BANDS = 64;

function tickTexts(scale: ColorScale): string[] {
  const format = valueFormatter([scale.min, scale.max]);
  return scale.ticks.map(format);
}

/** The label as one line, or two (split at a newline in it, else at the space that balances them), each fitted to `length`. */
function labelLines(label: string, length: number): string[] {
  if (label.includes('\n')) return label.split('\n').slice(0, 2).map((l) => fitText(l, length, LABEL_SIZE));
  if (textWidth(label, LABEL_SIZE) <= length) return [label];
  const words = label.split(' ');
  let best: string[] = [fitText(label, length, LABEL_SIZE)];
  let bestOverflow = Infinity;
  for (let i = 1; i < words.length; i++) {
    const lines = [words.slice(0, i).join(' '), words.slice(i).join(' ')];
    const overflow = Math.max(...lines.map((l) => textWidth(l, LABEL_SIZE)));
    if (overflow < bestOverflow) {
      bestOverflow = overflow;
      best = lines;
    }
  }
  return best.map((l) => fitText(l, length, LABEL_SIZE));
}

/** Horizontal space the legend takes (bar, ticks, rotated label) when drawn `height` tall. */
export function legendWidth(scale: ColorScale, label: string, height: number): number {
  const ticks = Math.max(...tickTexts(scale).map((t) => textWidth(t, TICK_SIZE)));
  return BAR_WIDTH + 6 + ticks + (label ? 10 + LABEL_SIZE + (labelLines(label, height).length - 1) * LINE_GAP : 0);
}

/** The legend with its bar's top-left corner at (x, y), `height` tall. */
export function colorLegend(scale: ColorScale, x: number, y: number, height: number, label: string, showMissing: boolean): string {
  const parts: string[] = [];
  const band = height / BANDS;
  for (let i = 0; i < BANDS; i++) {
    // Band i (from the top) shows the value at its centre.
    const value = scale.max - ((i + 0.5) / BANDS) * (scale.max - scale.min);
    parts.push(rect(x, y + i * band, BAR_WIDTH, band + 0.5, scale.color(value)));
  }
  parts.push(rect(x, y, BAR_WIDTH, height, 'none', { stroke: '#666', 'stroke-width': 0.5 }));
  const labels = tickTexts(scale);
  scale.ticks.forEach((tick, i) => {
    const ty = y + ((scale.max - tick) / (scale.max - scale.min)) * height;
    parts.push(line(x + BAR_WIDTH, ty, x + BAR_WIDTH + 3, ty, '#444'));
    parts.push(text(x + BAR_WIDTH + 6, ty, labels[i], { size: TICK_SIZE, baseline: 'middle' }));
  });
  if (label) {
    const ticksW = Math.max(...labels.map((t) => textWidth(t, TICK_SIZE)));
    const lx = x + BAR_WIDTH + 6 + ticksW + 10 + LABEL_SIZE * 0.8;
    labelLines(label, height).forEach((content, i) => {
      parts.push(text(lx + i * LINE_GAP, y + height / 2, content, { size: LABEL_SIZE, anchor: 'middle', rotate: -90 }));
    });
  }
  if (showMissing) {
    parts.push(rect(x, y + height + 10, BAR_WIDTH, 12, MISSING_COLOR));
    parts.push(text(x + BAR_WIDTH + 6, y + height + 16, 'n/a', { size: TICK_SIZE, baseline: 'middle' }));
  }
  return parts.join('');
}
