// Attention: every head's pattern as small multiples (layers × heads), one head in detail (query ×
// key matrix with hover values, plus the selected token's attention over the prompt), and the
// head-detection scores (previous-token, duplicate-token, induction) as a layer × head heatmap.
// Choosing a head anywhere selects it everywhere; the selected position is the highlighted query.

import { decodeFloat32 } from '../../api/encoding.js';
import type { HeadKind, RunResponse } from '../../api/protocol.js';
import { sequentialScale, type ColorScale } from '../../index.js';
import type { View, ViewContext } from '../app/context.js';
import { h, percent, replaceChildren, showToken } from '../app/dom.js';
import { touched, type AppState } from '../app/state.js';
import { attentionColor, attentionTextColor } from '../charts/colors.js';
import { heatmap, positionLabels } from '../charts/heatmap.js';

/** [layer][head] → Float32Array of query × key, decoded once per run. */
const decoded = new WeakMap<RunResponse, Float32Array>();

function patterns(run: RunResponse): Float32Array | null {
  if (!run.attention) return null;
  let data = decoded.get(run);
  if (!data) decoded.set(run, (data = decodeFloat32(run.attention)));
  return data;
}

function headPattern(run: RunResponse, layer: number, head: number): number[][] {
  const data = patterns(run) as Float32Array;
  const [, nHeads, n] = (run.attention as { shape: number[] }).shape;
  const start = (layer * nHeads + head) * n * n;
  return Array.from({ length: n }, (_, q) => Array.from(data.subarray(start + q * n, start + (q + 1) * n)));
}

const ATTENTION_SCALE: ColorScale = { kind: 'sequential', min: 0, max: 1, color: attentionColor, ticks: [0, 0.5, 1] };

const KIND_LABELS: Record<HeadKind, string> = {
  previous_token: 'previous-token',
  duplicate_token: 'duplicate-token',
  induction: 'induction',
};

export class AttentionView implements View {
  readonly element = h('div', { class: 'view attention-view' });
  private readonly grid = h('div', { class: 'head-grid-wrap' });
  private readonly detail = h('div', { class: 'head-detail' });
  private readonly scores = h('div', { class: 'head-scores' });
  private kind: HeadKind = 'previous_token';

  constructor(private readonly context: ViewContext) {
    this.element.append(
      h('div', { class: 'attention-columns' },
        h('div', { class: 'attention-side' },
          h('section', { class: 'panel' }, h('h3', {}, 'All heads'), h('p', { class: 'hint' }, 'Rows: layers. Columns: heads. Each square: queries ↓ × keys →.'), this.grid),
          h('section', { class: 'panel' }, this.scores)),
        h('section', { class: 'panel' }, this.detail)),
    );
  }

  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void {
    if (!touched(changed, 'run', 'layer', 'head', 'position', 'view')) return;
    if (state.view !== 'attention') return;
    const run = state.run;
    if (!run || !run.attention) {
      replaceChildren(this.grid, h('p', { class: 'muted' }, 'Run a prompt to see its attention patterns.'));
      this.detail.replaceChildren();
      this.scores.replaceChildren();
      return;
    }
    if (touched(changed, 'run', 'view')) this.drawGrid(run);
    this.markSelectedHead(state);
    this.drawScores(run, state);
    this.drawDetail(run, state); // last: it fits the width the other column leaves
  }

  private select(layer: number, head: number): void {
    this.context.store.update({ layer, head });
  }

  private drawGrid(run: RunResponse): void {
    const [nLayers, nHeads, n] = (run.attention as { shape: number[] }).shape;
    // Small multiples fit about 300 px across, whatever the number of heads.
    const size = Math.max(18, Math.min(56, Math.floor(300 / nHeads) - 8));
    const cells: HTMLElement[] = [h('span', {})];
    for (let head = 0; head < nHeads; head++) cells.push(h('span', { class: 'grid-label' }, `H${head}`));
    for (let layer = 0; layer < nLayers; layer++) {
      cells.push(h('span', { class: 'grid-label' }, `L${layer}`));
      for (let head = 0; head < nHeads; head++) {
        const canvas = h('canvas', { width: n, height: n, style: `width:${size}px;height:${size}px` });
        paint(canvas, headPattern(run, layer, head));
        cells.push(h('button', {
          type: 'button', class: 'head-thumb', 'data-layer': layer, 'data-head': head, 'aria-label': `layer ${layer} head ${head}`,
          tabindex: -1, onClick: () => this.select(layer, head),
        }, canvas));
      }
    }
    const grid = h('div', { class: 'head-grid', role: 'grid', 'aria-label': 'attention patterns of every head (arrow keys move)', style: `grid-template-columns: auto repeat(${nHeads}, ${size + 6}px)` }, ...cells);
    grid.addEventListener('keydown', (event) => {
      const { layer, head } = this.context.store.get();
      const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      const move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      this.select(Math.min(nLayers - 1, Math.max(0, layer + move[0])), Math.min(nHeads - 1, Math.max(0, head + move[1])));
      (grid.querySelector('[tabindex="0"]') as HTMLElement | null)?.focus();
    });
    replaceChildren(this.grid, grid);
  }

  private markSelectedHead(state: Readonly<AppState>): void {
    for (const thumb of this.grid.querySelectorAll<HTMLElement>('.head-thumb')) {
      const selected = Number(thumb.dataset.layer) === state.layer && Number(thumb.dataset.head) === state.head;
      thumb.classList.toggle('selected', selected);
      thumb.tabIndex = selected ? 0 : -1;
      thumb.setAttribute('aria-pressed', String(selected));
    }
  }

  private drawDetail(run: RunResponse, state: Readonly<AppState>): void {
    const [nLayers, nHeads] = (run.attention as { shape: number[] }).shape;
    const layer = Math.min(state.layer, nLayers - 1);
    const head = Math.min(state.head, nHeads - 1);
    const pattern = headPattern(run, layer, head);
    const labels = positionLabels(run.tokens);
    const scoreText = run.headScores
      ? (Object.keys(KIND_LABELS) as HeadKind[]).map((kind) => `${KIND_LABELS[kind]} ${formatScore(run.headScores?.scores[kind][layer][head] ?? null)}`).join(' · ')
      : 'head scores need at least two tokens';
    const query = Math.min(state.position, run.tokens.length - 1);
    const row = pattern[query];
    const strip = h('div', { class: 'attention-strip', 'aria-label': `attention from token ${query} to each earlier token` },
      ...run.tokens.map((token, key) => h('span', {
        class: key === query ? 'strip-token query' : 'strip-token', 'data-weight': row[key],
        style: `background:${attentionColor(row[key])};color:${attentionTextColor(row[key])}`,
        title: `${percent(row[key])} of token ${query}'s attention`,
      }, showToken(token.text))));
    const matrix = heatmap({
      label: `attention pattern L${layer}H${head}`,
      values: pattern,
      rowLabels: labels,
      columnLabels: labels,
      rowAxis: 'query',
      columnAxis: 'key',
      showValues: run.tokens.length <= 12,
      scale: ATTENTION_SCALE,
      legend: 'attention weight',
      selected: { row: query },
      tooltip: (q, k) => [`query ${labels[q]} → key ${labels[k]}`, `${percent(pattern[q][k])} (${pattern[q][k].toFixed(4)})`],
      onSelect: (q) => this.context.store.update({ position: q }),
      cellWidth: run.tokens.length <= 12 ? 40 : 24,
      cellHeight: run.tokens.length <= 12 ? 24 : 18,
      fitWidth: this.detail.clientWidth,
      minCellWidth: 14,
    });
    replaceChildren(this.detail,
      h('h3', {}, `Layer ${layer}, head ${head}`),
      h('p', { class: 'subtitle' }, scoreText),
      h('p', { class: 'hint' }, `Attention from the selected token (${query} ${showToken(run.tokens[query].text)}):`),
      strip,
      matrix);
  }

  private drawScores(run: RunResponse, state: Readonly<AppState>): void {
    if (!run.headScores) {
      replaceChildren(this.scores, h('h3', {}, 'Head scores'), h('p', { class: 'muted' }, 'Head scores need a prompt of at least two tokens.'));
      return;
    }
    const values = run.headScores.scores[this.kind];
    const select = h('select', { 'aria-label': 'which head score' },
      ...(Object.keys(KIND_LABELS) as HeadKind[]).map((kind) => h('option', { value: kind, selected: kind === this.kind }, KIND_LABELS[kind])));
    select.addEventListener('change', () => {
      this.kind = select.value as HeadKind;
      this.drawScores(run, this.context.store.get());
    });
    const chart = heatmap({
      label: `${KIND_LABELS[this.kind]} head scores`,
      values,
      rowLabels: values.map((_, l) => `L${l}`),
      columnLabels: values[0].map((_, hIndex) => `H${hIndex}`),
      rowAxis: 'layer',
      columnAxis: 'head',
      scale: sequentialScale([], { min: 0, max: 1 }),
      legend: 'score',
      selected: {},
      tooltip: (l, hIndex) => [`layer ${l} head ${hIndex}`, `${KIND_LABELS[this.kind]} score ${formatScore(values[l][hIndex])}`],
      onSelect: (l, hIndex) => this.select(l, hIndex),
    });
    chart.querySelector(`rect.cell[data-row="${state.layer}"][data-col="${state.head}"]`)?.classList.add('chosen');
    replaceChildren(this.scores,
      h('div', { class: 'panel-head' }, h('h3', {}, 'Head scores'), select),
      h('p', { class: 'hint' }, 'Share of each head\'s attention that lands where the pattern says (1 = all of it), on this prompt.'),
      chart);
  }
}

function formatScore(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(2);
}

/** The pattern into a canvas of n × n pixels (the element scales it up, pixelated). */
function paint(canvas: HTMLCanvasElement, pattern: number[][]): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const n = pattern.length;
  const image = context.createImageData(n, n);
  for (let q = 0; q < n; q++) {
    for (let k = 0; k < n; k++) {
      const [r, g, b] = attentionColor(pattern[q][k]).match(/\d+/g)?.map(Number) ?? [255, 255, 255];
      const i = (q * n + k) * 4;
      image.data.set([r, g, b, 255], i);
    }
  }
  context.putImageData(image, 0, 0);
}
