import { describe, expect, it } from 'vitest';
import { adapterById } from '../../web/src/adapters/index.js';
import type { ProtocolAdapter, TableContent } from '../../web/src/adapters/types.js';
import { SimulationSource } from '../../web/src/source/simulation.js';

describe('probe', () => {
  it('runs', () => {
    for (const [p, sc] of [['lock', 'inventory-lost-update'], ['lock', 'inventory-row-lock'], ['lock', 'inventory-version-check'], ['lock', 'inventory-fenced-lock'], ['lock', 'inventory-conditional-decrement']] as const) {
      const a = adapterById(p) as ProtocolAdapter;
      const src = new SimulationSource(a, { protocol: p, nodes: 2, seed: 1, actions: [], scenario: sc });
      for (const t of [3000]) {
        src.seek(t);
        const v = src.view(1);
        console.log(p, sc, t, v.failure, '\n', v.caption);
        for (const id of ['lock', 'lock-clients', 'lock-resource', 'lock-verdicts']) {
          const tb = v.panels[id] as TableContent;
          console.log('  ', id, tb.caption?.text, JSON.stringify(tb.rows.map((r) => r.cells.map((c) => (typeof c === 'string' ? c : c.text)))));
        }
      }
      const tb = src.view(1).panels['lock-story'] as TableContent;
      console.log(tb.rows.map((r) => r.cells.map((c) => (typeof c === 'string' ? c : c.text)).join(' | ')).join('\n'));
      console.log(src.view(1).monitors.map((m) => `${m.id}:${m.violation === null ? 'ok' : m.violation.message}`).join('\n'));
    }
  });
});
