// A text box for one token (" Paris": mind the leading space). On Enter or leaving the box, the
// text is tokenized by the current model; exactly one token is accepted, anything else is
// explained under the box. Shows the current token of the state when it changes elsewhere.

import type { TokenInfo } from '../../api/protocol.js';
import type { ViewContext } from '../app/context.js';
import { h } from '../app/dom.js';

export interface TokenInput {
  readonly element: HTMLElement;
  show(token: TokenInfo | null): void;
}

export function tokenInput(context: ViewContext, label: string, hint: string, onToken: (token: TokenInfo | null) => void, optional = false): TokenInput {
  const input = h('input', { type: 'text', class: 'token-input', spellcheck: 'false', autocomplete: 'off', placeholder: optional ? '(none)' : '" Paris"' });
  const message = h('span', { class: 'hint' }, hint);
  let shown = '';
  const commit = async () => {
    const text = input.value;
    if (text === shown) return;
    if (text === '' && optional) {
      shown = '';
      message.textContent = hint;
      message.classList.remove('error');
      onToken(null);
      return;
    }
    const state = context.store.get();
    if (!state.model) return;
    try {
      const { tokens } = await context.client().call('tokenize', { model: state.model, text });
      if (tokens.length !== 1) {
        throw new Error(`"${text}" is ${tokens.length} tokens (${tokens.map((t) => JSON.stringify(t.text)).join(' ')}); choose one token`);
      }
      shown = text;
      message.textContent = `id ${tokens[0].id}`;
      message.classList.remove('error');
      onToken(tokens[0]);
    } catch (err) {
      message.textContent = (err as Error).message;
      message.classList.add('error');
    }
  };
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') void commit();
  });
  input.addEventListener('change', () => void commit());
  const element = h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), input, message);
  return {
    element,
    show(token) {
      const text = token?.text ?? '';
      if (document.activeElement === input && input.value !== shown) return; // the user is typing
      input.value = shown = text;
      message.textContent = token ? `id ${token.id}` : hint;
      message.classList.remove('error');
    },
  };
}
