// The prompt box: the text every view analyses, whether to prepend BOS, and Run (Ctrl+Enter).

import type { View } from '../app/context.js';
import { h } from '../app/dom.js';
import { touched, type AppState, type Store } from '../app/state.js';

export class PromptView implements View {
  readonly element = h('section', { class: 'prompt-panel', 'aria-label': 'prompt' });
  private readonly text = h('textarea', { id: 'prompt', rows: 2, spellcheck: 'false', class: 'prompt-input', 'aria-label': 'prompt text (Ctrl+Enter runs)' });
  private readonly bos = h('input', { type: 'checkbox', id: 'bos' });
  private readonly run = h('button', { type: 'button', class: 'primary', id: 'run' }, 'Run');
  private readonly message = h('p', { class: 'prompt-message', role: 'alert' });

  constructor(private readonly store: Store, onRun: () => void) {
    this.text.addEventListener('input', () => store.update({ prompt: this.text.value }));
    this.text.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        onRun();
      }
    });
    this.bos.addEventListener('change', () => store.update({ bos: this.bos.checked }));
    this.run.addEventListener('click', onRun);
    this.element.append(
      h('div', { class: 'prompt-row' }, this.text,
        h('div', { class: 'prompt-actions' }, this.run,
          h('label', { class: 'checkbox', title: "start the prompt with the model's BOS token, as TransformerLens does" }, this.bos, ' BOS'))),
      this.message);
  }

  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void {
    if (touched(changed, 'prompt') && this.text.value !== state.prompt) this.text.value = state.prompt;
    if (touched(changed, 'bos')) this.bos.checked = state.bos;
    this.run.disabled = state.modelStatus.state !== 'ready' || state.running;
    this.run.textContent = state.running ? 'Running…' : 'Run';
    if (touched(changed, 'error')) {
      this.message.textContent = state.error ?? '';
      this.message.hidden = state.error === null;
    }
  }
}
