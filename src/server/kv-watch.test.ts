import { describe, expect, it } from 'vitest';
import { KvStore } from '../kv/store.js';
import type { StreamSink } from './http-server.js';
import { parseWatchQuery, WatchHub } from './kv-watch.js';

/** A hub over a real KvStore, as the KV service builds it, and a sink that records what it was given. */
function setUp(query: string): { store: KvStore; hub: WatchHub; order: string[]; start: () => void } {
  const store = new KvStore();
  const hub = new WatchHub({
    nodeId: 'n1',
    changes: (q) => store.query(q),
    range: (prefix, limit) => store.query({ op: 'range', prefix, limit }),
    revision: () => store.revision,
    health: () => ({ ok: true }),
  });
  const order: string[] = [];
  const sink: StreamSink = {
    write: (text) => {
      order.push((JSON.parse(text) as { type: string }).type);
      return true;
    },
    unsentBytes: 0,
    onDrain: (listener) => listener(),
    onClose: () => undefined,
    end: (lastText) => {
      if (lastText !== undefined) order.push(`${(JSON.parse(lastText) as { type: string }).type} with the end`);
      order.push('end');
    },
  };
  const stream = hub.open(parseWatchQuery(new URLSearchParams(query), 60_000));
  return { store, hub, order, start: () => stream.start(sink) };
}

describe('WatchHub', () => {
  it("sends a once-watch's events line before the reactions the apply queued (the write's own answer)", async () => {
    const { store, hub, order, start } = setUp('key=k&once=true');
    start();
    // what the host does on applying a write: the hub hears of it, then the write's answer is
    // resolved, and the HTTP route writes it in that promise's reaction
    store.apply({ op: 'put', key: 'k', value: 'v' }, 1);
    hub.applied();
    const answered = Promise.resolve().then(() => void order.push('answer'));
    await answered;
    expect(order).toEqual(['created', 'events with the end', 'end', 'answer']);
  });

  it('coalesces the later applies of one turn: a stream gets one more line at the end of the turn, not one per apply', async () => {
    const { store, hub, order, start } = setUp('prefix=k');
    start();
    store.apply({ op: 'put', key: 'k1', value: 'v' }, 1);
    hub.applied(); // the turn's first: at once
    await Promise.resolve();
    for (let i = 2; i <= 5; i++) {
      store.apply({ op: 'put', key: `k${i}`, value: 'v' }, i);
      hub.applied();
    }
    await Promise.resolve();
    expect(order).toEqual(['created', 'events']);
    await new Promise((resolve) => setImmediate(resolve));
    // the four later puts, one revision per line, written together at the end of the turn
    expect(order).toEqual(['created', 'events', 'events', 'events', 'events', 'events']);
  });
});
