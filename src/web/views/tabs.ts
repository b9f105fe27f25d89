// The analysis views as tabs (WAI-ARIA tabs pattern: ← → move between tabs, the panel follows).
// Only the visible view fetches, so switching tabs is what starts each analysis.

import type { View } from '../app/context.js';
import { h } from '../app/dom.js';
import { touched, type AppState, type Store, type ViewName } from '../app/state.js';

export interface TabSpec {
  name: ViewName;
  title: string;
  view: View;
}

export class Tabs implements View {
  readonly element = h('section', { class: 'views' });
  private readonly list = h('div', { class: 'tablist', role: 'tablist', 'aria-label': 'analyses' });
  private readonly buttons = new Map<ViewName, HTMLButtonElement>();
  private readonly panels = new Map<ViewName, HTMLElement>();

  constructor(private readonly store: Store, private readonly tabs: TabSpec[]) {
    for (const tab of tabs) {
      const button = h('button', {
        type: 'button', role: 'tab', id: `tab-${tab.name}`, 'aria-controls': `panel-${tab.name}`, 'data-view': tab.name,
        onClick: () => store.update({ view: tab.name }),
      }, tab.title);
      const panel = h('div', { role: 'tabpanel', id: `panel-${tab.name}`, 'aria-labelledby': `tab-${tab.name}`, class: 'tabpanel' }, tab.view.element);
      this.buttons.set(tab.name, button);
      this.panels.set(tab.name, panel);
      this.list.append(button);
    }
    this.list.addEventListener('keydown', (event) => {
      const names = tabs.map((t) => t.name);
      const at = names.indexOf(store.get().view);
      const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: names.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const name = names[(next + names.length) % names.length];
      store.update({ view: name });
      this.buttons.get(name)?.focus();
    });
    this.element.append(this.list, ...this.panels.values());
  }

  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void {
    if (touched(changed, 'view')) {
      for (const [name, button] of this.buttons) {
        const active = name === state.view;
        button.setAttribute('aria-selected', String(active));
        button.tabIndex = active ? 0 : -1;
        (this.panels.get(name) as HTMLElement).hidden = !active;
      }
    }
    for (const tab of this.tabs) tab.view.update(state, changed);
  }
}
