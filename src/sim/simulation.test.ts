// Tests that each fault of the simulator does what it says, that runs are deterministic, and
// that persistence comes before speech. A probe core records what reaches it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CoreEnv, Effects, NodeId, ProtocolSpec } from '../core/index.js';
import { Simulation } from './simulation.js';
import { echoSpec, runEchoWorkload, type EchoCore } from './echo.js';
import { BucketQueue, EventQueue, type Scheduled } from './queue.js';
import { RandomSource } from './rng.js';

type ProbeMsg = { readonly type: 'probe'; readonly seq: number };
type ProbeReq = { readonly sendTo: NodeId; readonly count: number } | { readonly write: number; readonly thenSendTo?: NodeId; readonly early?: boolean };
type ProbeFx = Effects<ProbeMsg, number, string>;

class Probe {
  readonly received: { from: NodeId; seq: number; atLocalMs: number }[] = [];
  readonly tickLocalTimes: number[] = [];
  constructor(readonly env: CoreEnv, readonly durable: readonly number[]) {}
  handleMessage(from: NodeId, msg: ProbeMsg): void {
    this.received.push({ from, seq: msg.seq, atLocalMs: this.env.now() });
  }
  handleTick(): void {
    this.tickLocalTimes.push(this.env.now());
  }
  handleRequest(requestId: string, req: ProbeReq, fx: ProbeFx): void {
    if ('sendTo' in req) {
      for (let i = 0; i < req.count; i++) fx.send(req.sendTo, { type: 'probe', seq: i });
    } else {
      fx.persist(req.write);
      const options = req.early === true ? { awaitPersist: false } : undefined;
      if (req.thenSendTo !== undefined) fx.send(req.thenSendTo, { type: 'probe', seq: req.write }, options);
    }
    fx.reply(requestId, 'done');
  }
}

function probeSpec(tickIntervalMs = 0): ProtocolSpec<ProbeMsg, ProbeReq, string, number> {
  return { name: 'probe', tickIntervalMs, create: (env, durable) => new Probe(env, durable) };
}

function newSim(options: Partial<ConstructorParameters<typeof Simulation<ProbeMsg, ProbeReq, string, number>>[0]> = {}) {
  return new Simulation<ProbeMsg, ProbeReq, string, number>({ seed: 1, protocol: probeSpec(), nodes: 5, ...options });
}

const probe = (sim: Simulation<ProbeMsg, ProbeReq, string, number>, id: NodeId) => sim.core(id) as unknown as Probe;

function sendFrom(sim: Simulation<ProbeMsg, ProbeReq, string, number>, from: NodeId, to: NodeId, count: number): void {
  sim.request(from, { sendTo: to, count }, { timeoutMs: 10_000 }, () => {});
}

describe('network faults', () => {
  it('delivers everything on a clean network', () => {
    const sim = newSim();
    sendFrom(sim, '1', '2', 100);
    sim.runFor(1000);
    expect(probe(sim, '2').received).toHaveLength(100);
  });

  it('delivers nothing at 100% loss', () => {
    const sim = newSim({ link: { lossRate: 1 } });
    sendFrom(sim, '1', '2', 100);
    sim.runFor(1000);
    expect(probe(sim, '2').received).toHaveLength(0);
    expect(sim.stats.dropsByReason.loss).toBe(100);
  });

  it('a partition blocks only cross-group links, both ways', () => {
    const sim = newSim();
    sim.partition([['1', '2'], ['3', '4', '5']]);
    for (const from of sim.nodeIds) for (const to of sim.nodeIds) if (from !== to) sendFrom(sim, from, to, 1);
    sim.runFor(1000);
    for (const to of sim.nodeIds) {
      const froms = probe(sim, to).received.map((r) => r.from).sort();
      const sameSide = ['1', '2'].includes(to) ? ['1', '2'] : ['3', '4', '5'];
      expect(froms).toEqual(sameSide.filter((n) => n !== to));
    }
  });

  it('a one-way partition blocks only the direction asked', () => {
    const sim = newSim();
    sim.partitionOneWay(['1'], ['2']);
    sendFrom(sim, '1', '2', 5);
    sendFrom(sim, '2', '1', 5);
    sendFrom(sim, '1', '3', 5);
    sim.runFor(1000);
    expect(probe(sim, '2').received).toHaveLength(0);
    expect(probe(sim, '1').received).toHaveLength(5);
    expect(probe(sim, '3').received).toHaveLength(5);
  });

  it('heal restores every link; messages in flight across a new cut are lost', () => {
    const sim = newSim({ link: { latency: { kind: 'constant', ms: 50 } } });
    sendFrom(sim, '1', '3', 10);
    sim.runFor(10);
    sim.partition([['1'], ['3']]); // cut while the ten are in flight
    sim.runFor(100);
    expect(probe(sim, '3').received).toHaveLength(0);
    sim.heal();
    sendFrom(sim, '1', '3', 10);
    sim.runFor(100);
    expect(probe(sim, '3').received).toHaveLength(10);
  });

  it('duplicates at the configured rate (over many seeds)', () => {
    let sent = 0;
    let delivered = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const sim = newSim({ seed, link: { duplicateRate: 0.2 } });
      sendFrom(sim, '1', '2', 500);
      sim.runFor(1000);
      sent += 500;
      delivered += probe(sim, '2').received.length;
    }
    expect(delivered / sent - 1).toBeGreaterThan(0.18);
    expect(delivered / sent - 1).toBeLessThan(0.22);
  });

  it('reorders at the configured rate (over many seeds)', () => {
    // On a constant-latency link order is kept; a held-back message is overtaken by the next ones.
    const fraction = (reorderRate: number): number => {
      let overtaken = 0;
      let total = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const sim = newSim({ seed, link: { latency: { kind: 'constant', ms: 5 }, reorderRate, reorderWindowMs: 1000 } });
        for (let i = 0; i < 200; i++) sim.at(i * 10 + 1, () => sim.request('1', { sendTo: '2', count: 1 }, { timeoutMs: 5000 }, () => {}));
        sim.runFor(5000);
        // every send has seq 0, so order by local receive time is compared with send order via times
        const times = probe(sim, '2').received.map((r) => r.atLocalMs);
        total += times.length;
        // a message delivered late shows up as a time more than 5 ms after its slot
        const expected = Array.from({ length: 200 }, (_, i) => i * 10 + 1 + 1 + 5);
        const sorted = [...times].sort((a, b) => a - b);
        const onTime = new Set(expected);
        overtaken += sorted.filter((t) => !onTime.has(t)).length;
      }
      return overtaken / total;
    };
    expect(fraction(0)).toBe(0);
    const f = fraction(0.1);
    expect(f).toBeGreaterThan(0.08);
    expect(f).toBeLessThan(0.12);
  });

  it('names each message in flight with its arrival time, and drops one on request', () => {
    const sim = newSim({ link: { latency: { kind: 'constant', ms: 20 } } });
    const sends: { id: number; arriveMs: number | null }[] = [];
    sim.subscribe((e) => {
      if (e.ev === 'send') sends.push({ id: e.id, arriveMs: e.arriveMs });
    });
    sendFrom(sim, '1', '2', 3);
    sim.runFor(5);
    expect(sends.map((s) => s.arriveMs)).toEqual([21, 21, 21]);
    sim.dropInFlight((sends[1] as { id: number }).id);
    sim.runFor(100);
    expect(probe(sim, '2').received).toHaveLength(2);
    expect(sim.stats.dropsByReason.manual).toBe(1);
  });

  it('a slow link adds its delay', () => {
    const sim = newSim({ link: { latency: { kind: 'constant', ms: 3 } } });
    sim.setLink('1', '2', { extraDelayMs: 100 });
    sendFrom(sim, '1', '2', 1);
    sendFrom(sim, '1', '3', 1);
    sim.runFor(1000);
    expect(probe(sim, '3').received[0]?.atLocalMs).toBe(1 + 3);
    expect(probe(sim, '2').received[0]?.atLocalMs).toBe(1 + 103);
  });
});

describe('process faults', () => {
  it('a crash loses unsynced writes and the messages waiting on them; synced ones survive a restart', () => {
    const sim = newSim({ fsyncMs: 10, tornWriteRate: 0 });
    sim.request('1', { write: 1, thenSendTo: '2' }, { timeoutMs: 1000 }, () => {});
    sim.runFor(50); // write 1 synced at 11 ms, message sent after
    sim.request('1', { write: 2, thenSendTo: '2' }, { timeoutMs: 1000 }, () => {});
    sim.runFor(5); // write 2 is not synced yet
    expect(sim.disk('1').unsyncedCount('core')).toBe(1);
    sim.crash('1');
    sim.runFor(100);
    expect(probe(sim, '2').received.map((r) => r.seq)).toEqual([1]); // the second message never left
    sim.restart('1');
    expect(probe(sim, '1').durable).toEqual([1]);
  });

  it('a crash may tear the last unsynced write, and restart cuts the torn tail off', () => {
    const sim = newSim({ fsyncMs: 10, tornWriteRate: 1 });
    sim.request('1', { write: 7 }, { timeoutMs: 1000 }, () => {});
    sim.runFor(50);
    sim.request('1', { write: 8 }, { timeoutMs: 1000 }, () => {});
    sim.runFor(5);
    sim.crash('1');
    expect(sim.disk('1').read('core').map((r) => [r.value, r.torn])).toEqual([[7, false], [8, true]]);
    sim.restart('1');
    expect(probe(sim, '1').durable).toEqual([7]);
  });

  it('nothing reaches a crashed node, and its replies are not sent', () => {
    const sim = newSim();
    sim.crash('2');
    sendFrom(sim, '1', '2', 3);
    let answer: string | undefined = 'none';
    sim.request('2', { sendTo: '1', count: 1 }, { timeoutMs: 100 }, (r) => (answer = r));
    sim.runFor(200);
    expect(answer).toBeUndefined();
    expect(sim.stats.dropsByReason.down).toBeGreaterThanOrEqual(3);
  });

  it('a pause delays timers and messages until it ends (ticks fire late, once)', () => {
    const sim = newSim({ protocol: probeSpec(10) });
    sim.runFor(100);
    const before = probe(sim, '1').tickLocalTimes.length;
    sim.pause('1', 500);
    sendFrom(sim, '2', '1', 1);
    sim.runFor(499);
    expect(probe(sim, '1').tickLocalTimes.length).toBe(before);
    expect(probe(sim, '1').received).toHaveLength(0);
    sim.runFor(2);
    const ticks = probe(sim, '1').tickLocalTimes;
    expect(ticks.length).toBe(before + 1);
    expect(ticks[ticks.length - 1]).toBe(600);
    expect(probe(sim, '1').received[0]?.atLocalMs).toBe(600);
  });

  it('a slow node processes one input per processing time', () => {
    const sim = newSim({ link: { latency: { kind: 'constant', ms: 1 } } });
    sim.setSlow('2', 20);
    sendFrom(sim, '1', '2', 5);
    sim.runFor(1000);
    const times = probe(sim, '2').received.map((r) => r.atLocalMs);
    expect(times).toEqual([2, 22, 42, 62, 82]);
  });

  it('clock offset and drift change the local clock and the tick rate, not virtual time', () => {
    const sim = newSim({ protocol: probeSpec(100) });
    sim.setClock('1', 5000, 100_000); // +5 s, running 10% fast
    sim.runFor(10_000);
    expect(sim.localNowMs('1')).toBe(5000 + 11_000);
    expect(sim.localNowMs('2')).toBe(10_000);
    const fast = probe(sim, '1').tickLocalTimes.length;
    const normal = probe(sim, '2').tickLocalTimes.length;
    expect(fast / normal).toBeGreaterThan(1.05);
    expect(fast / normal).toBeLessThan(1.15);
  });
});

describe('determinism', () => {
  function echoRunHash(seed: number, nodes = 5): string {
    const sim = new Simulation({ seed, protocol: echoSpec(), nodes, fsyncMs: 2, link: { lossRate: 0.05, duplicateRate: 0.05, reorderRate: 0.05 } });
    runEchoWorkload(sim, { clients: 3, untilMs: 3000, thinkMs: 10, timeoutMs: 200 });
    sim.at(800, () => sim.crash('2'));
    sim.at(1500, () => sim.restart('2'));
    sim.at(1700, () => sim.partition([['1', '2'], ['3', '4', '5']]));
    sim.at(2200, () => sim.heal());
    sim.at(2300, () => sim.pause('4', 300));
    sim.runUntil(4000);
    return (sim.trace as NonNullable<typeof sim.trace>).sha256();
  }

  it('the same seed gives a byte-identical trace; different seeds differ', () => {
    expect(echoRunHash(7)).toBe(echoRunHash(7));
    expect(echoRunHash(7)).not.toBe(echoRunHash(8));
  });

  it('per-sender network randomness is deterministic too, and draws other numbers than per-link', () => {
    const run = (linkRandomness: 'per-link' | 'per-sender'): string => {
      const sim = new Simulation({ seed: 3, protocol: echoSpec(), nodes: 5, link: { lossRate: 0.2, latency: { kind: 'uniform', minMs: 1, maxMs: 30 } }, linkRandomness });
      runEchoWorkload(sim, { clients: 3, untilMs: 2000, thinkMs: 10, timeoutMs: 200 });
      sim.runUntil(2500);
      return (sim.trace as NonNullable<typeof sim.trace>).sha256();
    };
    expect(run('per-sender')).toBe(run('per-sender'));
    expect(run('per-sender')).not.toBe(run('per-link'));
  });

  it('counts the bytes sent, in total and per type, when given a message size', () => {
    const sim = newSim({ messageBytes: (msg) => 10 + msg.seq });
    sendFrom(sim, '1', '2', 4);
    sim.runFor(100);
    expect(sim.stats.total.bytes).toBe(10 + 11 + 12 + 13);
    expect(sim.stats.byType.get('probe')?.bytes).toBe(46);
    expect(newSim().stats.total.bytes).toBeUndefined();
  });

  it('named random streams do not shift when other streams are used', () => {
    const a = new RandomSource(99);
    const b = new RandomSource(99);
    b.stream('node:6').float(); // a new component drawing numbers
    const xs = Array.from({ length: 5 }, () => a.stream('link:1->2').float());
    const ys = Array.from({ length: 5 }, () => b.stream('link:1->2').float());
    expect(ys).toEqual(xs);
  });

  it('the bucket queue pops in exactly the heap order (time, then insertion)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(10_000), fc.boolean()), { minLength: 1, maxLength: 300 }), (ops) => {
        const heap = new EventQueue<Scheduled & { id: number }>();
        const buckets = new BucketQueue<Scheduled & { id: number }>();
        let now = 0;
        let id = 0;
        const popped: [number[], number[]] = [[], []];
        for (const [delay, pop] of ops) {
          if (pop) {
            const x = heap.pop();
            const y = buckets.pop();
            if (x === undefined || y === undefined) {
              expect(y).toBe(x);
              continue;
            }
            now = x.atMs;
            popped[0].push(x.id);
            popped[1].push(y.id);
          } else {
            heap.push({ atMs: now + delay, seq: 0, id });
            buckets.push({ atMs: now + delay, seq: 0, id: id++ });
          }
        }
        expect(popped[1]).toEqual(popped[0]);
      }),
    );
  });
});

describe('persist before speak', () => {
  it('every message leaves only after the writes of its call are synced', () => {
    const sim = newSim({ fsyncMs: 25, link: { latency: { kind: 'constant', ms: 1 } } });
    sim.request('1', { write: 1, thenSendTo: '2' }, { timeoutMs: 1000 }, () => {});
    sim.runFor(1000);
    // request arrives at 1 ms, fsync done at 26 ms, message arrives at 27 ms
    expect(probe(sim, '2').received[0]?.atLocalMs).toBe(27);
  });

  it('a message sent with awaitPersist false leaves at once; the others still wait; a crash keeps what it said', () => {
    const sim = newSim({ fsyncMs: 25, tornWriteRate: 0, link: { latency: { kind: 'constant', ms: 1 } } });
    sim.request('1', { write: 1, thenSendTo: '2', early: true }, { timeoutMs: 1000 }, () => {});
    sim.request('1', { write: 2, thenSendTo: '3' }, { timeoutMs: 1000 }, () => {});
    sim.runFor(10);
    // request at 1 ms, the early message at 2 ms; the other waits for both writes to be synced
    expect(probe(sim, '2').received[0]?.atLocalMs).toBe(2);
    expect(probe(sim, '3').received).toEqual([]);
    sim.crash('1');
    sim.restart('1');
    expect(probe(sim, '1').durable).toEqual([]); // write 1 was never synced, though node 2 heard of it
    sim.runFor(100);
    expect(probe(sim, '3').received).toEqual([]); // its message died with the unsynced write
  });
});

describe('echo demonstration core', () => {
  it('every acknowledged broadcast is held by a majority, through crashes and partitions', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const sim = new Simulation({ seed, protocol: echoSpec(), nodes: 5, fsyncMs: 1, link: { lossRate: 0.1 } });
      runEchoWorkload(sim, { clients: 2, untilMs: 2000, thinkMs: 20, timeoutMs: 300 });
      sim.at(500, () => sim.crash('1'));
      sim.at(900, () => sim.partition([['2'], ['3', '4', '5']]));
      sim.at(1400, () => sim.heal());
      sim.at(1500, () => sim.restart('1'));
      sim.runUntil(3000);
      const acked = sim.historySnapshot().ops.filter((o) => o.outcome === 'ok').map((o) => o.input as number);
      expect(acked.length).toBeGreaterThan(10);
      for (const value of acked) {
        const holders = sim.nodeIds.filter((id) => (sim.core(id) as EchoCore).deliveredValues().includes(value));
        expect(holders.length).toBeGreaterThanOrEqual(3);
      }
    }
  });
});
