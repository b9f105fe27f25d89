// Next-token prediction at the selected position: the top-k tokens with their probabilities (bars)
// and logits. Choosing one makes it the target of the lens, DLA and patching views.

import type { View, ViewContext } from '../app/context.js';
import { h, percent, showToken } from '../app/dom.js';
import { touched, type AppState } from '../app/state.js';

export class PredictionView implements View {
  readonly element = h('section', { class: 'panel prediction', 'aria-labelledby': 'prediction-title' });

  constructor(private readonly context: ViewContext) {}

  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void {
    if (!touched(changed, 'run', 'position', 'target')) return;
    const run = state.run;
    const prediction = run?.predictions.find((p) => p.position === state.position);
    const token = run?.tokens[state.position];
    const title = h('h2', { id: 'prediction-title' }, 'Next token');
    if (!run || !prediction || !token) {
      this.element.replaceChildren(title, h('p', { class: 'muted' }, 'The model\'s top predictions after the selected token.'));
      return;
    }
    const rows = prediction.top.map((candidate, rank) => {
      const isTarget = state.target?.id === candidate.id;
      return h('li', {},
        h('button', {
          type: 'button', class: isTarget ? 'candidate target' : 'candidate', 'aria-pressed': String(isTarget),
          'data-id': candidate.id, 'data-prob': candidate.prob,
          title: `id ${candidate.id} · logit ${candidate.logit.toFixed(3)} · click to make it the target`,
          onClick: () => this.context.store.update({ target: { id: candidate.id, text: candidate.text } }),
        },
        h('span', { class: 'rank' }, String(rank + 1)),
        h('span', { class: 'candidate-text' }, showToken(candidate.text)),
        h('span', { class: 'prob-bar', style: `--p: ${candidate.prob}` }),
        h('span', { class: 'prob' }, percent(candidate.prob))));
    });
    this.element.replaceChildren(
      title,
      h('p', { class: 'subtitle' }, 'after ', h('strong', {}, `${state.position} ${showToken(token.text)}`)),
      h('ol', { class: 'candidates', 'aria-label': 'top next tokens; choose one as the target' }, ...rows),
      h('p', { class: 'hint' }, 'Choose a token to make it the target of the lens, DLA and patching.'),
    );
  }
}
