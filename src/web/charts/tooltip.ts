// One tooltip for the whole page: charts call show() on hover or keyboard focus with the text of
// the cell under the pointer, hide() when it leaves. Also mirrored into a polite live region so a
// screen reader hears the value of the cell the arrow keys moved to.

import { h } from '../app/dom.js';

let tip: HTMLDivElement | null = null;
let live: HTMLDivElement | null = null;

function elements(): { tip: HTMLDivElement; live: HTMLDivElement } {
  if (!tip || !live) {
    tip = h('div', { class: 'tooltip', role: 'tooltip', hidden: true });
    live = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });
    document.body.append(tip, live);
  }
  return { tip, live };
}

/** Shows `lines` next to the element (below it, kept inside the window). */
export function showTooltip(anchor: Element, lines: readonly string[], announce = false): void {
  const { tip, live } = elements();
  tip.replaceChildren(...lines.map((line, i) => h('div', { class: i === 0 ? 'tooltip-title' : '' }, line)));
  tip.hidden = false;
  const box = anchor.getBoundingClientRect();
  const width = tip.offsetWidth;
  const left = Math.min(Math.max(4, box.left + box.width / 2 - width / 2), window.innerWidth - width - 4);
  const below = box.bottom + 6;
  const top = below + tip.offsetHeight > window.innerHeight ? box.top - tip.offsetHeight - 6 : below;
  tip.style.left = `${left + window.scrollX}px`;
  tip.style.top = `${Math.max(4, top) + window.scrollY}px`;
  if (announce) live.textContent = lines.join('. ');
}

export function hideTooltip(): void {
  if (tip) tip.hidden = true;
}
