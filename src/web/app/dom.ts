// A few lines of DOM building instead of a framework: h() makes an element with attributes,
// event handlers and children; s() the same in the SVG namespace. Views rebuild their own subtree
// when their data changes, which at these sizes (a few thousand nodes) is fast and keeps each view
// a plain function of the state.

type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener>;

function apply(element: Element, attributes: Attributes): void {
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(key.slice(2).toLowerCase(), value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(element: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
}

/** An HTML element: h('button', { class: 'primary', onClick: run }, 'Run'). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  apply(element, attributes);
  append(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; numbers are written with at most two decimals. */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  const rounded: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) rounded[key] = typeof value === 'number' ? Math.round(value * 100) / 100 : value;
  apply(element, rounded);
  append(element, children);
  return element;
}

/** Replaces an element's children. */
export function replaceChildren(element: Element, ...children: Child[]): void {
  element.replaceChildren();
  append(element, children);
}

/** A labelled form field: <label>text <input></label> as one block. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control, hint ? h('span', { class: 'hint' }, hint) : null);
}

/** How a token reads on screen: spaces and newlines made visible, like the CLI's tables. */
export function showToken(text: string): string {
  return text.replace(/ /g, '\u00a0').replace(/\n/g, '↵').replace(/\t/g, '⇥') || '∅';
}

export function percent(p: number): string {
  const value = p * 100;
  if (value >= 99.95 || value === 0) return `${value.toFixed(0)}%`;
  if (value >= 0.1) return `${value.toFixed(1)}%`;
  if (value >= 0.01) return `${value.toFixed(2)}%`;
  return '<0.01%';
}
