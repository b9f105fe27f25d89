// The SVG plot builders: documents are well-formed XML whatever the labels hold, colour scales put
// min / centre / max on the right colours, cells and bars carry the colour and size of their
// values, and the layout helpers (ticks, number formats, text fitting, grids) do what they say.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MISSING_COLOR, NEGATIVE_COLOR, POSITIVE_COLOR, arrangeFigures, barChartFigure, divergingScale, escapeXml, fitText,
  fitTextStart, formatValue, heatmapFigure, niceTicks, sequentialScale, svgDocument, textColorOn, textWidth,
  valueFormatter, visibleToken,
} from '../../src/analysis/plots/index.js';
import { parseSvg } from '../cli/analysis-helpers.js';

const NASTY = ['<script>alert("x")</script>', 'a & b', "it's", ' "quoted" ', '\u0000nul\u0007bell', 'tab\there', '\uD800lone', '東京', ']]>'];

test('escapeXml: markup characters become entities, characters XML forbids are replaced, the rest is kept', () => {
  assert.equal(escapeXml('<a href="x">&\'</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  assert.equal(escapeXml('\u0000\u0007'), '\uFFFD\uFFFD');
  assert.equal(escapeXml('\uD800'), '\uFFFD');
  assert.equal(escapeXml('東京 ␣'), '東京 ␣');
  assert.equal(escapeXml('a\tb\nc'), 'a&#9;b&#10;c');
});

test('a heatmap whose labels and cell texts hold markup is well-formed, and shows the labels as written', () => {
  const values = [[0.1, 0.9, NaN], [0.5, 0.2, 0.3]];
  const svg = svgDocument(heatmapFigure({
    title: 'title <&>', subtitle: 'sub "x"',
    values,
    rowLabels: [NASTY[0], NASTY[1]],
    columnLabels: [NASTY[2], NASTY[3], NASTY[7]],
    rowAxisLabel: 'layer', columnAxisLabel: 'position & token',
    cellText: [[NASTY[4], NASTY[5], NASTY[6]], [NASTY[8], 'x', 'y']],
    scale: sequentialScale(values, { min: 0, max: 1 }),
    legendLabel: 'P(" <x>")',
  }));
  const parsed = parseSvg(svg);
  const texts = parsed.texts.join('\n');
  for (const label of ['title <&>', 'sub "x"', NASTY[1], "it's", ' "quoted" ', '東京', 'position & token', 'P(" <x>")', ']]>']) {
    assert.ok(texts.includes(label), `text ${JSON.stringify(label)} is shown`);
  }
  assert.ok(texts.includes('\uFFFDnul\uFFFDbell'), 'control characters are replaced, not dropped silently');
  assert.ok(!svg.includes('<script>'));
});

test('a bar chart with markup in its labels is well-formed', () => {
  const svg = svgDocument(barChartFigure({ title: '<b>', labels: NASTY, values: NASTY.map((_, i) => i - 4), valueAxisLabel: 'a & b' }));
  const parsed = parseSvg(svg);
  assert.ok(parsed.texts.includes('<b>') && parsed.texts.includes('a & b'));
});

test('diverging scale: −limit, 0 and +limit map to dark blue, white and dark red; it clamps, and NaN is grey', () => {
  const scale = divergingScale([[-1, 0.5], [3, NaN]]);
  assert.equal(scale.min, -3);
  assert.equal(scale.max, 3);
  assert.equal(scale.color(-3), '#053061');
  assert.equal(scale.color(0), '#f7f7f7');
  assert.equal(scale.color(3), '#67001f');
  assert.equal(scale.color(-30), '#053061');
  assert.equal(scale.color(30), '#67001f');
  assert.equal(scale.color(NaN), MISSING_COLOR);
  assert.deepEqual(scale.ticks, [-3, -1.5, 0, 1.5, 3]);
  // Symmetric: a value and its negation sit at mirrored stops (blue for negative, red for positive).
  const [r, , b] = [1, 3, 5].map((i) => parseInt(scale.color(1.2).slice(i, i + 2), 16));
  assert.ok(r > b, 'positive values are red');
  const [r2, , b2] = [1, 3, 5].map((i) => parseInt(scale.color(-1.2).slice(i, i + 2), 16));
  assert.ok(b2 > r2, 'negative values are blue');
});

test('diverging scale around a centre: the centre is white and the limit is the farthest value from it', () => {
  const scale = divergingScale([0.2, 0.9], { center: 0.5 });
  assert.equal(scale.color(0.5), '#f7f7f7');
  assert.ok(Math.abs(scale.min - 0.1) < 1e-12 && Math.abs(scale.max - 0.9) < 1e-12);
  assert.equal(scale.color(0.9), '#67001f');
  assert.equal(divergingScale([0, 0]).max, 1, 'all-zero data still has a usable range');
  assert.equal(divergingScale([5], { limit: 10 }).max, 10);
});

test('sequential scale: min, middle and max are viridis\'s ends and middle; default range is the data\'s', () => {
  const scale = sequentialScale([[0.2, 0.6], [1.0, NaN]]);
  assert.equal(scale.min, 0.2);
  assert.equal(scale.max, 1.0);
  assert.equal(scale.color(0.2), '#440154');
  assert.equal(scale.color(0.6), '#21918c');
  assert.equal(scale.color(1.0), '#fde725');
  assert.equal(scale.color(-5), '#440154');
  assert.equal(scale.color(NaN), MISSING_COLOR);
  const fixed = sequentialScale([0.001], { min: 0, max: 1 });
  assert.deepEqual([fixed.min, fixed.max], [0, 1]);
  assert.equal(sequentialScale([2, 2]).max, 3, 'a constant grid still has a range');
});

test('text colour: white on dark cells, near-black on light ones', () => {
  assert.equal(textColorOn('#440154'), '#ffffff');
  assert.equal(textColorOn('#053061'), '#ffffff');
  assert.equal(textColorOn('#fde725'), '#111111');
  assert.equal(textColorOn('#f7f7f7'), '#111111');
});

test('heatmap cells: one rect per value, filled with the scale\'s colour; NaN cells grey and marked n/a', () => {
  const values = [[-2, 0, 2], [1, NaN, -1]];
  const scale = divergingScale(values);
  const parsed = parseSvg(svgDocument(heatmapFigure({
    title: 't', values, rowLabels: ['a', 'b'], columnLabels: ['x', 'y', 'z'], scale, legendLabel: 'v', cellWidth: 50, cellHeight: 20,
  })));
  const cells = parsed.attributes.filter((a, i) => parsed.elements[i] === 'rect' && a.width === '50' && a.height === '20');
  assert.equal(cells.length, 6);
  assert.deepEqual(cells.map((c) => c.fill), values.flat().map((v) => scale.color(v)));
  assert.ok(parsed.texts.includes('n/a'));
  assert.ok(parsed.texts.includes('−2.00') && parsed.texts.includes('2.00'), 'cell values are written with a shared format');
});

test('bar chart: bar lengths are proportional to |value|, red for positive, blue for negative', () => {
  const values = [3, -1.5, 0.75];
  const parsed = parseSvg(svgDocument(barChartFigure({ title: 't', labels: ['a', 'b', 'c'], values, valueAxisLabel: 'v', plotWidth: 450 })));
  const bars = parsed.attributes.filter((a, i) => parsed.elements[i] === 'rect' && (a.fill === POSITIVE_COLOR || a.fill === NEGATIVE_COLOR));
  assert.deepEqual(bars.map((b) => b.fill), [POSITIVE_COLOR, NEGATIVE_COLOR, POSITIVE_COLOR]);
  // The axis spans [-1.5, 3] over 450 px: 100 px per unit.
  assert.deepEqual(bars.map((b) => Number(b.width)), [300, 150, 75]);
  const zero = Number(bars[0].x);
  assert.equal(Number(bars[1].x), zero - 150, 'a negative bar ends at zero');
});

test('niceTicks: round steps of 1, 2 or 5 × 10^k covering the range', () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(-0.016, 0.237), [-0.1, 0, 0.1, 0.2, 0.3]);
  assert.deepEqual(niceTicks(-3, 3), [-4, -2, 0, 2, 4]);
  for (const [lo, hi] of [[-7.3, 12.1], [0.001, 0.0042], [-1e6, 3e5], [5, 6]]) {
    const ticks = niceTicks(lo, hi);
    assert.ok(ticks[0] <= lo && ticks[ticks.length - 1] >= hi, `[${ticks}] covers [${lo}, ${hi}]`);
    const step = ticks[1] - ticks[0];
    const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
    assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6), `step ${step} is 1, 2 or 5 × 10^k`);
    assert.ok(ticks.length >= 3 && ticks.length <= 12);
  }
});

test('number formats: 3 significant digits alone; shared decimals that tell close values apart', () => {
  assert.equal(formatValue(0.123456), '0.123');
  assert.equal(formatValue(-2.5e-5), '−2.5e-5');
  assert.equal(formatValue(NaN), 'n/a');
  const close = valueFormatter([0.6598, 0.6602]);
  assert.notEqual(close(0.6598), close(0.6602));
  assert.equal(valueFormatter([-1, 1])(0.5), '0.50');
  assert.equal(valueFormatter([-1, 1])(-0.001), '0.00', 'no negative zero');
  assert.equal(valueFormatter([1e-5, 3e-5])(2e-5), '2.0e-5', 'tiny values keep significant digits');
});

test('text fitting: ASCII widths are DejaVu Sans advances; fitted text is no wider than asked', () => {
  assert.ok(Math.abs(textWidth('When', 10) - 10 * (0.989 + 0.634 + 0.615 + 0.634)) < 1e-9);
  for (const text of ['a very long token string indeed', '東京東京東京東京', 'x']) {
    for (const max of [20, 45, 200]) {
      const fitted = fitText(text, max, 12);
      assert.ok(fitted === text || textWidth(fitted, 12) <= max || [...fitted].length === 2, `${fitted} fits ${max}`);
      const tail = fitTextStart(text, max, 12);
      assert.ok(tail === text || (tail.startsWith('…') && text.endsWith(tail.slice(1))));
    }
  }
  assert.equal(fitText('short', 500, 12), 'short');
});

test('visibleToken shows whitespace and control characters', () => {
  assert.equal(visibleToken(' the'), '␣the');
  assert.equal(visibleToken('\n\t'), '↵⇥');
  assert.equal(visibleToken('\u0001'), '\\x01');
  assert.equal(visibleToken(''), '∅');
});

test('arrangeFigures: rows, columns and grids add up sizes and gaps; the title widens the figure when needed', () => {
  const a = { width: 100, height: 50, body: '<rect/>' };
  const b = { width: 60, height: 80, body: '<rect/>' };
  assert.deepEqual([arrangeFigures([a, b], { direction: 'row', gap: 10 })].map((f) => [f.width, f.height])[0], [170, 80]);
  assert.deepEqual([arrangeFigures([a, b], { gap: 10 })].map((f) => [f.width, f.height])[0], [100, 140]);
  const grid = arrangeFigures([a, b, a], { direction: 'row', columns: 2, gap: 10 });
  assert.deepEqual([grid.width, grid.height], [170, 140]);
  const titled = arrangeFigures([a], { title: 'a rather long title for such a small figure' });
  assert.ok(titled.width > 100 && titled.height === 84);
  parseSvg(svgDocument(grid));
});
