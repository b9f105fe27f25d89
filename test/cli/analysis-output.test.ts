// The pieces the analysis commands print and write with: tables, wrapped columns, number formats,
// figure files (.svg as is, .png through resvg with the shipped font), steering vector files.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { svgDocument } from '../../src/analysis/plots/index.js';
import { decodeText, formatNumber, parseIdList, tableFormatter, tokenStrings } from '../../src/cli/analysis-args.js';
import { figureFormat, writeFigure } from '../../src/cli/figure-file.js';
import { PNG_SCALE, svgToPng } from '../../src/cli/png.js';
import { sweepProgress } from '../../src/cli/progress.js';
import { readSteeringVector, writeSteeringVector } from '../../src/cli/steering-vector-file.js';
import { clip, formatTable, wrapText } from '../../src/cli/table.js';
import { Tokenizer } from '../../src/io/tokenizer.js';
import { FormatError } from '../../src/util/errors.js';
import { makeTempDir } from '../io/fixture-paths.js';
import { pngSize, readSvg } from './analysis-helpers.js';
import { GPT2_TOKENIZER } from './run-cli.js';

const { dir, cleanup } = makeTempDir('cli-analysis-output');
after(cleanup);

test('formatTable pads columns: the first left-aligned, the rest right-aligned unless told', () => {
  assert.equal(formatTable(['a', 'bb'], [['xyz', '1'], ['w', '22']]), 'a    bb\nxyz   1\nw    22');
  assert.equal(formatTable(['a', 'b'], [['1', 'x']], { align: ['right', 'left'] }), 'a  b\n1  x');
});

test('wrapText keeps every character, breaks at spaces, splits long words, keeps newlines', () => {
  const text = 'the quick brown fox jumps over a extraordinarilylongword\nsecond line';
  const lines = wrapText(text, 10);
  assert.ok(lines.every((l) => [...l].length <= 10), JSON.stringify(lines));
  assert.equal(lines.join('').replace(/ /g, ''), text.replace(/[ \n]/g, ''));
  assert.deepEqual(wrapText('ab cd', 5), ['ab cd']);
  assert.deepEqual(wrapText('a\n\nb', 5), ['a', '', 'b']);
  assert.equal(clip('abcdef', 4), 'abc…');
});

test('numbers in tables: significant digits alone, shared decimals in a table, ASCII minus', () => {
  assert.equal(formatNumber(0.000012345), '1.23e-5');
  assert.equal(formatNumber(-1.23456), '-1.235');
  const format = tableFormatter([0.65977, 0.66024]);
  assert.notEqual(format(0.65977), format(0.66024));
  assert.ok(!format(-0.5).includes('−'));
  assert.deepEqual(parseIdList('ids', ' 1, 2,3 '), [1, 2, 3]);
  assert.throws(() => parseIdList('ids', '1,x'), /--ids: 'x' is not a token id/);
});

test('figure files: the extension picks the format; a PNG is the SVG at PNG_SCALE, with its text drawn', async () => {
  assert.equal(figureFormat('a/b.SVG'), 'svg');
  assert.equal(figureFormat('plot.png'), 'png');
  assert.throws(() => figureFormat('plot.jpg'), /--out must end in \.svg or \.png, got 'plot\.jpg'/);
  const figure = (label: string) => ({ width: 120.4, height: 40, body: `<text x="4" y="24" font-size="14">${label}</text>` });
  await writeFigure(join(dir, 'f.svg'), figure('Mary ␣ «x»'));
  await writeFigure(join(dir, 'f.png'), figure('Mary ␣ «x»'));
  assert.equal(readFileSync(join(dir, 'f.svg'), 'utf8'), svgDocument(figure('Mary ␣ «x»')));
  assert.deepEqual(readSvg(join(dir, 'f.svg')).texts, ['Mary ␣ «x»']);
  assert.deepEqual(pngSize(join(dir, 'f.png')), { width: 121 * PNG_SCALE, height: 40 * PNG_SCALE });
  // Text is drawn only if a font loaded (resvg draws nothing for text without one): the images differ.
  const withText = await svgToPng(svgDocument(figure('Mary')));
  const blank = await svgToPng(svgDocument(figure('')));
  assert.notDeepEqual(withText, blank);
});

test('steering vector files: .json and .safetensors round-trip; wrong contents fail with FormatError', async () => {
  const values = Float32Array.from([0.5, -1.25, 3]);
  for (const name of ['v.json', 'v.safetensors']) {
    await writeSteeringVector(join(dir, name), values, { layer: '1' });
    assert.deepEqual(await readSteeringVector(join(dir, name)), values);
  }
  writeFileSync(join(dir, 'object.json'), JSON.stringify({ steering_vector: [1, 2] }));
  assert.deepEqual(await readSteeringVector(join(dir, 'object.json')), Float32Array.from([1, 2]));
  writeFileSync(join(dir, 'bad.json'), '[1, "two"]');
  await assert.rejects(readSteeringVector(join(dir, 'bad.json')), (err) => err instanceof FormatError && /must be a JSON array of finite numbers/.test(err.message));
  await assert.rejects(readSteeringVector(join(dir, 'v.txt')), /--vector must be a \.safetensors or \.json file/);
});

test('token display: pieces of a multi-byte character show their bytes; ids the tokenizer lacks show as #id', async () => {
  const tokenizer = await Tokenizer.fromFile(GPT2_TOKENIZER);
  const mary = tokenizer.encode(' Mary', { addSpecialTokens: false })[0];
  const rare = tokenizer.encode('龘', { addSpecialTokens: false }); // bytes E9 BE 98, split over two tokens
  const strings = tokenStrings([mary, ...rare, 60000], tokenizer);
  assert.equal(strings[0], ' Mary');
  assert.equal(rare.length, 2);
  assert.equal(strings.slice(1, -1).join(''), '<0xE9><0xBE><0x98>');
  assert.equal(strings.at(-1), '#60000');
  assert.deepEqual(tokenStrings([5, 7], null), ['#5', '#7']);
  assert.equal(decodeText([mary, 60000, mary], tokenizer), ' Mary#60000 Mary');
});

test('sweep progress: a bar redrawn in place on a terminal, nothing in a log', () => {
  const written: string[] = [];
  const tty = sweepProgress({ out() {}, err: (t) => written.push(t), errIsTTY: true }, 'patching z');
  tty.onProgress(12, 24);
  tty.finish();
  assert.deepEqual(written, [`\r\x1b[Kpatching z [${'#'.repeat(12)}${'-'.repeat(12)}]  50%  12/24`, '\r\x1b[K']);
  const logged: string[] = [];
  const log = sweepProgress({ out() {}, err: (t) => logged.push(t), errIsTTY: false }, 'patching z');
  log.onProgress(24, 24);
  log.finish();
  assert.deepEqual(logged, []);
});
