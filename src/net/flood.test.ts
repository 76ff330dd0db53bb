// Connection floods over real sockets on 127.0.0.1: strangers without the secret hold far more
// connections open than the pending-handshake table has slots, keep reopening them, stay silent,
// send a hello and stop, or send garbage; a member that (re)starts meanwhile still authenticates
// and exchanges messages, the per-address limit caps each flooding address, and the log stays
// bounded while the counters count every event.
import { describe, expect, it } from 'vitest';
import { Flood, HOST, startNode, useCleanup, waitFor, type Node } from './test/harness.js';
import type { TransportMetrics } from './metrics.js';
import type { TransportOptions } from './options.js';
import type { TestMessage } from './test/harness.js';

useCleanup();

const FLOOD_LIMITS: Partial<TransportOptions<TestMessage>> = {
  maxPendingHandshakes: 16,
  maxPendingHandshakesPerAddress: 8,
  // Generous deadlines: the flood itself must be beaten by eviction, not by timeouts.
  handshakeTimeoutMs: 10_000,
  helloTimeoutMs: 5_000,
  backoff: { initialMs: 10, maxMs: 200, multiplier: 2 },
};

/** Generous: on a loaded 2-core machine with a flood running, a handshake may need many tries. */
const EVENTUALLY_MS = 30_000;

/** Starts a and b connected both ways, returning b's port so b can restart on it. */
async function pair(options: Partial<TransportOptions<TestMessage>>): Promise<{ a: Node; b: Node; bPort: number }> {
  const a = await startNode('a', options);
  const b = await startNode('b', { ...options, peers: { a: a.transport.address } });
  a.transport.addPeer('b', b.transport.address);
  await waitFor(() => a.transport.metrics().peers.b!.inboundConnected && a.transport.metrics().peers.b!.connected, 'a and b connected');
  return { a, b, bPort: b.transport.address.port };
}

/**
 * Restarts b on its port while the flood runs, then waits until it authenticated to a and
 * messages flow both ways. `floodEffect` reads the counter the flood drives on a (evictions for
 * silent connections, auth failures for hellos), to check the flood was running all along.
 */
async function restartAndExchange(a: Node, b: Node, bPort: number, flood: Flood, floodEffect: (m: TransportMetrics) => number, options: Partial<TransportOptions<TestMessage>>): Promise<void> {
  await waitFor(() => floodEffect(a.transport.metrics()) > 20, 'the flood to take effect');
  await b.transport.close({ deadlineMs: 0 });
  await waitFor(() => !a.transport.metrics().peers.b!.inboundConnected, 'a to see b gone');
  const effectBefore = floodEffect(a.transport.metrics());
  const openedBefore = flood.opened;
  const restarted = await startNode('b', { ...options, listen: { host: HOST, port: bPort }, peers: { a: a.transport.address } });
  await waitFor(() => a.transport.metrics().peers.b!.inboundConnected, 'the restarted b to authenticate to a through the flood', EVENTUALLY_MS);
  // The flood was running all along: it still holds far more sockets open than there are
  // slots, and it kept opening connections that the node had to evict or refuse.
  expect(flood.openNow).toBeGreaterThan(16);
  expect(floodEffect(a.transport.metrics())).toBeGreaterThan(effectBefore);
  expect(flood.opened).toBeGreaterThan(openedBefore);
  restarted.transport.send('a', { type: 'up', seq: 1 });
  a.transport.send('b', { type: 'welcome-back', seq: 2 });
  await waitFor(() => a.received.some((r) => r.from === 'b' && r.message.seq === 1), 'b to reach a', EVENTUALLY_MS);
  await waitFor(() => restarted.received.some((r) => r.from === 'a' && r.message.seq === 2), 'a to reach b', EVENTUALLY_MS);
}

describe('connection floods', () => {
  it('a member restarting during a flood of idle connections from its own address gets in', async () => {
    const { a, b, bPort } = await pair(FLOOD_LIMITS);
    const flood = Flood.start(a.transport.address.port, { connections: 200, mode: 'idle' });
    await restartAndExchange(a, b, bPort, flood, (m) => m.evictedHandshakes, FLOOD_LIMITS);
  });

  it('a member restarting during a flood of hello-then-silence from its own address gets in', async () => {
    const { a, b, bPort } = await pair(FLOOD_LIMITS);
    const flood = Flood.start(a.transport.address.port, { connections: 200, mode: 'hello', helloFrom: 'b', helloTo: 'a' });
    await restartAndExchange(a, b, bPort, flood, (m) => m.authFailures, FLOOD_LIMITS);
  });

  it('a member restarting during a flood of garbage from its own address gets in', async () => {
    const { a, b, bPort } = await pair(FLOOD_LIMITS);
    const flood = Flood.start(a.transport.address.port, { connections: 200, mode: 'garbage' });
    await restartAndExchange(a, b, bPort, flood, (m) => m.decodeErrors + m.oversizeFrames + m.evictedHandshakes, FLOOD_LIMITS);
  });

  it('caps what each flooding address holds, so floods from other addresses cannot fill the table', async () => {
    const limits = { ...FLOOD_LIMITS, maxPendingHandshakes: 16, maxPendingHandshakesPerAddress: 4 };
    const { a, b, bPort } = await pair(limits);
    const floods = ['127.0.0.2', '127.0.0.3'].map((localAddress) => Flood.start(a.transport.address.port, { connections: 100, mode: 'idle', localAddress }));
    let mostPending = 0;
    let sampling = true;
    const sample = (): void => {
      mostPending = Math.max(mostPending, a.transport.metrics().pendingHandshakes);
      if (sampling) setImmediate(sample);
    };
    sample();
    await waitFor(() => a.transport.metrics().evictedHandshakes > 100, 'the floods to force evictions');
    await restartAndExchange(a, b, bPort, floods[0]!, (m) => m.evictedHandshakes, limits);
    sampling = false;
    // Two flooding addresses of 4 slots each, plus b's own handshakes: never near the 16 slots.
    expect(mostPending).toBeGreaterThanOrEqual(8);
    expect(mostPending).toBeLessThanOrEqual(2 * 4 + 2);
    const evictions = a.logs.filter((r) => r.event === 'too_many_handshakes');
    expect(evictions.length).toBeGreaterThan(0);
    for (const record of evictions) {
      expect(record.detail).toMatchObject({ groupFull: true });
      expect(['127.0.0.2', '127.0.0.3']).toContain(record.detail?.evictedFrom);
    }
  });

  it('logs a bounded number of records during a flood of stranger events, and counts every event', async () => {
    const burst = 5;
    // One dial to the absent member b, not one per backoff step: its connect_failed records are not what is measured.
    const limits = { ...FLOOD_LIMITS, helloTimeoutMs: 50, logRateLimit: { burst, intervalMs: 600_000 }, backoff: { initialMs: 600_000, maxMs: 600_000 } };
    const a = await startNode('a', limits);
    a.transport.addPeer('b', { host: HOST, port: 1 }); // a member id the flood's hellos can claim
    const port = a.transport.address.port;
    const floods = [
      Flood.start(port, { connections: 40, mode: 'hello', helloFrom: 'b', helloTo: 'a' }), // auth_failed
      Flood.start(port, { connections: 40, mode: 'garbage' }), // frame_error, handshake_timeout
      Flood.start(port, { connections: 40, mode: 'idle', localAddress: '127.0.0.2' }), // too_many_handshakes, handshake_timeout
    ];
    const events = 200;
    await waitFor(() => {
      const m = a.transport.metrics();
      return m.authFailures >= events && m.evictedHandshakes >= events && m.decodeErrors + m.oversizeFrames >= events && m.handshakeTimeouts >= 10;
    }, `${events} events of each kind`, EVENTUALLY_MS);
    for (const flood of floods) flood.stop();
    const limited = ['auth_failed', 'frame_error', 'too_many_handshakes', 'handshake_timeout'];
    // One window so far: at most `burst` records per event, whatever the number of events.
    for (const event of limited) expect(a.logs.filter((r) => r.event === event).length).toBeLessThanOrEqual(burst);
    expect(a.logs.length).toBeLessThan(limited.length * burst + 20);
    // At close, one summary per event accounts for the rest: nothing is lost from the count.
    await a.transport.close();
    const failures = a.logs.filter((r) => r.event === 'auth_failed');
    expect(failures.length).toBeLessThanOrEqual(burst + 1);
    const summarised = failures.reduce((sum, r) => sum + Number(r.detail?.suppressed ?? 0), 0);
    expect(failures.filter((r) => r.detail?.suppressed === undefined).length + summarised).toBe(a.transport.metrics().authFailures);
  });
});
