// Safety monitors: green while a property holds, red from the step that broke it, with a button
// that jumps to that moment.
import type { ClusterView } from '../source/types.js';
import { clear, h } from './dom.js';

export class MonitorPanel {
  readonly el: HTMLElement;
  private readonly list = h('ul', { class: 'monitors' });
  private key = '';

  constructor(private readonly goTo: ((ms: number) => void) | null) {
    this.el = h('div', { 'data-testid': 'monitors' }, this.list);
  }

  render(view: ClusterView): void {
    const key = view.monitors.map((m) => `${m.id}:${m.violation?.event ?? ''}`).join('|') + (view.failure ?? '');
    if (key === this.key) return;
    this.key = key;
    clear(this.list);
    if (view.failure !== null) {
      this.list.append(h('li', { class: 'monitor bad', 'data-testid': 'failure' }, h('span', { class: 'dot' }, '✗'), h('div', {}, h('strong', {}, 'Simulation error'), h('div', { class: 'violation' }, view.failure))));
    }
    if (view.monitors.length === 0) this.list.append(h('li', { class: 'hint' }, 'This protocol has no monitors.'));
    for (const m of view.monitors) {
      const v = m.violation;
      const item = h(
        'li',
        { class: `monitor ${v === null ? 'ok' : 'bad'}`, 'data-testid': `monitor-${m.id}`, 'data-ok': v === null ? 'true' : 'false', title: m.description },
        h('span', { class: 'dot' }, v === null ? '✓' : '✗'),
        h(
          'div',
          {},
          h('strong', {}, m.title),
          v === null
            ? h('div', { class: 'dim' }, 'holds so far')
            : h(
                'div',
                { class: 'violation' },
                `${v.atMs} ms, event #${v.event}, node ${v.node} handling ${v.input}: ${v.message} `,
                this.goTo === null ? null : button('go there', () => this.goTo?.(v.atMs)),
              ),
        ),
      );
      this.list.append(item);
    }
  }
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'small' }, label);
  b.addEventListener('click', onClick);
  return b;
}
