// The Node host keeps the contract with real timers and promises: no message or reply leaves
// before the writes of its call (and of earlier calls) are durable, and order is preserved.
import { describe, expect, it } from 'vitest';
import { echoSpec, type Effects, type EchoMessage, type EchoOp, type EchoRequest, type EchoResponse, type NodeId, type ProtocolSpec } from '../sim/index.js';
import { NodeHost, type DurableStore, type PeerTransport } from './node-host.js';

/** A store whose syncs finish only when the test says so. */
class ManualStore<P> implements DurableStore<P> {
  readonly durable: P[] = [];
  readonly waiting: { ops: readonly P[]; done: () => void }[] = [];
  constructor(readonly recovered: readonly P[] = []) {}
  persist(ops: readonly P[]): Promise<void> {
    return new Promise((resolve) => this.waiting.push({ ops, done: resolve }));
  }
  syncNext(): void {
    const next = this.waiting.shift();
    if (next === undefined) throw new Error('nothing to sync');
    this.durable.push(...next.ops);
    next.done();
  }
}

/** An in-process hub standing in for the network. */
class Hub {
  readonly handlers = new Map<NodeId, (from: NodeId, msg: EchoMessage) => void>();
  readonly log: string[] = [];
  transport(self: NodeId): PeerTransport<EchoMessage> {
    return {
      send: (to, msg) => {
        this.log.push(`${self}->${to} ${msg.type}`);
        queueMicrotask(() => this.handlers.get(to)?.(self, msg));
      },
      onMessage: (handler) => void this.handlers.set(self, handler),
    };
  }
}

const flush = () => new Promise((r) => setTimeout(r, 5));

type EchoEffects = Effects<EchoMessage, EchoOp, EchoResponse>;

/** A protocol whose requests do what `onRequest` does; messages go to `onMessage`, ticks nowhere. */
function scriptedSpec(
  name: string,
  onRequest: (requestId: string, fx: EchoEffects) => void,
  onMessage: (from: NodeId, msg: EchoMessage) => void = () => {},
): ProtocolSpec<EchoMessage, EchoRequest, EchoResponse, EchoOp> {
  return { name, tickIntervalMs: 0, create: () => ({ handleMessage: onMessage, handleTick: () => {}, handleRequest: (id, _req, fx) => onRequest(id, fx) }) };
}

describe('NodeHost', () => {
  it('hands the writes of all calls of one event-loop turn to the store at once, in order', async () => {
    const hub = new Hub();
    const store = new ManualStore<EchoOp>();
    const host = new NodeHost<EchoMessage, EchoRequest, EchoResponse, EchoOp>(echoSpec(1000), { id: '1', members: ['1', '2'], store, transport: hub.transport('1') });
    host.start();
    hub.handlers.set('2', () => {});
    for (let i = 0; i < 5; i++) void host.request({ type: 'broadcast', value: i }, 5000);
    await flush();
    expect(store.waiting).toHaveLength(1);
    expect((store.waiting[0]?.ops ?? []).filter((op) => op.kind === 'issued').map((op) => (op as { seq: number }).seq)).toEqual([0, 1, 2, 3, 4]);
    store.syncNext();
    await flush();
    expect(hub.log).toHaveLength(5);
    host.stop();
  });

  it('sends nothing until the writes of the call are synced, then everything in order', async () => {
    const hub = new Hub();
    const store = new ManualStore<EchoOp>();
    const members = ['1', '2', '3'];
    const host = new NodeHost<EchoMessage, EchoRequest, EchoResponse, EchoOp>(echoSpec(1000), { id: '1', members, store, transport: hub.transport('1') });
    host.start();
    for (const peer of ['2', '3']) hub.handlers.set(peer, () => {}); // silent peers
    const reply = host.request({ type: 'broadcast', value: 7 }, 5000);
    await flush();
    expect(hub.log).toEqual([]); // the 'issued' and 'delivered' ops are not synced yet
    expect(store.waiting).toHaveLength(1);
    store.syncNext();
    await flush();
    expect(hub.log).toEqual(['1->2 bcast', '1->3 bcast']);
    host.stop();
    void reply;
  });

  it('a later call without writes still waits behind an earlier unsynced one', async () => {
    const hub = new Hub();
    const store = new ManualStore<EchoOp>();
    const host = new NodeHost<EchoMessage, EchoRequest, EchoResponse, EchoOp>(echoSpec(1000), { id: '1', members: ['1', '2'], store, transport: hub.transport('1') });
    host.start();
    const first = host.request({ type: 'broadcast', value: 1 }, 5000);
    const read = host.request({ type: 'read' }, 5000); // no writes, but must not overtake
    let readDone = false;
    void read.then(() => (readDone = true));
    await flush();
    expect(readDone).toBe(false);
    store.syncNext();
    await flush();
    expect(readDone).toBe(true);
    host.stop();
    void first;
  });

  it('answers a request once a majority holds the value, and times out otherwise', async () => {
    const hub = new Hub();
    const stores = ['1', '2', '3'].map(() => new ManualStore<EchoOp>());
    const autoSync = setInterval(() => stores.forEach((s) => s.waiting.length > 0 && s.syncNext()), 1);
    const hosts = ['1', '2', '3'].map((id, i) => new NodeHost<EchoMessage, EchoRequest, EchoResponse, EchoOp>(echoSpec(20), { id, members: ['1', '2', '3'], store: stores[i] as ManualStore<EchoOp>, transport: hub.transport(id) }));
    hosts.forEach((h) => h.start());
    const res = await (hosts[0] as NodeHost<EchoMessage, EchoRequest, EchoResponse, EchoOp>).request({ type: 'broadcast', value: 42 }, 2000);
    expect(res).toMatchObject({ ok: true });
    hosts.slice(1).forEach((h) => h.stop());
    const lonely = await (hosts[0] as NodeHost<EchoMessage, EchoRequest, EchoResponse, EchoOp>).request({ type: 'broadcast', value: 43 }, 100);
    expect(lonely).toBeUndefined();
    hosts.forEach((h) => h.stop());
    clearInterval(autoSync);
  });

  it('rebuilds the core from recovered ops', async () => {
    const hub = new Hub();
    const store = new ManualStore<EchoOp>([{ kind: 'delivered', id: '2:0', value: 5 }, { kind: 'issued', seq: 3 }]);
    const host = new NodeHost<EchoMessage, EchoRequest, EchoResponse, EchoOp>(echoSpec(1000), { id: '1', members: ['1'], store, transport: hub.transport('1') });
    host.start();
    expect(host.annotations().get('delivered')).toBe(1);
    const res = host.request({ type: 'broadcast', value: 9 }, 1000);
    await flush();
    store.syncNext();
    expect(await res).toEqual({ ok: true, id: '1:4' }); // seq 3 was issued before: the counter survived
    host.stop();
  });

  it('delivers a message a node sends to itself without the transport, after its writes', async () => {
    const seen: string[] = [];
    const selfSpec = scriptedSpec(
      'self',
      (id, fx) => {
        fx.persist({ kind: 'issued', seq: 1 });
        fx.send('1', { type: 'ack', id: 'self' });
        fx.reply(id, { ok: true });
      },
      (from, msg) => void seen.push(`${from}:${msg.type}`),
    );
    const hub = new Hub();
    const store = new ManualStore<EchoOp>();
    const host = new NodeHost(selfSpec, { id: '1', members: ['1'], store, transport: hub.transport('1') });
    host.start();
    const res = host.request({ type: 'read' }, 1000);
    await flush();
    expect(seen).toEqual([]); // not before the write is durable
    store.syncNext();
    await res;
    await flush();
    expect(seen).toEqual(['1:ack']);
    expect(hub.log).toEqual([]);
    host.stop();
  });

  it('lets outputs marked awaitPersist false leave before the writes are synced', async () => {
    const selfSpec = scriptedSpec('early', (id, fx) => {
      fx.persist({ kind: 'issued', seq: 1 });
      fx.send('2', { type: 'ack', id: 'late' });
      fx.send('2', { type: 'ack', id: 'early' }, { awaitPersist: false });
      fx.reply(id, { ok: true }, { awaitPersist: false });
    });
    const hub = new Hub();
    hub.handlers.set('2', () => {});
    const store = new ManualStore<EchoOp>();
    const host = new NodeHost(selfSpec, { id: '1', members: ['1', '2'], store, transport: hub.transport('1') });
    host.start();
    expect(await host.request({ type: 'read' }, 1000)).toEqual({ ok: true }); // answered while the write is pending
    expect(hub.log).toEqual(['1->2 ack']);
    await flush();
    expect(hub.log).toEqual(['1->2 ack']);
    store.syncNext();
    await flush();
    expect(hub.log).toEqual(['1->2 ack', '1->2 ack']);
    host.stop();
  });

  it('hands early outputs to a turn-flushing transport before the writes of that turn start', async () => {
    // a transport that writes its queue from setImmediate once per turn, as the host starts the
    // turn's writes: whichever registered first runs first (src/net flushes sooner, per input)
    const events: string[] = [];
    const spec = scriptedSpec('early-first', (_id, fx) => {
      fx.persist({ kind: 'issued', seq: 1 });
      fx.send('2', { type: 'ack', id: 'append' }, { awaitPersist: false });
    });
    let flushScheduled = false;
    const transport: PeerTransport<EchoMessage> = {
      send: () => {
        if (flushScheduled) return;
        flushScheduled = true;
        setImmediate(() => events.push('wire'));
      },
      onMessage: () => {},
    };
    const store: DurableStore<EchoOp> = { recovered: [], persist: () => (events.push('write'), Promise.resolve()) };
    const host = new NodeHost(spec, { id: '1', members: ['1', '2'], store, transport });
    host.start();
    void host.request({ type: 'read' }, 50);
    await flush();
    expect(events).toEqual(['wire', 'write']);
    host.stop();
  });

  it('stops and reports when a write fails', async () => {
    const hub = new Hub();
    const failing: DurableStore<EchoOp> = { recovered: [], persist: () => Promise.reject(new Error('EIO: disk on fire')) };
    let fatal: Error | undefined;
    const host = new NodeHost<EchoMessage, EchoRequest, EchoResponse, EchoOp>(echoSpec(1000), { id: '1', members: ['1', '2'], store: failing, transport: hub.transport('1'), onFatal: (e) => (fatal = e) });
    host.start();
    const res = await host.request({ type: 'broadcast', value: 1 }, 50);
    expect(res).toBeUndefined();
    expect(fatal?.message).toMatch(/EIO/);
    expect(hub.log).toEqual([]);
  });
});
