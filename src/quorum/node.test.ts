import { describe, expect, it } from 'vitest';
import { storeKeyOf } from './requests.js';
import { call, contextOf, get, put, quorumCluster, valuesOf } from './test/harness.js';

/** The home replicas of bucket b's key, and a node outside them (the cluster has 5). */
function placement(cluster: ReturnType<typeof quorumCluster>, key: string): { homes: string[]; outsider: string } {
  const homes = cluster.homesOf(storeKeyOf('b', key));
  const outsider = cluster.nodeIds.find((id) => !homes.includes(id)) as string;
  return { homes, outsider };
}

describe('quorum store: reads and writes', () => {
  it('writes through any node (a non-home node forwards to a home replica) and reads the value back', () => {
    const cluster = quorumCluster(5);
    const { homes, outsider } = placement(cluster, 'k');
    const w = put(cluster, outsider, 'k', 'v1');
    expect(w).toMatchObject({ ok: true, op: 'write', acks: 2 });
    expect(homes).toContain((w as { dot: { actor: string } }).dot.actor);
    expect(valuesOf(get(cluster, outsider, 'k'))).toEqual(['v1']);
    expect(get(cluster, homes[0] as string, 'missing')).toMatchObject({ ok: true, found: false, values: [] });
  });

  it('keeps concurrent writes as siblings and resolves them with a write carrying the read context', () => {
    const cluster = quorumCluster(5);
    const { homes } = placement(cluster, 'k');
    put(cluster, homes[0] as string, 'k', 'a');
    put(cluster, homes[1] as string, 'k', 'b'); // blind: concurrent
    const read = get(cluster, homes[2] as string, 'k', { r: 'all' });
    expect([...valuesOf(read)].sort()).toEqual(['a', 'b']);
    put(cluster, homes[2] as string, 'k', 'ab', { context: contextOf(read) });
    cluster.runFor(500);
    expect(valuesOf(get(cluster, homes[0] as string, 'k', { r: 'all' }))).toEqual(['ab']);
  });

  it('deletes with a context; the key reads as absent everywhere', () => {
    const cluster = quorumCluster(5);
    const { homes } = placement(cluster, 'k');
    put(cluster, homes[0] as string, 'k', 'v');
    const read = get(cluster, homes[1] as string, 'k');
    expect(call(cluster, homes[1] as string, { op: 'delete', bucket: 'b', key: 'k', context: contextOf(read) })).toMatchObject({ ok: true });
    expect(get(cluster, homes[2] as string, 'k', { r: 'all' })).toMatchObject({ ok: true, found: false });
  });

  it('answers bad requests with typed errors and keeps serving', () => {
    const cluster = quorumCluster(3);
    const bad = [
      { op: 'put', bucket: 'b', key: 'k', value: 'v', context: 'forged' },
      { op: 'put', bucket: 'b', key: 'k', value: 'v', w: 4 },
      { op: 'get', bucket: 'b', key: 'k', r: 'any' },
      { op: 'get', bucket: 'b/x', key: 'k' },
      { op: 'get', bucket: 'b', key: '' },
      { op: 'increment', bucket: 'b', key: 'k', delta: 1 },
      { op: 'drop', bucket: 'b', key: 'k' },
      { op: 'put', bucket: 'b', key: 'k', value: 'x'.repeat(70_000) },
    ];
    for (const request of bad) {
      const res = call(cluster, '1', request as never);
      expect(res?.ok).toBe(false);
      expect(res).toHaveProperty('code');
    }
    expect(put(cluster, '1', 'k', 'fine')).toMatchObject({ ok: true });
  });

  it('refuses a write past the sibling limit with QUORUM_SIBLING_LIMIT', () => {
    const cluster = quorumCluster(3, { maxSiblings: 2 });
    put(cluster, '1', 'k', 'a');
    put(cluster, '1', 'k', 'b');
    expect(put(cluster, '1', 'k', 'c')).toMatchObject({ ok: false, code: 'QUORUM_SIBLING_LIMIT' });
    expect(put(cluster, '1', 'k', 'c', { context: contextOf(get(cluster, '1', 'k', { r: 'all' })) })).toMatchObject({ ok: true });
  });
});

describe('quorum store: failures', () => {
  it('W=ALL with a home replica down fails without sloppy quorum and succeeds with it; the hint reaches the replica when it returns', () => {
    for (const sloppyQuorum of [false, true]) {
      const cluster = quorumCluster(5, { sloppyQuorum, antiEntropyIntervalMs: 0 });
      const { homes } = placement(cluster, 'k');
      const down = homes[2] as string;
      cluster.crash(down);
      cluster.runFor(600); // the others notice it is gone
      const res = put(cluster, homes[0] as string, 'k', 'v', { w: 'all' });
      if (!sloppyQuorum) {
        expect(res).toMatchObject({ ok: false, code: 'QUORUM_NOT_REACHED', acks: 2 });
      } else {
        expect(res).toMatchObject({ ok: true, acks: 3 });
        const standIns = cluster.nodeIds.filter((id) => !homes.includes(id));
        expect(standIns.some((id) => (cluster.node(id)?.hints().length ?? 0) > 0)).toBe(true);
      }
      // hinted handoff either way: the coordinator (no sloppy quorum) or a stand-in keeps it
      cluster.restart(down);
      cluster.runUntil(() => cluster.node(down)?.stateOf(storeKeyOf('b', 'k')) !== undefined, 5_000);
      expect(cluster.node(down)?.stateOf(storeKeyOf('b', 'k'))).toMatchObject({ siblings: [{ value: 'v' }] });
      cluster.runFor(500);
      expect(cluster.nodeIds.every((id) => (cluster.node(id)?.hints().length ?? 0) === 0)).toBe(true);
    }
  });

  it('read repair writes the merged version back to a replica that missed a write', () => {
    const cluster = quorumCluster(5, { antiEntropyIntervalMs: 0, hintedHandoff: false });
    const { homes } = placement(cluster, 'k');
    const stale = homes[2] as string;
    cluster.partition([[stale], cluster.nodeIds.filter((id) => id !== stale)]);
    expect(put(cluster, homes[0] as string, 'k', 'v')).toMatchObject({ ok: true });
    cluster.heal();
    cluster.runFor(600);
    expect(cluster.node(stale)?.stateOf(storeKeyOf('b', 'k'))).toBeUndefined();
    expect(valuesOf(get(cluster, homes[0] as string, 'k', { r: 'all' }))).toEqual(['v']);
    cluster.runFor(100);
    expect(cluster.node(stale)?.stateOf(storeKeyOf('b', 'k'))).toMatchObject({ siblings: [{ value: 'v' }] });
  });

  it('anti-entropy brings back a replica that missed writes, with no read and no hint', () => {
    const cluster = quorumCluster(5, { hintedHandoff: false, readRepair: false });
    const { homes } = placement(cluster, 'k');
    const stale = homes[1] as string;
    cluster.partition([[stale], cluster.nodeIds.filter((id) => id !== stale)]);
    for (let i = 0; i < 5; i++) put(cluster, homes[0] as string, `k`, `v${i}`, { context: i === 0 ? '' : contextOf(get(cluster, homes[0] as string, 'k')) });
    cluster.heal();
    const key = storeKeyOf('b', 'k');
    expect(cluster.runUntil(() => cluster.node(stale)?.stateOf(key) !== undefined && cluster.converged(), 20_000)).toBe(true);
    expect(cluster.node(stale)?.stateOf(key)).toMatchObject({ siblings: [{ value: 'v4' }] });
  });

  it('a tombstone is collected once every home replica holds it, and the key does not come back', () => {
    const cluster = quorumCluster(5, { tombstoneGraceMs: 2_000, hintWindowMs: 1_000 });
    const { homes } = placement(cluster, 'k');
    const key = storeKeyOf('b', 'k');
    put(cluster, homes[0] as string, 'k', 'v', { w: 'all' });
    // one home replica is away while the delete happens and past the grace period: nobody may collect
    const away = homes[2] as string;
    cluster.crash(away);
    cluster.runFor(600);
    const read = get(cluster, homes[0] as string, 'k');
    expect(call(cluster, homes[0] as string, { op: 'delete', bucket: 'b', key: 'k', context: contextOf(read) })).toMatchObject({ ok: true });
    cluster.runFor(4_000);
    expect(cluster.node(homes[0] as string)?.stateOf(key)).toBeDefined();
    cluster.restart(away);
    cluster.runUntil(() => homes.every((h) => cluster.node(h)?.stateOf(key) === undefined), 30_000);
    for (const h of homes) expect(cluster.node(h)?.stateOf(key)).toBeUndefined();
    cluster.runFor(3_000);
    expect(get(cluster, homes[2] as string, 'k', { r: 'all' })).toMatchObject({ ok: true, found: false });
    for (const h of homes) expect(cluster.node(h)?.stateOf(key)).toBeUndefined();
  });

  it('a restarted coordinator never reuses a dot (its counter is durable)', () => {
    const cluster = quorumCluster(3, { replicas: 3 });
    const first = put(cluster, '1', 'k', 'a') as { dot: { counter: number } };
    cluster.crash('1');
    cluster.restart('1');
    cluster.runFor(100);
    const second = put(cluster, '1', 'other', 'b') as { dot: { actor: string; counter: number } };
    expect(second.dot.counter).toBeGreaterThan(first.dot.counter);
  });
});

describe('quorum store: bucket types', () => {
  it('LWW buckets keep one value: the highest HLC stamp wins', () => {
    const cluster = quorumCluster(3, { buckets: { b: 'lww' } });
    put(cluster, '1', 'k', 'first');
    cluster.runFor(5);
    put(cluster, '2', 'k', 'second');
    expect(valuesOf(get(cluster, '3', 'k', { r: 'all' }))).toEqual(['second']);
  });

  it('LWW loses a later write to a node whose clock runs ahead: the documented hazard', () => {
    const cluster = quorumCluster(3, { buckets: { b: 'lww' }, maxClockOffsetMs: 100 });
    cluster.setClock('1', 5_000);
    put(cluster, '1', 'k', 'from-the-future');
    cluster.runFor(50);
    expect(put(cluster, '2', 'k', 'later-in-real-time')).toMatchObject({ ok: true });
    expect(valuesOf(get(cluster, '3', 'k', { r: 'all' }))).toEqual(['from-the-future']);
  });

  it('counter buckets count increments through any coordinators; OR-set buckets merge adds and removes', () => {
    const cluster = quorumCluster(5, { buckets: { hits: 'counter', tags: 'orset' } });
    for (const [node, delta] of [['1', 5], ['2', 3], ['3', -2], ['4', 1]] as const) expect(call(cluster, node, { op: 'increment', bucket: 'hits', key: 'page', delta })).toMatchObject({ ok: true });
    expect(call(cluster, '5', { op: 'get', bucket: 'hits', key: 'page', r: 'all' })).toMatchObject({ ok: true, count: 7 });
    call(cluster, '1', { op: 'add', bucket: 'tags', key: 't', element: 'red' });
    call(cluster, '2', { op: 'add', bucket: 'tags', key: 't', element: 'blue' });
    call(cluster, '3', { op: 'remove', bucket: 'tags', key: 't', element: 'red' });
    cluster.runFor(500);
    expect(call(cluster, '4', { op: 'get', bucket: 'tags', key: 't', r: 'all' })).toMatchObject({ ok: true, values: ['blue'] });
    expect(call(cluster, '4', { op: 'put', bucket: 'hits', key: 'page', value: '1' })).toMatchObject({ ok: false, code: 'QUORUM_WRONG_TYPE' });
  });
});

describe('quorum store: hostile peers', () => {
  it('drops malformed peer messages with a note and keeps serving', async () => {
    const { messageProblem } = await import('./node.js');
    const cluster = quorumCluster(3);
    const node = cluster.node('1');
    expect(node).toBeDefined();
    const bad: unknown[] = [
      null,
      'ping',
      { type: 'store', rid: 1, key: 'b/k', state: {} },
      { type: 'store', rid: 'r', key: { toString: 1 }, state: {} },
      { type: 'store', rid: 'r', key: 'b/k', state: { kind: 'dvv', vv: [], siblings: [{ dot: { actor: 'a', counter: 1 }, value: 'v' }] } },
      { type: 'repair', states: [[1, {}]] },
      { type: 'repair', states: 'all of them' },
      { type: 'ae', sid: 'x'.repeat(100), partition: 0, body: {} },
      { type: 'ae', sid: 's', partition: 0, body: { kind: 'merkle/root', shape: 'round' } },
      { type: 'tomb-same', key: 'b/k', digest: 'd' },
      { type: 'forwarded', rid: 'r' },
      { type: 'mystery' },
    ];
    for (const msg of bad.slice(0, 2)) expect(messageProblem(msg)).toBeDefined();
    // the simulator carries only well-typed messages: hand the frames to the core directly
    const fx = { send: () => undefined, persist: () => undefined, reply: () => undefined, annotate: () => undefined };
    for (const msg of bad) expect(() => node?.handleMessage('2', msg as never, fx)).not.toThrow();
    expect(put(cluster, '1', 'k', 'still-serving')).toMatchObject({ ok: true });
  });
});
