// Tests of the spec combinator: message types are namespaced and routed to the right part's
// core, a message for a part a node does not run is dropped and recorded, persisted ops come
// back to their part after a crash, ticks follow the gcd rule, and runs stay deterministic.
import { describe, expect, it } from 'vitest';
import type { CoreEnv, Effects, NodeId, ProtocolSpec } from '../core/index.js';
import { composeSpecs } from './compose.js';
import { echoSpec, type EchoCore } from './echo.js';
import { Simulation } from './simulation.js';
import type { TraceEvent } from './trace.js';

/** A toy part: on request, sends `ping` to a node and persists a number; records what reaches it. */
type PingMsg = { readonly type: 'ping'; readonly n: number } | { readonly type: 'pong'; readonly n: number };
type PingReq = { readonly pingTo: NodeId; readonly n: number } | { readonly remember: number };
type PingFx = Effects<PingMsg, number, string>;

class PingCore {
  readonly got: string[] = [];
  ticks = 0;
  constructor(readonly env: CoreEnv, readonly durable: readonly number[]) {}
  handleMessage(from: NodeId, msg: PingMsg, fx: PingFx): void {
    this.got.push(`${msg.type} ${msg.n} from ${from}`);
    if (msg.type === 'ping') fx.send(from, { type: 'pong', n: msg.n });
  }
  handleTick(): void {
    this.ticks++;
  }
  handleRequest(requestId: string, req: PingReq, fx: PingFx): void {
    if ('pingTo' in req) fx.send(req.pingTo, { type: 'ping', n: req.n });
    else fx.persist(req.remember);
    fx.annotate('last', requestId);
    fx.reply(requestId, `done ${requestId}`);
  }
}

function pingSpec(name: string, tickIntervalMs = 0): ProtocolSpec<PingMsg, PingReq, string, number, PingCore> {
  return { name, tickIntervalMs, create: (env, durable) => new PingCore(env, durable) };
}

/** Parts a and b both on node 1; a on 2; b on 3. */
function twoParts(ticks: { a?: number; b?: number } = {}) {
  return composeSpecs({
    parts: { a: pingSpec('a', ticks.a ?? 0), b: pingSpec('b', ticks.b ?? 0) },
    placement: { '1': ['a', 'b'], '2': ['a'], '3': ['b'] },
  });
}

function simOf<S extends ReturnType<typeof twoParts>>(spec: S, seed = 1) {
  return new Simulation({ seed, protocol: spec, nodes: 3, trace: { keepLines: true } });
}

function events(sim: { trace: { lines: string[] | undefined } | undefined }): TraceEvent[] {
  return (sim.trace?.lines ?? []).map((l) => JSON.parse(l) as TraceEvent);
}

describe('composeSpecs', () => {
  it('namespaces message types by part and routes each to that part on the receiving node', () => {
    const spec = twoParts();
    const sim = simOf(spec);
    const replies: unknown[] = [];
    sim.request('2', { part: 'a', op: { pingTo: '1', n: 7 } }, { timeoutMs: 100 }, (r) => replies.push(r));
    sim.request('3', { part: 'b', op: { pingTo: '1', n: 8 } }, { timeoutMs: 100 }, (r) => replies.push(r));
    sim.runFor(50);
    const sent = events(sim).filter((e) => e.ev === 'send').map((e) => (e.ev === 'send' ? `${e.type} ${e.from}->${e.to}` : ''));
    expect(sent).toEqual(['a/ping 2->1', 'b/ping 3->1', 'a/pong 1->2', 'b/pong 1->3']);
    expect(spec.part(sim.core('1'), 'a')?.got).toEqual(['ping 7 from 2']);
    expect(spec.part(sim.core('1'), 'b')?.got).toEqual(['ping 8 from 3']);
    expect(spec.part(sim.core('2'), 'a')?.got).toEqual(['pong 7 from 1']);
    expect(spec.part(sim.core('3'), 'b')?.got).toEqual(['pong 8 from 1']);
    expect(spec.part(sim.core('2'), 'b')).toBeUndefined();
    expect(replies).toEqual([{ part: 'a', response: 'done q0' }, { part: 'b', response: 'done q1' }]);
    expect(sim.annotations('2').get('a/last')).toBe('q0');
    expect(sim.stats.byType.get('a/ping')?.delivered).toBe(1);
  });

  it('gives each part the nodes it runs on as its members', () => {
    const spec = twoParts();
    const sim = simOf(spec);
    expect(spec.part(sim.core('1'), 'a')?.env.members).toEqual(['1', '2']);
    expect(spec.part(sim.core('1'), 'b')?.env.members).toEqual(['1', '3']);
  });

  it('drops a message for a part the node does not run, records it in the trace, and goes on', () => {
    const spec = twoParts();
    const sim = simOf(spec);
    // node 2 runs only a: a's ping to node 3 (which runs only b) has no one to go to
    sim.request('2', { part: 'a', op: { pingTo: '3', n: 1 } }, { timeoutMs: 100 }, () => undefined);
    let refused: unknown;
    sim.request('3', { part: 'a', op: { remember: 1 } }, { timeoutMs: 100 }, (r) => (refused = r));
    sim.runFor(50);
    expect(sim.annotations('3').get('dropped')).toBe(2);
    const notes = events(sim).filter((e) => e.ev === 'annotate' && e.node === '3' && e.key === 'lastDropped');
    expect(notes.map((e) => (e.ev === 'annotate' ? e.value : null))).toEqual(['request for a', 'message a/ping from 2']);
    expect(refused).toEqual({ part: 'a', error: 'part-not-placed' });
    expect(spec.part(sim.core('3'), 'b')?.got).toEqual([]);
    expect(sim.isUp('3')).toBe(true);
  });

  it('drops a malformed wire message (no part, or a body of another type) without throwing', () => {
    const spec = twoParts();
    const core = spec.create({ id: '1', members: ['1', '2', '3'], now: () => 0, random: () => 0 }, []);
    const annotations: [string, unknown][] = [];
    const fx = { send: () => undefined, persist: () => undefined, reply: () => undefined, annotate: (k: string, v: unknown) => annotations.push([k, v]) };
    core.handleMessage('2', { type: 'nopart' } as never, fx);
    core.handleMessage('2', { type: 'a/ping', body: { type: 'pong', n: 1 } }, fx);
    expect(core.droppedCount).toBe(2);
    expect(spec.part(core, 'a')?.got).toEqual([]);
  });

  it('tags persisted ops with their part and replays them into that part after a crash', () => {
    const spec = twoParts();
    const sim = simOf(spec);
    for (const [part, n] of [['a', 1], ['b', 2], ['a', 3]] as const) sim.request('1', { part, op: { remember: n } }, { timeoutMs: 100 }, () => undefined);
    sim.runFor(20);
    expect(sim.disk('1').read('core').map((r) => r.value)).toEqual([
      { part: 'a', op: 1 },
      { part: 'b', op: 2 },
      { part: 'a', op: 3 },
    ]);
    sim.crash('1');
    sim.restart('1');
    expect(spec.part(sim.core('1'), 'a')?.durable).toEqual([1, 3]);
    expect(spec.part(sim.core('1'), 'b')?.durable).toEqual([2]);
  });

  it('ticks at the gcd of the parts\' intervals, each part at its own', () => {
    const spec = twoParts({ a: 20, b: 50 });
    expect(spec.tickIntervalMs).toBe(10);
    const sim = simOf(spec);
    sim.runFor(1000);
    const a = spec.part(sim.core('1'), 'a')?.ticks ?? 0;
    const b = spec.part(sim.core('1'), 'b')?.ticks ?? 0;
    expect(a).toBeGreaterThanOrEqual(49);
    expect(a).toBeLessThanOrEqual(50);
    expect(b).toBeGreaterThanOrEqual(19);
    expect(b).toBeLessThanOrEqual(20);
    // a part with no ticks is never ticked; a composition of such parts does not tick at all
    expect(twoParts().tickIntervalMs).toBe(0);
    expect(composeSpecs({ parts: { a: pingSpec('a', 30), b: pingSpec('b', 0) }, placement: () => ['a', 'b'] }).tickIntervalMs).toBe(30);
  });

  it('routes a part\'s messages to another part when told', () => {
    const spec = composeSpecs({
      parts: { a: pingSpec('a'), b: pingSpec('b') },
      placement: { '1': ['a'], '2': ['b'], '3': [] },
      routes: { a: () => 'b', b: () => 'a' },
    });
    const sim = new Simulation({ seed: 2, protocol: spec, nodes: 3, trace: { keepLines: true } });
    sim.request('1', { part: 'a', op: { pingTo: '2', n: 4 } }, { timeoutMs: 100 }, () => undefined);
    sim.runFor(50);
    expect(events(sim).flatMap((e) => (e.ev === 'deliver' ? [`${e.type} ${e.from}->${e.to}`] : []))).toEqual(['b/ping 1->2', 'a/pong 2->1']);
    expect(spec.part(sim.core('2'), 'b')?.got).toEqual(['ping 4 from 1']);
    expect(spec.part(sim.core('1'), 'a')?.got).toEqual(['pong 4 from 2']);
  });

  it('composes real cores: echo beside another part', () => {
    const spec = composeSpecs({
      parts: { echo: echoSpec(50), ping: pingSpec('ping') },
      placement: (id) => (id === '3' ? ['ping'] : ['echo', 'ping']),
    });
    const sim = new Simulation({ seed: 3, protocol: spec, nodes: 3 });
    let answer: unknown;
    sim.request('1', { part: 'echo', op: { type: 'broadcast', value: 5 } }, { timeoutMs: 500 }, (r) => (answer = r));
    sim.runFor(500);
    expect(answer).toMatchObject({ part: 'echo', response: { ok: true } });
    expect((spec.part(sim.core('2'), 'echo') as EchoCore | undefined)?.deliveredValues()).toEqual([5]);
    // echo's members are the nodes running echo: it waits for no ack from node 3
    expect(sim.stats.byType.get('echo/bcast')?.sent).toBeGreaterThanOrEqual(1);
    expect(sim.annotations('3').get('dropped')).toBeUndefined();
  });

  it('rejects bad compositions with a clear error', () => {
    expect(() => composeSpecs({ parts: {}, placement: {} })).toThrow(/at least one part/);
    expect(() => composeSpecs({ parts: { 'a/b': pingSpec('x') }, placement: {} })).toThrow(/no "\/"/);
    expect(() => composeSpecs({ parts: { a: pingSpec('a', 2.5) }, placement: {} })).toThrow(/whole ms/);
    expect(() => composeSpecs({ parts: { a: pingSpec('a') }, placement: { '1': ['z' as 'a'] } })).toThrow(/unknown part "z"/);
  });

  it('gives the same trace for the same seed, and another for another seed', () => {
    const run = (seed: number): string => {
      const sim = new Simulation({ seed, protocol: twoParts({ a: 20, b: 30 }), nodes: 3, link: { lossRate: 0.1 }, trace: {} });
      const rng = sim.random.stream('test-load');
      for (let i = 0; i < 40; i++) {
        sim.at(i * 10, () => {
          const part = rng.pick(['a', 'b'] as const);
          const from = part === 'a' ? rng.pick(['1', '2']) : rng.pick(['1', '3']);
          sim.request(from, { part, op: rng.chance(0.5) ? { pingTo: rng.pick(['1', '2', '3']), n: i } : { remember: i } }, { timeoutMs: 50 }, () => undefined);
        });
      }
      sim.at(150, () => sim.crash('1'));
      sim.at(250, () => sim.restart('1'));
      sim.runFor(600);
      return sim.trace?.sha256() ?? '';
    };
    expect(run(5)).toBe(run(5));
    expect(run(6)).not.toBe(run(5));
  });
});
