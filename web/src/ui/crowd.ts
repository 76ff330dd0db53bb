// The cluster drawn as a crowd, for groups too large for the ring (a gossip group of tens or
// hundreds of members): every node a small dot on one circle, or on up to five interleaved
// circles, filled with its role colour, ringed with its mark, crossed when down; no link lines
// (N² of them), but the groups of a partition outlined in their own colours and listed; messages
// in flight drawn as small dots up to CROWD_MESSAGE_NODES nodes, and above that counted by type
// instead. The same click handling as the ring: click crashes or restarts, right-click selects.
import type { NodeStyle } from '../adapters/types.js';
import type { ClusterView, MessageDisplay, NodeDisplay } from '../source/types.js';
import { attr, s, text } from './dom.js';
import type { RingHandlers } from './ring.js';

const SIZE = 640;
const CENTER = SIZE / 2;
const OUTER = 272;
const CIRCLE_GAP = 34;
/** Nodes per circle; beyond, the circles interleave (node i on circle i mod k). */
const PER_CIRCLE = 64;
/** Messages are drawn one by one up to this many nodes; above, counted by type. */
export const CROWD_MESSAGE_NODES = 64;
const MAX_MESSAGES = 400;
/** Outline colours of the groups of a partition (the first group keeps the plain outline). */
const GROUP_COLORS = ['#1e293b', '#dc2626', '#7c3aed', '#0891b2', '#ca8a04', '#db2777'];

interface DotEls {
  readonly g: SVGGElement;
  readonly mark: SVGCircleElement;
  readonly body: SVGCircleElement;
  readonly cross: SVGPathElement;
  readonly title: SVGTitleElement;
}

interface Point {
  readonly x: number;
  readonly y: number;
}

/** Groups of a partition: each node's group index (0 for all when nothing is cut). */
export function partitionGroups(ids: readonly string[], cuts: readonly (readonly [string, string])[]): Map<string, number> {
  const groups = new Map<string, number>();
  if (cuts.length === 0) {
    for (const id of ids) groups.set(id, 0);
    return groups;
  }
  const cut = new Map<string, Set<string>>();
  const add = (a: string, b: string): void => {
    let set = cut.get(a);
    if (set === undefined) cut.set(a, (set = new Set()));
    set.add(b);
  };
  for (const [a, b] of cuts) {
    add(a, b);
    add(b, a);
  }
  let next = 0;
  for (const a of ids) {
    if (groups.has(a)) continue;
    const g = next++;
    groups.set(a, g);
    const away = cut.get(a);
    for (const b of ids) if (!groups.has(b) && away?.has(b) !== true) groups.set(b, g);
  }
  return groups;
}

export class CrowdRing {
  readonly svg: SVGSVGElement;
  private readonly msgLayer = s('g', { class: 'messages' });
  private readonly nodeLayer = s('g', { class: 'nodes' });
  private readonly counts = s('text', { class: 'crowd-note', x: 12, y: 20, 'data-testid': 'message-counts' });
  private readonly groupsNote = s('text', { class: 'crowd-note', x: 12, y: SIZE - 12, 'data-testid': 'partition-groups' });
  private readonly nodes = new Map<string, DotEls>();
  private readonly msgs = new Map<number, SVGGElement>();
  private positions = new Map<string, Point>();
  private dot = 10;
  private selected: string | null = null;
  private groupsKey = '';
  private groups = new Map<string, number>();
  private readonly colors: Map<string, { color: string; response: boolean }>;
  private readonly roleColors: Map<string, string>;
  private readonly markColors: Map<string, string>;

  constructor(
    style: NodeStyle,
    private readonly handlers: RingHandlers,
  ) {
    this.svg = s('svg', { viewBox: `0 0 ${SIZE} ${SIZE}`, class: 'ring crowd', 'data-testid': 'cluster', 'data-drawing': 'crowd', role: 'img', 'aria-label': 'cluster' });
    this.svg.append(this.msgLayer, this.nodeLayer, this.counts, this.groupsNote);
    this.colors = new Map(style.messageTypes.map((m) => [m.type, { color: m.color, response: m.response }]));
    this.roleColors = new Map(style.roles.map((r) => [r.id, r.color]));
    this.markColors = new Map((style.marks ?? []).map((m) => [m.id, m.color]));
  }

  select(id: string | null): void {
    this.selected = id;
    for (const [nid, els] of this.nodes) els.g.classList.toggle('selected', nid === id);
  }

  /** Node i of n: on circle i mod k (k circles of about PER_CIRCLE nodes), at angle 2πi/n, so a run of ids is a sector. */
  private layout(ids: readonly string[]): void {
    const n = ids.length;
    const circles = Math.max(1, Math.min(5, Math.ceil(n / PER_CIRCLE)));
    const innermost = OUTER - (circles - 1) * CIRCLE_GAP;
    const spacing = (2 * Math.PI * innermost * circles) / Math.max(1, n);
    this.dot = Math.max(3, Math.min(16, spacing * 0.36, circles > 1 ? CIRCLE_GAP * 0.4 : Infinity));
    this.positions = new Map(
      ids.map((id, i) => {
        const angle = -Math.PI / 2 + (2 * Math.PI * i) / n;
        const r = OUTER - (i % circles) * CIRCLE_GAP;
        return [id, { x: CENTER + r * Math.cos(angle), y: CENTER + r * Math.sin(angle) }];
      }),
    );
  }

  render(view: ClusterView): void {
    const ids = view.nodes.map((n) => n.id);
    if (ids.length !== this.positions.size || ids.some((id) => !this.positions.has(id))) {
      this.layout(ids);
      for (const els of this.nodes.values()) els.g.remove();
      this.nodes.clear();
      this.groupsKey = '';
    }
    this.renderGroups(ids, view.cuts);
    for (const node of view.nodes) this.renderNode(node);
    this.renderMessages(view.messages, ids.length);
  }

  private renderGroups(ids: readonly string[], cuts: ClusterView['cuts']): void {
    const first = cuts[0];
    const last = cuts[cuts.length - 1];
    const key = `${ids.length}:${cuts.length}:${first?.join('>') ?? ''}:${last?.join('>') ?? ''}`;
    if (key === this.groupsKey) return;
    this.groupsKey = key;
    this.groups = partitionGroups(ids, cuts);
    const sizes = new Map<number, string[]>();
    for (const id of ids) {
      const g = this.groups.get(id) ?? 0;
      sizes.set(g, [...(sizes.get(g) ?? []), id]);
    }
    if (sizes.size <= 1) text(this.groupsNote, cuts.length === 0 ? '' : `${cuts.length} link(s) cut one way`);
    else text(this.groupsNote, `partition: ${[...sizes.values()].map((g) => (g.length <= 6 ? `{${g.join(',')}}` : `${g.length} nodes`)).join(' | ')}`);
  }

  private createNode(id: string): DotEls {
    const p = this.positions.get(id) as Point;
    const r = this.dot;
    const g = s('g', { class: 'node dot', transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`, 'data-testid': `node-${id}`, role: 'button' });
    const title = s('title');
    const mark = s('circle', { r: r + 2.5, class: 'dot-mark' });
    const body = s('circle', { r, class: 'body' });
    const c = r * 0.6;
    const cross = s('path', { class: 'node-cross', d: `M${-c},${-c}L${c},${c}M${c},${-c}L${-c},${c}` });
    g.append(title, mark, body, cross);
    g.addEventListener('click', (e) => this.handlers.nodeClick(id, e));
    g.addEventListener('contextmenu', (e) => {
      e.preventDefault();
      this.handlers.nodeContext(id);
    });
    this.nodeLayer.append(g);
    const els = { g, mark, body, cross, title };
    this.nodes.set(id, els);
    return els;
  }

  private renderNode(n: NodeDisplay): void {
    const els = this.nodes.get(n.id) ?? this.createNode(n.id);
    const group = this.groups.get(n.id) ?? 0;
    attr(els.g, 'data-role', n.role);
    attr(els.g, 'data-up', n.up ? 'true' : 'false');
    attr(els.g, 'data-paused', n.paused ? 'true' : 'false');
    attr(els.g, 'data-mark', n.mark ?? '');
    attr(els.g, 'data-group', group);
    attr(els.g, 'class', `node dot${n.up ? '' : ' down'}${n.paused ? ' paused' : ''}${group > 0 ? ' cut-off' : ''}${this.selected === n.id ? ' selected' : ''}`);
    // a down node keeps its role's colour (a gossip member's view of it), faded, with a cross
    attr(els.body, 'fill', this.roleColors.get(n.role) ?? '#e5e7eb');
    if (group > 0) attr(els.body, 'stroke', GROUP_COLORS[group % GROUP_COLORS.length] as string);
    else if (els.body.hasAttribute('stroke')) els.body.removeAttribute('stroke');
    const mark = n.mark == null ? undefined : this.markColors.get(n.mark);
    attr(els.mark, 'stroke', mark ?? 'none');
    attr(els.mark, 'visibility', mark === undefined ? 'hidden' : 'visible');
    attr(els.cross, 'visibility', n.up ? 'hidden' : 'visible');
    text(els.title, [`node ${n.id}: ${n.role}${n.up ? '' : ' (down)'}${n.paused ? ' (paused)' : ''}${group > 0 ? ` (partition group ${group + 1})` : ''}`, ...n.details, this.handlers.clickHint ?? 'click: crash / restart · right-click: select'].join('\n'));
  }

  private renderMessages(messages: readonly MessageDisplay[], nodeCount: number): void {
    const drawn = nodeCount <= CROWD_MESSAGE_NODES;
    const seen = new Set<number>();
    const inFlight = new Map<string, number>();
    let shown = 0;
    for (const m of messages) {
      if (m.state === 'flight') inFlight.set(m.type, (inFlight.get(m.type) ?? 0) + 1);
      if (!drawn || shown >= MAX_MESSAGES || m.from === m.to) continue;
      const a = this.positions.get(m.from);
      const b = this.positions.get(m.to);
      if (a === undefined || b === undefined) continue;
      shown++;
      seen.add(m.id);
      let g = this.msgs.get(m.id);
      if (g === undefined) {
        const style = this.colors.get(m.type) ?? { color: '#64748b', response: false };
        g = s('g', { class: 'msg', 'data-testid': 'message', 'data-id': m.id, 'data-type': m.type });
        const dot = s('circle', { r: Math.max(2.5, Math.min(5, this.dot * 0.45)), class: style.response ? 'msg-dot response' : 'msg-dot', fill: style.response ? '#fff' : style.color, stroke: style.color });
        g.append(s('title'), dot);
        const id = m.id;
        g.addEventListener('click', (e) => {
          e.stopPropagation();
          this.handlers.messageClick(id);
        });
        this.msgLayer.append(g);
        this.msgs.set(m.id, g);
      }
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const len = Math.hypot(dx, dy) || 1;
      const edge = Math.min(this.dot + 2, len / 3);
      const along = edge + Math.max(0, len - 2 * edge) * m.progress;
      const x = a.x + (dx / len) * along - (dy / len) * 2.5;
      const y = a.y + (dy / len) * along + (dx / len) * 2.5;
      attr(g, 'transform', `translate(${x.toFixed(1)},${y.toFixed(1)})`);
      if (m.state === 'dropped' && g.getAttribute('data-state') !== 'dropped') g.append(s('path', { d: 'M-4,-4L4,4M4,-4L-4,4', class: 'msg-cross' }));
      attr(g, 'data-state', m.state);
      text(g.firstChild as SVGTitleElement, `${m.text}${m.state === 'flight' ? '\nclick to drop it' : ''}`);
    }
    for (const [id, g] of this.msgs) {
      if (!seen.has(id)) {
        g.remove();
        this.msgs.delete(id);
      }
    }
    const total = [...inFlight.values()].reduce((a, b) => a + b, 0);
    const parts = [...inFlight].sort((x, y) => y[1] - x[1]).map(([type, k]) => `${k} ${type}`);
    const head = drawn ? `${total} message(s) in flight` : `${total} message(s) in flight (not drawn above ${CROWD_MESSAGE_NODES} nodes)`;
    text(this.counts, total === 0 ? (drawn ? '' : 'no message in flight') : `${head}: ${parts.join(' · ')}`);
    attr(this.counts, 'data-in-flight', total);
  }
}
