// An interactive heatmap in SVG: rows × columns of cells coloured by a library ColorScale (the
// CLI's figures use the same scales), row and column labels, optional text in each cell, a colour
// bar. Hover or arrow keys show a cell's tooltip; click, Enter or Space select it; the selected
// row / column / cell is outlined. Each cell carries its value in data-value (tests read it).

import { formatValue, textColorOn, valueFormatter, type ColorScale } from '../../index.js';
import { h, s, showToken } from '../app/dom.js';
import { fit, measure } from './text.js';
import { hideTooltip, showTooltip } from './tooltip.js';

export interface HeatmapOptions {
  /** What the heatmap shows, for screen readers and as data-chart. */
  label: string;
  /** [row][column]; null draws a grey "n/a" cell. */
  values: readonly (readonly (number | null)[])[];
  rowLabels: readonly string[];
  columnLabels: readonly string[];
  rowAxis?: string;
  columnAxis?: string;
  /** Text in each cell (the lens's top token); default the formatted value when cells are wide enough. */
  cellText?: readonly (readonly string[])[];
  showValues?: boolean;
  scale: ColorScale;
  /** What the colour means, beside the colour bar. */
  legend: string;
  /** Tooltip lines of a cell (default: labels and value). */
  tooltip?: (row: number, column: number) => string[];
  selected?: { row?: number; column?: number };
  onSelect?: (row: number, column: number) => void;
  cellWidth?: number;
  cellHeight?: number;
  /** Make the chart at most this wide (px) by narrowing cells, down to minCellWidth. */
  fitWidth?: number;
  minCellWidth?: number;
}

const LABEL_FONT = 12;
const CELL_FONT = 11;
const MISSING = '#d9d9d9';
/** Colour bar, its ticks and its rotated label, right of the grid. */
const LEGEND_WIDTH = 72;


export function heatmap(options: HeatmapOptions): HTMLElement {
  const { values, rowLabels, columnLabels, scale } = options;
  const rows = values.length;
  const cols = columnLabels.length;
  const format = valueFormatter(values.flat().filter((v): v is number => v !== null));
  const showValues = options.cellText === undefined && (options.showValues ?? true);
  const texts = options.cellText ?? (showValues ? values.map((row) => row.map((v) => (v === null ? 'n/a' : format(v)))) : null);
  const widest = texts ? Math.max(0, ...texts.flat().map((t) => measure(t, CELL_FONT))) : 0;
  const rowLabelW = Math.min(140, Math.max(0, ...rowLabels.map((l) => measure(l, LABEL_FONT)))) + 10;
  const axisW = options.rowAxis ? 18 : 0;
  let cellW = options.cellWidth ?? (texts ? Math.min(72, Math.max(34, widest + 10)) : 28);
  if (options.fitWidth && options.fitWidth > 0) {
    // Shrink cells (not below minCellWidth) so grid, labels and colour bar fit the space given.
    const room = Math.floor((options.fitWidth - axisW - rowLabelW - LEGEND_WIDTH - 16) / Math.max(1, cols));
    cellW = Math.max(options.minCellWidth ?? 20, Math.min(cellW, room));
  }
  const cellH = options.cellHeight ?? 24;
  const shownColumns = columnLabels.map((l) => fit(l, 110, LABEL_FONT));
  const columnLabelW = Math.max(0, ...shownColumns.map((l) => measure(l, LABEL_FONT)));
  const rotated = columnLabelW > cellW - 4;
  const columnLabelH = rotated ? columnLabelW * Math.SQRT1_2 + 16 : 20;
  // A rotated first column label reaches left of its cell: keep it inside the chart.
  const firstReach = rotated ? measure(shownColumns[0] ?? '', LABEL_FONT) * Math.SQRT1_2 - cellW / 2 + 4 : 0;
  const gridX = Math.max(axisW + rowLabelW, firstReach);
  const gridY = 4;
  const gridW = cols * cellW;
  const gridH = rows * cellH;
  const legendX = gridX + gridW + 16;
  const width = legendX + LEGEND_WIDTH;
  const height = gridY + gridH + columnLabelH + (options.columnAxis ? 20 : 0) + 4;

  const svg = s('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, class: 'heatmap', role: 'grid', tabindex: 0,
    'aria-label': `${options.label}: ${rows} rows × ${cols} columns; arrow keys move, Enter selects`,
    'data-chart': options.label,
  });
  const tooltipOf = options.tooltip ?? ((r: number, c: number) => {
    const v = values[r][c];
    return [`${rowLabels[r]} · ${columnLabels[c]}`, v === null ? 'n/a' : formatValue(v)];
  });

  const selected = options.selected ?? {};
  const cells: SVGRectElement[][] = [];
  for (let r = 0; r < rows; r++) {
    cells.push([]);
    for (let c = 0; c < cols; c++) {
      const value = values[r][c];
      const fill = value === null ? MISSING : scale.color(value);
      const x = gridX + c * cellW;
      const y = gridY + r * cellH;
      const rect = s('rect', {
        x, y, width: cellW, height: cellH, fill, stroke: '#fff', 'stroke-width': 1, class: 'cell',
        'data-row': r, 'data-col': c, 'data-value': value === null ? 'null' : String(value),
      });
      cells[r].push(rect);
      svg.append(rect);
      const content = texts?.[r][c] ?? '';
      if (content !== '') {
        svg.append(s('text', {
          x: x + cellW / 2, y: y + cellH / 2 + CELL_FONT * 0.35, 'font-size': CELL_FONT, 'text-anchor': 'middle',
          fill: textColorOn(fill), 'pointer-events': 'none',
        }, fit(content, cellW - 4, CELL_FONT)));
      }
    }
  }
  // Selection outlines above the cells.
  if (selected.row !== undefined && selected.row < rows) {
    svg.append(s('rect', { x: gridX - 1, y: gridY + selected.row * cellH, width: gridW + 2, height: cellH, class: 'selection' }));
  }
  if (selected.column !== undefined && selected.column < cols) {
    svg.append(s('rect', { x: gridX + selected.column * cellW, y: gridY - 1, width: cellW, height: gridH + 2, class: 'selection' }));
  }
  const focusRing = s('rect', { width: cellW, height: cellH, class: 'focus-ring', visibility: 'hidden' });
  svg.append(focusRing);

  rowLabels.forEach((label, r) => {
    svg.append(s('text', {
      x: gridX - 6, y: gridY + r * cellH + cellH / 2 + LABEL_FONT * 0.35, 'font-size': LABEL_FONT, 'text-anchor': 'end',
      class: r === selected.row ? 'label selected' : 'label',
    }, label));
  });
  shownColumns.forEach((label, c) => {
    const cx = gridX + c * cellW + cellW / 2;
    const y = gridY + gridH + 14;
    svg.append(rotated
      ? s('text', { x: cx + 4, y, 'font-size': LABEL_FONT, 'text-anchor': 'end', transform: `rotate(-45 ${cx + 4} ${y})`, class: c === selected.column ? 'label selected' : 'label' }, label)
      : s('text', { x: cx, y, 'font-size': LABEL_FONT, 'text-anchor': 'middle', class: c === selected.column ? 'label selected' : 'label' }, label));
  });
  if (options.rowAxis) {
    const y = gridY + gridH / 2;
    svg.append(s('text', { x: 12, y, 'font-size': LABEL_FONT, 'text-anchor': 'middle', transform: `rotate(-90 12 ${y})`, class: 'axis' }, options.rowAxis));
  }
  if (options.columnAxis) {
    svg.append(s('text', { x: gridX + gridW / 2, y: height - 6, 'font-size': LABEL_FONT, 'text-anchor': 'middle', class: 'axis' }, options.columnAxis));
  }
  svg.append(colorBar(scale, legendX, gridY, Math.max(gridH, 60), options.legend));

  let focus: [number, number] = [selected.row ?? 0, selected.column ?? 0];
  const describe = (r: number, c: number, target: Element, announce: boolean) => showTooltip(target, tooltipOf(r, c), announce);
  const moveFocus = (r: number, c: number) => {
    focus = [Math.min(rows - 1, Math.max(0, r)), Math.min(cols - 1, Math.max(0, c))];
    const cell = cells[focus[0]]?.[focus[1]];
    if (!cell) return;
    focusRing.setAttribute('x', cell.getAttribute('x') as string);
    focusRing.setAttribute('y', cell.getAttribute('y') as string);
    focusRing.setAttribute('visibility', 'visible');
    describe(focus[0], focus[1], cell, true);
  };
  const cellOf = (event: Event): [number, number] | null => {
    const target = event.target as Element;
    if (!target.classList.contains('cell')) return null;
    return [Number(target.getAttribute('data-row')), Number(target.getAttribute('data-col'))];
  };
  svg.addEventListener('mouseover', (event) => {
    const cell = cellOf(event);
    if (cell) describe(cell[0], cell[1], event.target as Element, false);
  });
  svg.addEventListener('mouseleave', hideTooltip);
  svg.addEventListener('click', (event) => {
    const cell = cellOf(event);
    if (cell) options.onSelect?.(cell[0], cell[1]);
  });
  svg.addEventListener('focus', () => moveFocus(focus[0], focus[1]));
  svg.addEventListener('blur', () => {
    focusRing.setAttribute('visibility', 'hidden');
    hideTooltip();
  });
  svg.addEventListener('keydown', (event) => {
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      moveFocus(focus[0] + move[0], focus[1] + move[1]);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      options.onSelect?.(focus[0], focus[1]);
    }
  });
  return h('div', { class: 'chart-scroll' }, svg);
}

/** The colour bar: the scale top (max) to bottom (min), five ticks, and what it means. */
function colorBar(scale: ColorScale, x: number, y: number, height: number, label: string): SVGGElement {
  const group = s('g', { class: 'legend' });
  const bands = 48;
  for (let i = 0; i < bands; i++) {
    const value = scale.max - ((i + 0.5) / bands) * (scale.max - scale.min);
    group.append(s('rect', { x, y: y + (i * height) / bands, width: 12, height: height / bands + 0.5, fill: scale.color(value) }));
  }
  group.append(s('rect', { x, y, width: 12, height, fill: 'none', stroke: '#888', 'stroke-width': 0.5 }));
  const format = valueFormatter([scale.min, scale.max]);
  for (const tick of [scale.max, (scale.max + scale.min) / 2, scale.min]) {
    const ty = y + ((scale.max - tick) / (scale.max - scale.min)) * height;
    group.append(s('text', { x: x + 16, y: ty + 4, 'font-size': 10 }, format(tick)));
  }
  const lx = x + 62;
  const ly = y + height / 2;
  group.append(s('text', { x: lx, y: ly, 'font-size': 11, 'text-anchor': 'middle', transform: `rotate(-90 ${lx} ${ly})`, class: 'axis' }, label));
  return group;
}

/** Column labels for token positions: "3 · Mary". */
export function positionLabels(tokens: readonly { text: string }[]): string[] {
  return tokens.map((t, i) => `${i} ${showToken(t.text)}`);
}
