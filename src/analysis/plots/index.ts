// Plots as SVG strings, built without a DOM or Node APIs so the CLI and the web UI share them:
// heatmaps (layer × position, layer × head), horizontal signed bar charts, and arranging several
// figures into one document. Rasterising to PNG is the CLI's job (cli/png.ts).

export {
  FONT_FAMILY, arrangeFigures, escapeXml, formatValue, svgDocument, valueFormatter, type ArrangeOptions, type Figure,
} from './svg.js';
export { fitText, fitTextStart, textWidth, visibleToken } from './text-metrics.js';
export {
  MISSING_COLOR, NEGATIVE_COLOR, POSITIVE_COLOR, divergingScale, sequentialScale, textColorOn, type ColorScale, type DivergingOptions,
} from './color-scales.js';
export { heatmapFigure, type HeatmapSpec } from './heatmap.js';
export { barChartFigure, niceTicks, type BarChartSpec } from './bar-chart.js';
