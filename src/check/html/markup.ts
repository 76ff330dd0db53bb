// A tiny tree of markup elements that the report renderer builds and two hosts consume: the CLI
// serializes it to HTML text (toMarkup, which escapes every text and attribute value), the browser
// turns it into DOM nodes. Tag and attribute names come from code only; values may be hostile.
import { escapeControls } from '../escape.js';

export type AttrValue = string | number;

export interface MarkupElement {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, AttrValue>>;
  readonly children: readonly MarkupNode[];
}

/** An element, or text (escaped when serialized). */
export type MarkupNode = MarkupElement | string;

type Child = MarkupNode | null | undefined | false;

/** An element; null, undefined and false children are left out, as are undefined attributes. */
export function el(tag: string, attrs: Readonly<Record<string, AttrValue | undefined>> = {}, ...children: readonly Child[]): MarkupElement {
  const kept: Record<string, AttrValue> = {};
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) kept[name] = value;
  return { tag, attrs: kept, children: children.filter((c): c is MarkupNode => c !== null && c !== undefined && c !== false) };
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside an element or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/**
 * Text from a history made fit to show: control characters, line separators and bidi overrides
 * written as visible escapes (escapeControls), and at most `max` characters (then "…").
 */
export function showText(text: string, max: number): string {
  const visible = escapeControls(text);
  if (visible.length <= max) return visible;
  let cut = visible.slice(0, Math.max(0, max - 1));
  // never leave half of a surrogate pair at the cut
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Numbers are written with at most 2 decimals, so equal layouts give equal text. */
function attrText(value: AttrValue): string {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return '0';
  return String(Math.round(value * 100) / 100);
}

/** Elements without content or end tag in HTML. */
const VOID = new Set(['meta', 'input', 'br', 'hr', 'link']);

/** The tree as HTML (or SVG inside HTML) text; every text and attribute value is escaped. */
export function toMarkup(node: MarkupNode): string {
  const out: string[] = [];
  write(node, out);
  return out.join('');
}

function write(node: MarkupNode, out: string[]): void {
  if (typeof node === 'string') {
    out.push(escapeHtml(node));
    return;
  }
  out.push('<', node.tag);
  for (const [name, value] of Object.entries(node.attrs)) out.push(' ', name, '="', escapeHtml(attrText(value)), '"');
  out.push('>');
  if (VOID.has(node.tag)) return;
  // style and script bodies come from code (never from a history), written as they are
  if (node.tag === 'style' || node.tag === 'script') {
    for (const c of node.children) {
      if (typeof c !== 'string' || c.includes('</')) throw new Error(`markup: a <${node.tag}> body must be plain text without "</"`);
      out.push(c);
    }
  } else for (const c of node.children) write(c, out);
  out.push('</', node.tag, '>');
}

/** An attribute value as the serializer writes it (for hosts that build DOM from the tree). */
export function attributeText(value: AttrValue): string {
  return attrText(value);
}
