// A heatmap: rows × columns of coloured cells (layers × positions, layers × heads), row and column
// labels (token strings on a position axis), optional text in each cell (the logit lens's top
// token) and a colour bar legend. Long column labels turn 45° rather than overlap.

import { ShapeError } from '../../util/errors.js';
import { textColorOn, type ColorScale } from './color-scales.js';
import { colorLegend, legendWidth } from './legend.js';
import { element, escapeXml, formatValue, headingWidth, text, valueFormatter, type Figure } from './svg.js';
import { fitText, textWidth } from './text-metrics.js';

export interface HeatmapSpec {
  title: string;
  /** A second, smaller line under the title (the prompt, the metric). */
  subtitle?: string;
  /** [row][column]; NaN draws a grey "n/a" cell. */
  values: readonly (readonly number[])[];
  rowLabels: readonly string[];
  columnLabels: readonly string[];
  /** Axis titles, e.g. 'layer' and 'position (token)'. */
  rowAxisLabel?: string;
  columnAxisLabel?: string;
  /** Text written in each cell (e.g. the top token), shortened to fit. */
  cellText?: readonly (readonly string[])[];
  /** Write each cell's value in it when there is no cellText (default true when cells are few). */
  showValues?: boolean;
  /** How cell values are written; default valueFormatter over this heatmap's values (pass one for several panels to match). */
  formatValue?: (value: number) => string;
  scale: ColorScale;
  /** What the colour means, written beside the legend (e.g. "P(' Mary')"); a newline splits it in two lines. */
  legendLabel: string;
  cellWidth?: number;
  cellHeight?: number;
}

const PAD = 16;
const TITLE_SIZE = 16;
const LABEL_SIZE = 12;
const CELL_SIZE = 11;
const AXIS_SIZE = 13;
const MAX_LABEL_WIDTH = 150;
const COS45 = Math.SQRT1_2;

function checkShape(spec: HeatmapSpec): void {
  const rows = spec.values.length;
  const cols = spec.columnLabels.length;
  if (spec.rowLabels.length !== rows) throw new ShapeError(`heatmap '${spec.title}': ${spec.rowLabels.length} row labels for ${rows} rows`);
  spec.values.forEach((row, r) => {
    if (row.length !== cols) throw new ShapeError(`heatmap '${spec.title}': row ${r} has ${row.length} values for ${cols} column labels`);
  });
  if (spec.cellText && (spec.cellText.length !== rows || spec.cellText.some((row) => row.length !== cols))) {
    throw new ShapeError(`heatmap '${spec.title}': cellText must be ${rows} rows of ${cols}`);
  }
}

/** The heatmap as a Figure (wrap it with svgDocument, or arrange several). */
export function heatmapFigure(spec: HeatmapSpec): Figure {
  checkShape(spec);
  const rows = spec.values.length;
  const cols = spec.columnLabels.length;
  const showValues = spec.cellText === undefined && (spec.showValues ?? rows * cols <= 400);
  const format = spec.formatValue ?? valueFormatter(spec.values.flat());
  const cellTexts = spec.cellText ?? (showValues ? spec.values.map((row) => row.map(format)) : null);
  const widestCellText = cellTexts ? Math.max(0, ...cellTexts.flat().map((t) => textWidth(t, CELL_SIZE))) : 0;
  const cellW = spec.cellWidth ?? (cellTexts ? Math.min(84, Math.max(40, widestCellText + 10)) : 32);
  const cellH = spec.cellHeight ?? 26;

  const rowLabels = spec.rowLabels.map((l) => fitText(l, MAX_LABEL_WIDTH, LABEL_SIZE));
  const columnLabels = spec.columnLabels.map((l) => fitText(l, MAX_LABEL_WIDTH, LABEL_SIZE));
  const rowLabelW = Math.max(0, ...rowLabels.map((l) => textWidth(l, LABEL_SIZE))) + 8;
  const widestColumnLabel = Math.max(0, ...columnLabels.map((l) => textWidth(l, LABEL_SIZE)));
  const rotated = widestColumnLabel > cellW - 4;
  const columnLabelH = rotated ? (widestColumnLabel + LABEL_SIZE) * COS45 + 8 : LABEL_SIZE + 10;

  // The row axis title runs up the left side when the grid is tall enough, else it sits above the row labels.
  const rowAxisVertical = spec.rowAxisLabel !== undefined && textWidth(spec.rowAxisLabel, AXIS_SIZE) <= rows * cellH;
  const rowAxisAbove = spec.rowAxisLabel !== undefined && !rowAxisVertical;
  const headerH = 30 + (spec.subtitle ? 18 : 0) + (rowAxisAbove ? AXIS_SIZE + 8 : 0);
  const rowAxisW = rowAxisVertical ? AXIS_SIZE + 10 : 0;
  // A rotated first column label reaches left of its cell; keep it inside the figure.
  const firstLabelReach = rotated ? textWidth(columnLabels[0] ?? '', LABEL_SIZE) * COS45 - cellW / 2 : 0;
  const gridX = PAD + Math.max(rowAxisW + rowLabelW, firstLabelReach);
  const gridY = PAD + headerH;
  const gridW = cols * cellW;
  const gridH = rows * cellH;

  const parts: string[] = [text(PAD, PAD + TITLE_SIZE, spec.title, { size: TITLE_SIZE, weight: 'bold' })];
  if (spec.subtitle) parts.push(text(PAD, PAD + TITLE_SIZE + 18, spec.subtitle, { size: LABEL_SIZE, fill: '#555' }));

  spec.values.forEach((row, r) => {
    row.forEach((value, c) => {
      const x = gridX + c * cellW;
      const y = gridY + r * cellH;
      const fill = spec.scale.color(value);
      const tooltip = `${spec.rowLabels[r]} · ${spec.columnLabels[c]}: ${formatValue(value)}${spec.cellText ? ` (${spec.cellText[r][c]})` : ''}`;
      parts.push(element('rect', { x, y, width: cellW, height: cellH, fill, stroke: '#ffffff', 'stroke-width': 1 }, `<title>${escapeXml(tooltip)}</title>`));
      const content = cellTexts ? cellTexts[r][c] : '';
      if (content !== '') {
        const shown = fitText(content, cellW - 6, CELL_SIZE);
        parts.push(text(x + cellW / 2, y + cellH / 2, shown, { size: CELL_SIZE, anchor: 'middle', baseline: 'middle', fill: textColorOn(fill) }));
      }
    });
  });

  rowLabels.forEach((label, r) => {
    parts.push(text(gridX - 6, gridY + r * cellH + cellH / 2, label, { size: LABEL_SIZE, anchor: 'end', baseline: 'middle' }));
  });
  const labelY = gridY + gridH + 6;
  columnLabels.forEach((label, c) => {
    const cx = gridX + c * cellW + cellW / 2;
    parts.push(rotated
      ? text(cx + 4, labelY + LABEL_SIZE * 0.6, label, { size: LABEL_SIZE, anchor: 'end', rotate: -45 })
      : text(cx, labelY + LABEL_SIZE, label, { size: LABEL_SIZE, anchor: 'middle' }));
  });
  if (rowAxisVertical) {
    parts.push(text(PAD + AXIS_SIZE, gridY + gridH / 2, spec.rowAxisLabel as string, { size: AXIS_SIZE, anchor: 'middle', rotate: -90 }));
  } else if (rowAxisAbove) {
    parts.push(text(PAD, gridY - 8, spec.rowAxisLabel as string, { size: AXIS_SIZE }));
  }
  let bottom = labelY + columnLabelH;
  if (spec.columnAxisLabel) {
    parts.push(text(gridX + gridW / 2, bottom + AXIS_SIZE, spec.columnAxisLabel, { size: AXIS_SIZE, anchor: 'middle' }));
    bottom += AXIS_SIZE + 8;
  }

  const hasMissing = spec.values.some((row) => row.some(Number.isNaN));
  const legendX = gridX + gridW + 24;
  const legendH = Math.max(gridH, 150);
  parts.push(colorLegend(spec.scale, legendX, gridY, legendH, spec.legendLabel, hasMissing));
  return {
    width: Math.max(legendX + legendWidth(spec.scale, spec.legendLabel, legendH) + PAD, headingWidth(spec.title, spec.subtitle, TITLE_SIZE)),
    height: Math.max(bottom, gridY + legendH + (hasMissing ? 30 : 8)) + PAD,
    body: parts.join(''),
  };
}

