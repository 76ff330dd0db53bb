// The cluster drawn as a ring: nodes (colour = role, star = leader, and only what the protocol
// has: a term badge, a vote, a timer arc), the links between them (red dashes = cut, orange =
// lossy or slow), and the messages in flight moving along them (filled = request, hollow =
// response, red cross = dropped). Elements are kept between frames and only their attributes
// change, so a busy 9-node cluster stays cheap.
import type { NodeStyle } from '../adapters/types.js';
import type { ClusterView, MessageDisplay, NodeDisplay } from '../source/types.js';
import { attr, s, text } from './dom.js';

const SIZE = 640;
const CENTER = SIZE / 2;
const RING = 232;
const MAX_MESSAGES = 600;

interface NodeEls {
  readonly g: SVGGElement;
  readonly track: SVGCircleElement;
  readonly timer: SVGCircleElement;
  readonly mark: SVGCircleElement;
  readonly body: SVGCircleElement;
  readonly label: SVGTextElement;
  readonly sub: SVGTextElement;
  readonly below1: SVGTextElement;
  readonly below2: SVGTextElement;
  readonly star: SVGTextElement;
  readonly badge: SVGGElement;
  readonly cross: SVGPathElement;
  readonly title: SVGTitleElement;
}

interface Point {
  x: number;
  y: number;
}

export interface RingHandlers {
  nodeClick(id: string, e: MouseEvent): void;
  nodeContext(id: string): void;
  messageClick(id: number): void;
  /** The last line of a node's tooltip (what clicking does). */
  readonly clickHint?: string;
}

export class ClusterRing {
  readonly svg: SVGSVGElement;
  private readonly linkLayer = s('g', { class: 'links' });
  private readonly msgLayer = s('g', { class: 'messages' });
  private readonly nodeLayer = s('g', { class: 'nodes' });
  private readonly nodes = new Map<string, NodeEls>();
  private readonly links = new Map<string, { line: SVGLineElement; label: SVGTextElement }>();
  private readonly msgs = new Map<number, SVGGElement>();
  private positions = new Map<string, Point>();
  private radius = 40;
  private selected: string | null = null;
  private readonly colors: Map<string, { color: string; response: boolean }>;
  private readonly roleColors: Map<string, string>;
  private readonly markColors: Map<string, string>;

  constructor(
    private readonly style: NodeStyle,
    private readonly handlers: RingHandlers,
  ) {
    this.svg = s('svg', { viewBox: `0 0 ${SIZE} ${SIZE}`, class: 'ring', 'data-testid': 'cluster', role: 'img', 'aria-label': 'cluster' });
    this.svg.append(this.linkLayer, this.msgLayer, this.nodeLayer);
    this.colors = new Map(style.messageTypes.map((m) => [m.type, { color: m.color, response: m.response }]));
    this.roleColors = new Map(style.roles.map((r) => [r.id, r.color]));
    this.markColors = new Map((style.marks ?? []).map((m) => [m.id, m.color]));
  }

  select(id: string | null): void {
    this.selected = id;
    for (const [nid, els] of this.nodes) els.g.classList.toggle('selected', nid === id);
  }

  private layout(ids: readonly string[]): void {
    const n = ids.length;
    this.radius = n <= 3 ? 48 : n <= 5 ? 44 : n <= 7 ? 38 : 33;
    this.positions = new Map(
      ids.map((id, i) => {
        const angle = -Math.PI / 2 + (2 * Math.PI * i) / n;
        return [id, { x: CENTER + RING * Math.cos(angle), y: CENTER + RING * Math.sin(angle) }];
      }),
    );
  }

  render(view: ClusterView): void {
    const ids = view.nodes.map((n) => n.id);
    if (ids.length !== this.positions.size || ids.some((id) => !this.positions.has(id))) {
      this.layout(ids);
      for (const els of this.nodes.values()) els.g.remove();
      this.nodes.clear();
      for (const l of this.links.values()) {
        l.line.remove();
        l.label.remove();
      }
      this.links.clear();
    }
    this.renderLinks(view, ids);
    for (const node of view.nodes) this.renderNode(node, view.leader);
    this.renderMessages(view.messages);
  }

  private renderLinks(view: ClusterView, ids: readonly string[]): void {
    const cut = new Set(view.cuts.map(([a, b]) => `${a}>${b}`));
    const lossy = new Map(view.links.map((l) => [`${l.from}>${l.to}`, l]));
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const a = ids[i] as string;
        const b = ids[j] as string;
        const key = `${a}|${b}`;
        let el = this.links.get(key);
        if (el === undefined) {
          const pa = this.positions.get(a) as Point;
          const pb = this.positions.get(b) as Point;
          const line = s('line', { x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y, class: 'link', 'data-testid': `link-${a}-${b}` });
          const label = s('text', { x: (pa.x + pb.x) / 2, y: (pa.y + pb.y) / 2 - 4, class: 'link-label' });
          this.linkLayer.append(line, label);
          el = { line, label };
          this.links.set(key, el);
        }
        const ab = cut.has(`${a}>${b}`);
        const ba = cut.has(`${b}>${a}`);
        const slow = lossy.get(`${a}>${b}`) ?? lossy.get(`${b}>${a}`);
        const cls = ab || ba ? (ab && ba ? 'link cut' : 'link cut one-way') : slow !== undefined ? 'link lossy' : 'link';
        attr(el.line, 'class', cls);
        attr(el.line, 'data-cut', ab || ba ? 'true' : 'false');
        let label = '';
        if (ab !== ba) label = ab ? `${a}→${b} cut` : `${b}→${a} cut`;
        else if (slow !== undefined && !(ab || ba)) {
          const parts = [];
          if (slow.loss > 0) parts.push(`${Math.round(slow.loss * 100)}% loss`);
          if (slow.delayMs > 0) parts.push(`+${slow.delayMs} ms`);
          label = parts.join(' ');
        }
        text(el.label, label);
      }
    }
  }

  private createNode(id: string): NodeEls {
    const p = this.positions.get(id) as Point;
    const r = this.radius;
    const g = s('g', { class: 'node', transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`, 'data-testid': `node-${id}`, tabindex: 0, role: 'button' });
    const title = s('title');
    const track = s('circle', { r: r + 7, class: 'timer-track' });
    const timer = s('circle', { r: r + 7, class: 'timer', transform: 'rotate(-90)' });
    const mark = s('circle', { r: r + 4, class: 'node-mark', visibility: 'hidden' });
    const body = s('circle', { r, class: 'body' });
    const label = s('text', { class: 'node-id', y: -4 }, id);
    const sub = s('text', { class: 'node-sub', y: 16 });
    const below1 = s('text', { class: 'node-below', y: r + 24 });
    const below2 = s('text', { class: 'node-below dim', y: r + 39 });
    const star = s('text', { class: 'node-star', y: -r - 12 }, '★');
    const badge = s('g', { class: 'node-badge', transform: `translate(${(r * 0.8).toFixed(1)},${(-r * 0.8).toFixed(1)})` }, s('circle', { r: 11 }), s('rect', { x: -5, y: -6, width: 3.5, height: 12 }), s('rect', { x: 1.5, y: -6, width: 3.5, height: 12 }));
    const c = r * 0.55;
    const cross = s('path', { class: 'node-cross', d: `M${-c},${-c}L${c},${c}M${c},${-c}L${-c},${c}` });
    g.append(title, track, timer, mark, body, cross, label, sub, below1, below2, star, badge);
    g.addEventListener('click', (e) => this.handlers.nodeClick(id, e));
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        this.handlers.nodeClick(id, new MouseEvent('click'));
      }
    });
    g.addEventListener('contextmenu', (e) => {
      e.preventDefault();
      this.handlers.nodeContext(id);
    });
    this.nodeLayer.append(g);
    const els = { g, track, timer, mark, body, label, sub, below1, below2, star, badge, cross, title };
    this.nodes.set(id, els);
    if (this.selected === id) g.classList.add('selected');
    return els;
  }

  private renderNode(n: NodeDisplay, leader: string | null): void {
    const els = this.nodes.get(n.id) ?? this.createNode(n.id);
    const role = n.up ? n.role : 'down';
    const member = n.member !== false;
    attr(els.g, 'data-role', role);
    attr(els.g, 'data-up', n.up ? 'true' : 'false');
    attr(els.g, 'data-term', n.term ?? '');
    attr(els.g, 'data-paused', n.paused ? 'true' : 'false');
    attr(els.g, 'data-member', member ? 'true' : 'false');
    attr(els.g, 'data-process', n.process ?? '');
    attr(els.g, 'data-reachable', n.reachable === false ? 'false' : 'true');
    attr(els.g, 'class', `node${n.up ? '' : ' down'}${n.paused ? ' paused' : ''}${member ? '' : ' non-member'}${n.reachable === false ? ' unreachable' : ''}${this.selected === n.id ? ' selected' : ''}`);
    attr(els.body, 'fill', n.up ? (this.roleColors.get(n.role) ?? '#e2e8f0') : '#e5e7eb');
    // inside: the term when the node has one, else its first detail line
    const termShown = typeof n.term === 'number';
    const sub = n.up ? (termShown ? `term ${n.term}` : (n.details[0] ?? '')) : n.process === 'stopped' ? 'stopped' : 'down';
    text(els.sub, sub);
    // a long detail line is squeezed to fit inside the circle (about 6.6 px a character at 12 px)
    const room = Math.round(2 * this.radius - 12);
    if (sub.length * 6.6 > room) {
      attr(els.sub, 'textLength', room);
      attr(els.sub, 'lengthAdjust', 'spacingAndGlyphs');
    } else if (els.sub.hasAttribute('textLength')) {
      els.sub.removeAttribute('textLength');
      els.sub.removeAttribute('lengthAdjust');
    }
    const line1: string[] = [];
    // a protocol with one role (every node alike) does not label it
    if (n.up && (this.style.roles.length > 1 || !this.roleColors.has(n.role))) line1.push(n.role);
    if (n.up && n.vote != null) line1.push(`voted ${n.vote}`);
    text(els.below1, line1.join(' · '));
    text(els.below2, n.up ? n.details.filter((_, i) => termShown || i > 0).join(' · ') : '');
    attr(els.star, 'visibility', n.up && n.id === leader ? 'visible' : 'hidden');
    attr(els.badge, 'visibility', n.up && n.paused ? 'visible' : 'hidden');
    attr(els.cross, 'visibility', n.up ? 'hidden' : 'visible');
    const mark = n.mark == null ? undefined : this.markColors.get(n.mark);
    attr(els.g, 'data-mark', n.mark ?? '');
    attr(els.mark, 'stroke', mark ?? 'none');
    attr(els.mark, 'visibility', mark === undefined ? 'hidden' : 'visible');
    this.renderTimer(els, n);
    text(els.title, this.tooltip(n, role, member).join('\n'));
  }

  /** The arc around the node: the part of its timer left. */
  private renderTimer(els: NodeEls, n: NodeDisplay): void {
    const circumference = 2 * Math.PI * (this.radius + 7);
    if (n.up && n.timer != null && n.timer.timeout > 0) {
      const left = Math.max(0, Math.min(1, 1 - n.timer.elapsed / n.timer.timeout));
      attr(els.timer, 'stroke-dasharray', `${(left * circumference).toFixed(1)} ${circumference.toFixed(1)}`);
      attr(els.timer, 'visibility', 'visible');
      attr(els.track, 'visibility', 'visible');
    } else {
      attr(els.timer, 'visibility', 'hidden');
      attr(els.track, 'visibility', 'hidden');
    }
  }

  private tooltip(n: NodeDisplay, role: string, member: boolean): string[] {
    const agreement = [
      n.term != null ? `term ${n.term}` : '',
      n.vote !== undefined ? `voted for ${n.vote ?? 'nobody'}` : '',
      n.leader !== undefined ? `leader ${n.leader ?? 'unknown'}` : '',
    ].filter((part) => part !== '');
    return [
      `node ${n.id}: ${n.up ? role : (n.process ?? 'down')}${n.paused ? ' (paused)' : ''}${member ? '' : ' (not a member)'}${n.reachable === false ? ' (not answering)' : ''}`,
      agreement.join(', '),
      n.timer != null ? `${this.style.timerLabel ?? 'timer'} ${n.timer.elapsed}/${n.timer.timeout} ticks` : '',
      ...n.details,
      this.handlers.clickHint ?? 'click: crash / restart · right-click: select',
    ].filter((l) => l !== '');
  }

  private renderMessages(messages: readonly MessageDisplay[]): void {
    const seen = new Set<number>();
    const count = Math.min(messages.length, MAX_MESSAGES);
    for (let k = 0; k < count; k++) {
      const m = messages[k] as MessageDisplay;
      const a = this.positions.get(m.from);
      const b = this.positions.get(m.to);
      // messages a node sends itself are not drawn
      if (a === undefined || b === undefined || m.from === m.to) continue;
      seen.add(m.id);
      let g = this.msgs.get(m.id);
      const style = this.colors.get(m.type) ?? { color: '#64748b', response: false };
      if (g === undefined) {
        g = s('g', { class: 'msg', 'data-testid': 'message', 'data-id': m.id, 'data-type': m.type });
        const hit = s('circle', { r: 11, class: 'msg-hit' });
        const dot = s('circle', { r: 6, class: style.response ? 'msg-dot response' : 'msg-dot', fill: style.response ? '#fff' : style.color, stroke: style.color });
        const title = s('title');
        g.append(title, hit, dot);
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
      const ux = dx / len;
      const uy = dy / len;
      const edge = this.radius + 9;
      const travel = Math.max(0, len - 2 * edge);
      const along = edge + travel * m.progress;
      // keep the two directions of a link apart
      const x = a.x + ux * along - uy * 5;
      const y = a.y + uy * along + ux * 5;
      attr(g, 'transform', `translate(${x.toFixed(1)},${y.toFixed(1)})`);
      if (m.state === 'dropped' && g.getAttribute('data-state') !== 'dropped') g.append(s('path', { d: 'M-6,-6L6,6M6,-6L-6,6', class: 'msg-cross' }));
      attr(g, 'data-state', m.state);
      text(g.firstChild as SVGTitleElement, `${m.text}${m.state === 'flight' ? '\nclick to drop it' : ''}`);
    }
    for (const [id, g] of this.msgs) {
      if (!seen.has(id)) {
        g.remove();
        this.msgs.delete(id);
      }
    }
  }
}
