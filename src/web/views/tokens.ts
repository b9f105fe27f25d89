// The prompt's tokens, each with its id; the selected one is the position every view follows.
// A listbox: click a token, or focus the strip and move with ← → (Home, End).

import type { ViewContext, View } from '../app/context.js';
import { h, showToken } from '../app/dom.js';
import { touched, type AppState } from '../app/state.js';

export class TokensView implements View {
  readonly element = h('div', { class: 'tokens', role: 'listbox', 'aria-label': 'prompt tokens (← → select)', 'aria-orientation': 'horizontal' });

  constructor(private readonly context: ViewContext) {
    this.element.addEventListener('keydown', (event) => {
      const state = context.store.get();
      const count = state.run?.tokens.length ?? 0;
      const moves: Record<string, number> = { ArrowLeft: state.position - 1, ArrowRight: state.position + 1, Home: 0, End: count - 1 };
      if (!(event.key in moves) || count === 0) return;
      event.preventDefault();
      this.select(Math.min(count - 1, Math.max(0, moves[event.key])), true);
    });
  }

  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void {
    if (!touched(changed, 'run', 'position')) return;
    const hadFocus = this.element.contains(document.activeElement);
    const tokens = state.run?.tokens ?? [];
    this.element.replaceChildren(...tokens.map((token, i) => h('button', {
      type: 'button', class: 'token', role: 'option', 'aria-selected': String(i === state.position),
      tabindex: i === state.position ? 0 : -1, 'data-position': i, 'data-id': token.id,
      title: `position ${i} · id ${token.id}`, onClick: () => this.select(i, false),
    }, h('span', { class: 'token-text' }, showToken(token.text)), h('span', { class: 'token-id' }, String(token.id)))));
    if (tokens.length === 0) this.element.append(h('span', { class: 'muted' }, 'Run a prompt to see its tokens.'));
    if (hadFocus) (this.element.querySelector('[tabindex="0"]') as HTMLElement | null)?.focus();
  }

  private select(position: number, keepFocus: boolean): void {
    this.context.store.update({ position });
    if (keepFocus) (this.element.querySelector(`[data-position="${position}"]`) as HTMLElement | null)?.focus();
  }
}
