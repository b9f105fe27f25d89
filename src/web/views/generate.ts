// Generation with a steering vector: the contrast between a positive and a negative prompt's
// residual stream at a layer, added (times a coefficient) at every position while generating. The
// steered text sits beside the unsteered one; moving the slider regenerates.

import type { GenerateResponse, ResidualPoint } from '../../api/protocol.js';
import { formatValue } from '../../index.js';
import type { View, ViewContext } from '../app/context.js';
import { field, h, replaceChildren } from '../app/dom.js';
import { Fetcher } from '../app/fetcher.js';
import { touched, type AppState } from '../app/state.js';

export class GenerateView implements View {
  readonly element = h('div', { class: 'view generate-view' });
  private readonly positive = h('input', { type: 'text', spellcheck: 'false', value: 'The fox was very happy' });
  private readonly negative = h('input', { type: 'text', spellcheck: 'false', value: 'The fox was very tired' });
  private readonly layer = h('select', {});
  private readonly point = h('select', {}, ...(['resid_pre', 'resid_mid', 'resid_post'] as ResidualPoint[]).map((p) => h('option', { value: p }, p)));
  private readonly coefficient = h('input', { type: 'range', min: -4, max: 4, step: 0.25, value: 1, 'aria-label': 'steering coefficient' });
  private readonly coefficientText = h('output', {}, '1');
  private readonly tokens = h('input', { type: 'number', min: 1, max: 100, value: 20 });
  private readonly run = h('button', { type: 'button', class: 'primary' }, 'Generate');
  private readonly output = h('div', { class: 'generations', 'aria-live': 'polite' });
  private timer: number | undefined;
  private readonly fetcher = new Fetcher<GenerateResponse>({
    result: (response) => this.draw(response),
    error: (message) => replaceChildren(this.output, h('p', { class: 'error' }, message)),
    busy: (busy) => this.output.classList.toggle('busy', busy),
  });

  constructor(private readonly context: ViewContext) {
    this.run.addEventListener('click', () => this.generate());
    this.coefficient.addEventListener('input', () => {
      this.coefficientText.textContent = this.coefficient.value;
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.generate(), 350);
    });
    this.element.append(
      h('div', { class: 'controls' },
        h('p', { class: 'hint wide' }, 'Steering vector = residual stream of the positive prompt − that of the negative prompt (at their last tokens), at the chosen layer; it is added, times the coefficient, at every position.'),
        field('Positive prompt', this.positive), field('Negative prompt', this.negative),
        field('Layer', this.layer), field('Point', this.point),
        field('Coefficient', h('span', { class: 'slider' }, this.coefficient, this.coefficientText)),
        field('New tokens', this.tokens),
        h('div', { class: 'actions' }, this.run)),
      this.output);
  }

  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void {
    if (touched(changed, 'run') && state.run) {
      const layers = state.run.model.nLayers;
      if (this.layer.options.length !== layers) {
        this.layer.replaceChildren(...Array.from({ length: layers }, (_, l) => h('option', { value: l, selected: l === Math.floor(layers / 2) }, `L${l}`)));
      }
    }
    if (touched(changed, 'run', 'model')) {
      this.fetcher.reset();
      this.output.replaceChildren(h('p', { class: 'muted' }, 'Generate to compare the model with and without the steering vector.'));
    }
    this.run.disabled = !state.run;
    if (state.view === 'generate' && state.run && touched(changed, 'view', 'run')) this.generate();
  }

  private generate(): void {
    const state = this.context.store.get();
    if (!state.run || !state.model) return;
    const request = {
      model: state.model,
      ids: state.run.tokens.map((t) => t.id),
      maxNewTokens: Math.max(1, Math.min(100, Number(this.tokens.value) || 20)),
      steering: {
        positive: { text: this.positive.value },
        negative: { text: this.negative.value },
        layer: Number(this.layer.value),
        point: this.point.value as ResidualPoint,
        coefficient: Number(this.coefficient.value),
      },
    };
    this.fetcher.fetch(JSON.stringify(request), (signal) => this.context.client().call('generate', request, { signal }));
  }

  private draw(response: GenerateResponse): void {
    const prompt = response.promptTokens.map((t) => t.text).join('');
    const steering = response.steering;
    const column = (title: string, text: string, kind: string) => h('section', { class: `panel generation ${kind}`, 'data-kind': kind },
      h('h3', {}, title), h('p', { class: 'generated' }, h('span', { class: 'prompt-part' }, prompt), h('span', { class: 'new-part' }, text)));
    replaceChildren(this.output,
      column('Unsteered', response.unsteered.text, 'unsteered'),
      column(steering ? `Steered: ${formatValue(steering.coefficient)} × vector at L${steering.layer} ${steering.point} (‖v‖ = ${formatValue(steering.vectorNorm)})` : 'Steered',
        response.steered?.text ?? '', 'steered'));
  }
}
