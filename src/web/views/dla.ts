// Direct logit attribution: how much each component (embeddings, each layer's attention and MLP)
// and each attention head writes directly onto the target's logit — or onto target − distractor —
// at the selected position. The bars sum, with the norm's constant, to the model's own logit.

import type { DlaResponse } from '../../api/protocol.js';
import { divergingScale, formatValue } from '../../index.js';
import { promptOf, tokenSpec, type View, type ViewContext } from '../app/context.js';
import { h, replaceChildren, showToken } from '../app/dom.js';
import { Fetcher } from '../app/fetcher.js';
import { touched, type AppState } from '../app/state.js';
import { bars } from '../charts/bars.js';
import { heatmap } from '../charts/heatmap.js';
import { tokenInput, type TokenInput } from './token-input.js';

function componentLabel(label: string): string {
  const match = /^(\d+)_(attn|mlp)_out$/.exec(label);
  return match ? `L${match[1]} ${match[2]}` : label.replace('_', ' ');
}

export class DlaView implements View {
  readonly element = h('div', { class: 'view dla-view' });
  private readonly output = h('div', { class: 'dla-output', 'aria-live': 'polite' });
  private readonly target: TokenInput;
  private readonly distractor: TokenInput;
  private response: DlaResponse | null = null;
  private readonly fetcher = new Fetcher<DlaResponse>({
    result: (response) => {
      this.response = response;
      this.draw(this.context.store.get());
    },
    error: (message) => replaceChildren(this.output, h('p', { class: 'error' }, message)),
    busy: (busy) => this.output.classList.toggle('busy', busy),
  });

  constructor(private readonly context: ViewContext) {
    this.target = tokenInput(context, 'Target token', 'whose logit is explained', (token) => context.store.update({ target: token }));
    this.distractor = tokenInput(context, 'Minus (optional)', 'explain target − this token', (token) => context.store.update({ distractor: token }), true);
    this.element.append(h('div', { class: 'controls' }, this.target.element, this.distractor.element), this.output);
  }

  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void {
    if (touched(changed, 'target')) this.target.show(state.target);
    if (touched(changed, 'distractor')) this.distractor.show(state.distractor);
    if (state.view !== 'dla' || !state.run || !state.model) return;
    if (!state.target) {
      replaceChildren(this.output, h('p', { class: 'muted' }, 'Choose a target token (type one, or pick a prediction).'));
      return;
    }
    const request = { ...promptOf(state), target: tokenSpec(state.target) as number, distractor: tokenSpec(state.distractor), position: state.position };
    this.fetcher.fetch(JSON.stringify(request), (signal) => this.context.client().call('dla', request, { signal }));
    if (touched(changed, 'layer', 'head') && this.response) this.draw(state);
  }

  private draw(state: Readonly<AppState>): void {
    const r = this.response;
    if (!r) return;
    const what = r.distractor ? `logit(${JSON.stringify(r.target.text)}) − logit(${JSON.stringify(r.distractor.text)})` : `logit(${JSON.stringify(r.target.text)})`;
    const labels = r.components.map((c) => componentLabel(c.label));
    const layerOf = (label: string) => Number(/^(\d+)_/.exec(label)?.[1] ?? -1);
    const chart = bars({
      label: 'direct logit attribution by component',
      labels,
      values: r.components.map((c) => c.value),
      axis: `direct contribution to ${what}`,
      highlight: (i) => layerOf(r.components[i].label) === state.layer,
      onSelect: (i) => {
        const layer = layerOf(r.components[i].label);
        if (layer >= 0) this.context.store.update({ layer });
      },
    });
    const parts: (HTMLElement | null)[] = [
      h('h3', {}, `Direct logit attribution at ${r.position} ${showToken(r.tokens[r.position].text)}`),
      h('p', { class: 'subtitle' }, `${what}: components sum to ${formatValue(r.total)} (with the norm's constant ${formatValue(r.constant)}); the model's own value is ${formatValue(r.modelLogit)}.`),
      chart,
    ];
    if (r.heads) {
      const heads = r.heads;
      const chosen = heatmap({
        label: 'direct logit attribution by head',
        values: heads,
        rowLabels: heads.map((_, l) => `L${l}`),
        columnLabels: heads[0].map((_, hIndex) => `H${hIndex}`),
        rowAxis: 'layer',
        columnAxis: 'head',
        scale: divergingScale(heads),
        legend: 'direct contribution',
        tooltip: (l, hIndex) => [`layer ${l} head ${hIndex}`, `${formatValue(heads[l][hIndex])} on ${what}`],
        onSelect: (l, hIndex) => this.context.store.update({ layer: l, head: hIndex }),
      });
      chosen.querySelector(`rect.cell[data-row="${state.layer}"][data-col="${state.head}"]`)?.classList.add('chosen');
      parts.push(h('h3', {}, 'By attention head'), h('p', { class: 'hint' }, 'Choose a head to see its pattern in the attention view.'), chosen);
    }
    replaceChildren(this.output, h('section', { class: 'panel' }, ...parts.slice(0, 3)), parts.length > 3 ? h('section', { class: 'panel' }, ...parts.slice(3)) : null);
  }
}
