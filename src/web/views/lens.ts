// The logit lens: what the residual stream entering each layer (and the model's output) predicts
// at each position, decoded through the final norm and unembedding. Each cell shows its top token;
// the colour is the probability of the target token (of the top token when there is none).

import type { LensResponse } from '../../api/protocol.js';
import { sequentialScale } from '../../index.js';
import { promptOf, tokenSpec, type View, type ViewContext } from '../app/context.js';
import { h, percent, replaceChildren, showToken } from '../app/dom.js';
import { Fetcher } from '../app/fetcher.js';
import { touched, type AppState } from '../app/state.js';
import { heatmap, positionLabels } from '../charts/heatmap.js';
import { tokenInput, type TokenInput } from './token-input.js';

export class LensView implements View {
  readonly element = h('div', { class: 'view lens-view' });
  private readonly chart = h('section', { class: 'panel', 'aria-live': 'polite' });
  private readonly target: TokenInput;
  private response: LensResponse | null = null;
  private readonly fetcher = new Fetcher<LensResponse>({
    result: (response) => {
      this.response = response;
      this.draw(this.context.store.get());
    },
    error: (message) => replaceChildren(this.chart, h('p', { class: 'error' }, message)),
    busy: (busy) => this.chart.classList.toggle('busy', busy),
  });

  constructor(private readonly context: ViewContext) {
    this.target = tokenInput(context, 'Target token', 'colour = its probability', (token) => context.store.update({ target: token }));
    this.element.append(h('div', { class: 'controls' }, this.target.element), this.chart);
  }

  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void {
    if (touched(changed, 'target')) this.target.show(state.target);
    if (touched(changed, 'run', 'model')) this.response = null;
    if (state.view !== 'lens' || !state.run || !state.model) return;
    const request = { ...promptOf(state), target: tokenSpec(state.target), topK: 5 };
    this.fetcher.fetch(JSON.stringify(request), (signal) => this.context.client().call('lens', request, { signal }));
    if (touched(changed, 'position', 'view') && this.response) this.draw(state);
  }

  private draw(state: Readonly<AppState>): void {
    const response = this.response;
    if (!response) return;
    const probs = response.targetProbs ?? response.top.map((row) => row.map((cell) => cell[0].prob));
    const legend = response.target ? `P(${JSON.stringify(response.target.text)})` : 'P(top token)';
    const rowLabels = response.rows.map((row) => row.replace(/^(\d+)_pre$/, 'L$1 in').replace('final_post', 'output'));
    const columns = positionLabels(response.tokens);
    const chart = heatmap({
      label: 'logit lens',
      values: probs,
      rowLabels,
      columnLabels: columns,
      rowAxis: 'residual stream',
      columnAxis: 'position (predicting the next token)',
      cellText: response.top.map((row) => row.map((cell) => showToken(cell[0].text))),
      scale: sequentialScale([], { min: 0, max: 1 }),
      legend,
      selected: { column: state.position },
      cellWidth: 58,
      fitWidth: this.chart.clientWidth - 26,
      minCellWidth: 40,
      tooltip: (r, c) => [
        `${rowLabels[r]} · ${columns[c]}`,
        ...response.top[r][c].map((t, k) => `${k + 1}. ${showToken(t.text)}  ${percent(t.prob)}`),
        ...(response.target && response.targetProbs && response.targetRanks
          ? [`target ${showToken(response.target.text)}: ${percent(response.targetProbs[r][c])}, rank ${response.targetRanks[r][c] + 1}`]
          : []),
      ],
      onSelect: (_, c) => this.context.store.update({ position: c }),
    });
    replaceChildren(this.chart,
      h('h3', {}, 'Logit lens'),
      h('p', { class: 'hint' }, `Each row decodes the residual stream entering a layer (and the model's output) with the final norm and unembedding. Text: the top token. Colour: ${legend}.`),
      chart);
  }
}
