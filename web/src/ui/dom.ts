// Tiny DOM helpers: element creation with attributes and children, for HTML and SVG.
import { attributeText, type MarkupNode } from '../../../src/check/html/index.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

type Attrs = Record<string, string | number | boolean | null | undefined>;
type Child = Node | string | null | undefined | false;

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * DOM nodes (in the SVG namespace) of a markup tree from src/check/html: attribute values and
 * text are set as values, never parsed, so nothing in them can become markup.
 */
export function svgFromMarkup(node: MarkupNode): Node {
  if (typeof node === 'string') return document.createTextNode(node);
  const el = document.createElementNS(SVG_NS, node.tag);
  for (const [name, value] of Object.entries(node.attrs)) if (name !== 'xmlns') el.setAttribute(name, attributeText(value));
  for (const child of node.children) el.append(svgFromMarkup(child));
  return el;
}

/** Sets an attribute only when it changed (cheap for elements redrawn every frame). */
export function attr(el: Element, name: string, value: string | number): void {
  const text = String(value);
  if (el.getAttribute(name) !== text) el.setAttribute(name, text);
}

export function text(el: Element, value: string): void {
  if (el.textContent !== value) el.textContent = value;
}

export function clear(el: Element): void {
  while (el.firstChild !== null) el.firstChild.remove();
}

/** A titled panel section. */
export function panel(title: string, testid: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel', 'data-testid': testid }, h('h2', {}, title), ...children);
}

/** Colour of a term (or any small number): a fixed, readable palette, repeating. */
const TERM_COLORS = ['#e5e7eb', '#93c5fd', '#fca5a5', '#86efac', '#fcd34d', '#c4b5fd', '#f9a8d4', '#67e8f9', '#fdba74', '#a5b4fc', '#bef264', '#d8b4fe'];

export function termColor(term: number): string {
  if (term <= 0) return TERM_COLORS[0] as string;
  return TERM_COLORS[1 + ((term - 1) % (TERM_COLORS.length - 1))] as string;
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export function button(label: string, testid: string, title: string, onClick: () => void, cls = ''): HTMLButtonElement {
  const b = h('button', { type: 'button', 'data-testid': testid, title, class: cls }, label);
  b.addEventListener('click', onClick);
  return b;
}

export function select(testid: string, options: readonly (readonly [string, string])[], value: string): HTMLSelectElement {
  const el = h('select', { 'data-testid': testid });
  for (const [v, label] of options) el.append(h('option', { value: v }, label));
  el.value = value;
  return el;
}
