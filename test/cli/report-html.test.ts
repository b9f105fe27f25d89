// The report layout on its own: hostile text stays text, the JSON block round-trips, the line
// chart is well-formed and puts points where its axes say, --out resolves to the right file, and
// a report stops at the next step once its signal is aborted.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { paragraph, figure, renderReport, table, inline, type ReportDocument } from '../../src/cli/report/html.js';
import { lineChartFigure } from '../../src/cli/report/line-chart.js';
import { reportPath } from '../../src/cli/report/output.js';
import { ReportSteps } from '../../src/cli/report/steps.js';
import { UsageError } from '../../src/cli/flags.js';
import { parseSvg } from './analysis-helpers.js';
import { assertWellFormedReport, parseReport } from './report-helpers.js';

const HOSTILE = 'a <b> & "c" \'d\' </script> \u0001 ]]>';

function documentWith(data: unknown): ReportDocument {
  const chart = lineChartFigure({ title: HOSTILE, series: [{ name: HOSTILE, points: [[0, 1], [1, 2], [2, 0.5]] }], xLabel: 'x', yLabel: 'y' });
  return {
    title: HOSTILE, lede: `lede ${HOSTILE}`, meta: [['model', HOSTILE]],
    sections: [{
      id: 'one', title: HOSTILE, claim: `A claim about ${HOSTILE}.`, method: `A method with \`code ${HOSTILE}\` and **bold**.`,
      blocks: [
        paragraph(HOSTILE),
        figure(chart, HOSTILE, `A caption that explains how to read ${HOSTILE}.`),
        table({ caption: HOSTILE, header: ['name', 'value'], rows: [[HOSTILE, { text: '1.5', value: 1.5 }], ['nan', { text: 'n/a', value: Number.NaN }]] }),
      ],
      verdict: { status: 'not met', text: `Because ${HOSTILE}, not met.` },
      seconds: 1.25,
    }],
    data,
  };
}

describe('report html', () => {
  test('hostile text stays text; the JSON block round-trips; the document is well-formed XML', () => {
    const data = { text: HOSTILE, nested: [1, 2.5, -3e-9], missing: Number.NaN };
    const html = renderReport(documentWith(data));
    const report = parseReport(html);
    assertWellFormedReport(report, ['one']);
    assert.deepEqual(report.data, { ...data, text: HOSTILE.replace('\u0001', '\u0001'), missing: null });
    const printable = HOSTILE.replace('\u0001', '\uFFFD');
    assert.equal(report.title, printable);
    assert.ok(report.sections[0].text.includes(`${printable}`), 'paragraph text survives');
    assert.equal(report.sections[0].verdictStatus, 'not met');
    assert.deepEqual(report.sections[0].values.slice(0, 1), [1.5]);
    assert.ok(Number.isNaN(report.sections[0].values[1]), 'NaN cells keep data-value="NaN"');
    assert.ok(!html.includes('</script> '), 'no closing script tag inside the JSON');
  });

  test('inline markup: code and bold spans, everything else escaped', () => {
    assert.equal(inline('a `x<y` **b&c** <i>'), 'a <code>x&lt;y</code> <strong>b&amp;c</strong> &lt;i&gt;');
  });

  test('line chart: well-formed, points where the axes put them, NaN breaks the line, log1p axis starts at 0', () => {
    const fig = lineChartFigure({
      title: 'faithfulness', series: [{ name: 'a', points: [[0, 0], [9, 0.5], [99, Number.NaN], [999, 1]] }],
      xLabel: 'edges', yLabel: 'f', xScale: 'log1p', yMin: 0, yMax: 1, plotWidth: 300, plotHeight: 100, markers: true,
    });
    const svg = parseSvg(`<svg xmlns="http://www.w3.org/2000/svg" width="${fig.width}" height="${fig.height}">${fig.body}</svg>`);
    const path = svg.attributes.find((a, i) => svg.elements[i] === 'path' && a.fill === 'none' && a['stroke-width'] === '2') as Record<string, string>;
    const moves = [...path.d.matchAll(/([ML])([\d.]+) ([\d.]+)/g)].map((m) => ({ op: m[1], x: Number(m[2]), y: Number(m[3]) }));
    assert.deepEqual(moves.map((m) => m.op), ['M', 'L', 'M'], 'the NaN point breaks the line');
    const [p0, p9, p999] = moves;
    // log10(1 + x) spacing: 0 → 0, 9 → 1, 999 → 3 of 3 decades.
    assert.ok(Math.abs((p9.x - p0.x) / (p999.x - p0.x) - 1 / 3) < 0.01, `x of 9 is a third of the way: ${JSON.stringify(moves)}`);
    assert.ok(Math.abs(p0.y - p999.y - 100) < 0.01, 'y 0 and 1 span the plot height');
    assert.ok(Math.abs((p0.y - p9.y) - 50) < 0.01, 'y 0.5 is halfway');
  });

  test('--out: a folder gets <kind>.html, an .html path is the file, none is a usage error', () => {
    assert.equal(reportPath('out/dir', 'ioi'), join('out/dir', 'ioi.html'));
    assert.equal(reportPath('x/induction-2l.HTML', 'induction'), 'x/induction-2l.HTML');
    assert.throws(() => reportPath(undefined, 'facts'), UsageError);
  });

  test('steps: an aborted signal stops the report before the next step', async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const steps = new ReportSteps({ out: () => {}, err: (t) => { lines.push(t); }, errIsTTY: false }, controller.signal, 'test', 2);
    const first = await steps.run('first', () => 41 + 1);
    assert.equal(first.value, 42);
    controller.abort(new DOMException('interrupted', 'AbortError'));
    let ran = false;
    await assert.rejects(steps.run('second', () => { ran = true; }), /interrupted/);
    assert.equal(ran, false);
    assert.match(lines.join(''), /\[test 1\/2\] first\n {2}done in \d+\.\d s\n/);
  });
});
