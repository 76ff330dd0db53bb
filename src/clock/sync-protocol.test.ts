// The clock-sync core driven by hand: controlled skewed/drifting clocks, chosen one-way
// delays, and a recording Effects sink stand in for the simulator.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createClockSyncSpec, type ClockSyncMessage, type ClockSyncReading } from './sync-protocol.js';
import { createFakeEnv, RecordingEffects, type FakeEnv } from './test/fake-host.js';

type SyncFx = RecordingEffects<ClockSyncMessage, ClockSyncReading>;

/** True time plus one server (exact clock) and one client whose clock is skewed and drifting. */
function createPair(clientSkewMs: number, clientDriftPpm = 0, syncEveryTicks = 1) {
  const spec = createClockSyncSpec({ syncEveryTicks, sampleWindow: 4 });
  const world = { trueMs: 10_000 };
  const serverEnv = createFakeEnv('1', ['1', '2']);
  const clientEnv = createFakeEnv('2', ['1', '2']);
  const sync = () => {
    serverEnv.localMs = world.trueMs;
    clientEnv.localMs = world.trueMs * (1 + clientDriftPpm / 1e6) + clientSkewMs;
  };
  const server = spec.create(serverEnv, []);
  const client = spec.create(clientEnv, []);
  const serverFx: SyncFx = new RecordingEffects();
  const clientFx: SyncFx = new RecordingEffects();
  server.start?.(serverFx);
  client.start?.(clientFx);
  const advance = (ms: number) => {
    world.trueMs += ms;
    sync();
  };
  sync();

  /** One tick of the client and, if it asked, the full exchange with the chosen one-way delays. */
  const exchange = (outMs: number, backMs: number) => {
    client.handleTick(clientFx);
    for (const request of clientFx.drain()) {
      advance(outMs);
      server.handleMessage('2', request.msg, serverFx);
      for (const response of serverFx.drain()) {
        advance(backMs);
        client.handleMessage('1', response.msg, clientFx);
      }
    }
  };
  return { world, client, clientFx, clientEnv, server, serverFx, exchange, advance };
}

const offsetEstimate = (fx: SyncFx) => fx.annotation('offsetEstimateMs') as number;

describe('clock sync core', () => {
  it('estimates −500 ms for a client 500 ms ahead on symmetric 20 ms paths', () => {
    const { clientFx, exchange, world } = createPair(500);
    exchange(20, 20);
    expect(Math.abs(offsetEstimate(clientFx) - -500)).toBeLessThanOrEqual(1);
    expect(clientFx.annotation('delayMs')).toBe(40);
    expect(clientFx.annotation('correctedNowMs')).toBeCloseTo(world.trueMs, 6);
    expect(clientFx.annotation('role')).toBe('client');
  });

  it('errs by half the asymmetry on asymmetric paths', () => {
    const { clientFx, exchange } = createPair(500);
    exchange(10, 50); // estimate −520: error 20 = (50 − 10) / 2, within delay / 2 = 30
    expect(offsetEstimate(clientFx)).toBe(-520);
    expect(Math.abs(offsetEstimate(clientFx) - -500)).toBeLessThanOrEqual((50 - 10) / 2);
  });

  it('trusts the recent sample with the smallest delay', () => {
    const { clientFx, exchange } = createPair(-300, 0, 1);
    exchange(90, 10); // delay 100, off by 40
    expect(offsetEstimate(clientFx)).toBe(340);
    exchange(5, 5); // delay 10, exact
    expect(offsetEstimate(clientFx)).toBe(300);
    exchange(1, 60); // delay 61: worse, ignored
    expect(offsetEstimate(clientFx)).toBe(300);
    expect(clientFx.annotation('delayMs')).toBe(10);
    for (let i = 0; i < 4; i++) exchange(2, 30); // the exact sample ages out of the window of 4
    expect(clientFx.annotation('delayMs')).toBe(32);
  });

  it('asks on the first tick and then every syncEveryTicks ticks', () => {
    const { client, clientFx } = createPair(0, 0, 3);
    for (let tick = 0; tick < 7; tick++) client.handleTick(clientFx);
    const requests = clientFx.drain();
    expect(requests.map((r) => r.msg.type)).toEqual(['sync_request', 'sync_request', 'sync_request']);
    expect(requests.every((r) => r.to === '1')).toBe(true);
  });

  it('ignores unknown, duplicated and mismatched responses', () => {
    const { client, clientFx, server, serverFx, advance } = createPair(100);
    client.handleTick(clientFx);
    const [request] = clientFx.drain();
    advance(10);
    server.handleMessage('2', request!.msg, serverFx);
    const [response] = serverFx.drain();
    const reply = response!.msg;
    if (reply.type !== 'sync_response') throw new Error('expected a response');
    advance(10);
    client.handleMessage('1', { ...reply, seq: 99 }, clientFx);
    client.handleMessage('1', { ...reply, t1Ms: reply.t1Ms - 1 }, clientFx);
    expect(clientFx.annotation('offsetEstimateMs')).toBeUndefined();
    client.handleMessage('1', reply, clientFx);
    expect(offsetEstimate(clientFx)).toBe(-100);
    advance(500); // a late duplicate would make a 520 ms sample; it must not count
    client.handleMessage('1', reply, clientFx);
    expect(clientFx.annotation('delayMs')).toBe(20);
  });

  it('forgets requests that were never answered beyond the window', () => {
    const { client, clientFx, server, serverFx, exchange } = createPair(0, 0, 1);
    for (let tick = 0; tick < 6; tick++) client.handleTick(clientFx);
    const [oldest] = clientFx.drain();
    server.handleMessage('2', oldest!.msg, serverFx);
    client.handleMessage('1', serverFx.drain()[0]!.msg, clientFx);
    expect(clientFx.annotation('offsetEstimateMs')).toBeUndefined();
    exchange(1, 1);
    expect(offsetEstimate(clientFx)).toBe(0);
  });

  it('answers read_clock queries on both roles', () => {
    const { client, clientFx, server, serverFx, exchange, world } = createPair(250);
    client.handleRequest('r0', { type: 'read_clock' }, clientFx);
    exchange(4, 4);
    client.handleRequest('r1', { type: 'read_clock' }, clientFx);
    server.handleRequest('r2', { type: 'read_clock' }, serverFx);
    expect(clientFx.replies).toEqual([
      { requestId: 'r0', response: { correctedNowMs: world.trueMs - 8 + 250, offsetEstimateMs: null, errorBoundMs: null } },
      { requestId: 'r1', response: { correctedNowMs: world.trueMs, offsetEstimateMs: -250, errorBoundMs: 4 } },
    ]);
    expect(serverFx.replies).toEqual([{ requestId: 'r2', response: { correctedNowMs: world.trueMs, offsetEstimateMs: 0, errorBoundMs: 0 } }]);
  });

  it('rejects invalid options', () => {
    expect(() => createClockSyncSpec({ syncEveryTicks: 0 })).toThrow(expect.objectContaining({ code: 'CLOCK_INVALID_OPTION' }));
    expect(() => createClockSyncSpec({ tickIntervalMs: 0 })).toThrow(expect.objectContaining({ code: 'CLOCK_INVALID_OPTION' }));
  });

  it('keeps the corrected clock within the trusted bound plus drift, for any skew, drift and delays', () => {
    const delays = fc.array(fc.tuple(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 80 })), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: -200, max: 200 }), delays, (skewMs, driftPpm, paths) => {
        const { clientFx, exchange, advance, world } = createPair(skewMs, driftPpm);
        const startMs = world.trueMs;
        for (const [outMs, backMs] of paths) {
          exchange(outMs, backMs);
          advance(100);
        }
        const correctedMs = clientFx.annotation('correctedNowMs') as number;
        const errorBoundMs = (clientFx.annotation('delayMs') as number) / 2;
        // Annotated just after the last response, 100 ms before `world.trueMs`.
        const trueAtAnnotationMs = world.trueMs - 100;
        const driftSlackMs = (Math.abs(driftPpm) * (world.trueMs - startMs + 1000)) / 1e6;
        expect(Math.abs(correctedMs - trueAtAnnotationMs)).toBeLessThanOrEqual(errorBoundMs + driftSlackMs);
      }),
    );
  });
});

describe('clock sync among several nodes', () => {
  it('brings every client to within its bound of the server', () => {
    const spec = createClockSyncSpec({ syncEveryTicks: 2 });
    const members = ['1', '2', '3', '4'];
    const skewsMs: Record<string, number> = { '1': 0, '2': -1200, '3': 350, '4': 42 };
    const world = { trueMs: 0 };
    const envs: FakeEnv[] = members.map((id) => createFakeEnv(id, members));
    const setClocks = () => envs.forEach((env) => (env.localMs = world.trueMs + (skewsMs[env.id] ?? 0)));
    setClocks();
    const cores = envs.map((env) => spec.create(env, []));
    const effects = cores.map(() => new RecordingEffects<ClockSyncMessage, ClockSyncReading>());
    cores.forEach((core, i) => core.start?.(effects[i]!));
    // Every message takes 3 + (index mod 4) ms; the host delivers in send order.
    let queue: { from: string; to: string; msg: ClockSyncMessage; atMs: number }[] = [];
    let sentCount = 0;
    const collect = (from: string, fx: SyncFx) => {
      for (const { to, msg } of fx.drain()) queue.push({ from, to, msg, atMs: world.trueMs + 3 + (sentCount++ % 4) });
    };
    for (let tick = 0; tick < 20; tick++) {
      cores.forEach((core, i) => {
        core.handleTick(effects[i]!);
        collect(members[i]!, effects[i]!);
      });
      for (let ms = 0; ms < 100; ms++) {
        world.trueMs++;
        setClocks();
        const due = queue.filter((m) => m.atMs <= world.trueMs);
        queue = queue.filter((m) => m.atMs > world.trueMs);
        for (const { from, to, msg } of due) {
          const index = members.indexOf(to);
          cores[index]!.handleMessage(from, msg, effects[index]!);
          collect(to, effects[index]!);
        }
      }
    }
    for (const i of [1, 2, 3]) {
      const offsetMs = effects[i]!.annotation('offsetEstimateMs') as number;
      const delayMs = effects[i]!.annotation('delayMs') as number;
      expect(Math.abs(offsetMs + (skewsMs[members[i]!] ?? 0))).toBeLessThanOrEqual(delayMs / 2);
    }
    expect(effects[0]!.annotation('role')).toBe('server');
  });
});
