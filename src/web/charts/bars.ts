// A horizontal bar chart of signed values (direct logit attributions): one row per item, red to
// the right of zero, blue to the left (the library's diverging colours), the value at the bar's
// end, hover and keyboard tooltips. Each bar carries data-label and data-value.

import { NEGATIVE_COLOR, POSITIVE_COLOR, formatValue, niceTicks } from '../../index.js';
import { h, s } from '../app/dom.js';
import { measure } from './text.js';
import { hideTooltip, showTooltip } from './tooltip.js';

export interface BarsOptions {
  label: string;
  labels: readonly string[];
  values: readonly number[];
  /** What the values are, under the axis. */
  axis: string;
  /** Extra tooltip lines per bar. */
  details?: (index: number) => string[];
  /** Highlighted bar (e.g. the selected layer's). */
  highlight?: (index: number) => boolean;
  onSelect?: (index: number) => void;
  plotWidth?: number;
}

const ROW = 22;
const BAR = 15;
const FONT = 12;

export function bars(options: BarsOptions): HTMLElement {
  const { labels, values } = options;
  const plotW = options.plotWidth ?? 360;
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  if (hi === lo) hi = lo + 1;
  const ticks = niceTicks(lo, hi, 4).filter((t) => t >= lo - 1e-9 && t <= hi + 1e-9);
  const labelW = Math.max(0, ...labels.map((l) => measure(l, FONT))) + 12;
  // Room for the value written beyond each bar's end, on the side the bars point.
  const valueRoom = Math.max(0, ...values.map((v) => measure(formatValue(v), 11))) + 10;
  const plotX = labelW + (finite.some((v) => v < 0) ? valueRoom : 8);
  const plotY = 4;
  const plotH = values.length * ROW;
  const xOf = (v: number) => plotX + ((v - lo) / (hi - lo)) * plotW;
  const width = plotX + plotW + valueRoom;
  const height = plotY + plotH + 40;

  const svg = s('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, class: 'bars', role: 'list', tabindex: 0,
    'aria-label': `${options.label}: ${values.length} bars; arrow keys move, Enter selects`, 'data-chart': options.label,
  });
  for (const tick of ticks) {
    const x = xOf(tick);
    svg.append(s('line', { x1: x, y1: plotY, x2: x, y2: plotY + plotH, stroke: tick === 0 ? '#444' : '#e4e4e4', 'stroke-width': tick === 0 ? 1.2 : 1 }));
    svg.append(s('text', { x, y: plotY + plotH + 14, 'font-size': 10, 'text-anchor': 'middle', class: 'tick' }, formatValue(tick)));
  }
  svg.append(s('text', { x: plotX + plotW / 2, y: plotY + plotH + 32, 'font-size': FONT, 'text-anchor': 'middle', class: 'axis' }, options.axis));

  const rows: SVGRectElement[] = [];
  values.forEach((value, i) => {
    const cy = plotY + i * ROW + ROW / 2;
    const highlighted = options.highlight?.(i) ?? false;
    const hit = s('rect', { x: 0, y: cy - ROW / 2, width, height: ROW, class: highlighted ? 'bar-row highlighted' : 'bar-row', 'data-index': i });
    rows.push(hit);
    svg.append(hit);
    svg.append(s('text', { x: labelW - 4, y: cy + 4, 'font-size': FONT, 'text-anchor': 'end', class: 'label', 'pointer-events': 'none' }, labels[i]));
    if (!Number.isFinite(value)) return;
    const x0 = xOf(Math.min(0, value));
    svg.append(s('rect', {
      x: x0, y: cy - BAR / 2, width: Math.max(0.5, Math.abs(xOf(value) - xOf(0))), height: BAR,
      fill: value < 0 ? NEGATIVE_COLOR : POSITIVE_COLOR, class: 'bar', 'data-label': labels[i], 'data-value': String(value),
      'pointer-events': 'none',
    }));
    svg.append(s('text', {
      x: value < 0 ? xOf(value) - 4 : xOf(value) + 4, y: cy + 4, 'font-size': 11, 'text-anchor': value < 0 ? 'end' : 'start',
      'pointer-events': 'none',
    }, formatValue(value)));
  });

  const lines = (i: number) => [labels[i], formatValue(values[i]), ...(options.details?.(i) ?? [])];
  let focus = 0;
  const moveFocus = (i: number) => {
    rows[focus]?.classList.remove('focused');
    focus = Math.min(values.length - 1, Math.max(0, i));
    rows[focus]?.classList.add('focused');
    if (rows[focus]) showTooltip(rows[focus], lines(focus), true);
  };
  svg.addEventListener('mouseover', (event) => {
    const index = (event.target as Element).getAttribute('data-index');
    if (index !== null) showTooltip(event.target as Element, lines(Number(index)));
  });
  svg.addEventListener('mouseleave', hideTooltip);
  svg.addEventListener('click', (event) => {
    const index = (event.target as Element).getAttribute('data-index');
    if (index !== null) options.onSelect?.(Number(index));
  });
  svg.addEventListener('focus', () => moveFocus(focus));
  svg.addEventListener('blur', () => {
    rows[focus]?.classList.remove('focused');
    hideTooltip();
  });
  svg.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      moveFocus(focus + (event.key === 'ArrowDown' ? 1 : -1));
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      options.onSelect?.(focus);
    }
  });
  return h('div', { class: 'chart-scroll' }, svg);
}
