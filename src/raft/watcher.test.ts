// The cluster watcher: it receives a prefix's changes in order from one node, resumes on the next
// up node when its own is down (no gap, no duplicate, a node behind gives nothing until it
// catches up), stops when its history is compacted, and `compare` catches a stream that differs
// from the change log.
import { describe, expect, it } from 'vitest';
import { KvStore, type ChangesRequest, type KvEvent, type KvResult } from '../kv/index.js';
import { RaftCluster } from './cluster.js';
import { runScenario, scenarioByName } from './scenarios/index.js';
import { appliedRevision, changeLog, ClusterWatcher, clusterWatchPort, eventLine, type WatchPort } from './watcher.js';

/** Nodes as plain stores: each applies a prefix of one list of commands. */
function fakeCluster(commands: readonly Parameters<KvStore['apply']>[0][]) {
  const stores = new Map<string, KvStore>();
  const up = new Map<string, boolean>();
  for (const id of ['1', '2', '3']) {
    stores.set(id, new KvStore());
    up.set(id, true);
  }
  const applied = new Map<string, number>([['1', 0], ['2', 0], ['3', 0]]);
  const port: WatchPort = {
    nodeIds: ['1', '2', '3'],
    isUp: (id) => up.get(id) === true,
    changes: (id, q: ChangesRequest): KvResult | undefined => (up.get(id) === true ? stores.get(id)?.query(q) : undefined),
  };
  return {
    port,
    /** Node `id` applies commands up to `n`. */
    applyTo(id: string, n: number) {
      const store = stores.get(id) as KvStore;
      for (let i = applied.get(id) as number; i < n; i++) store.apply(commands[i] as Parameters<KvStore['apply']>[0], i + 1);
      applied.set(id, Math.max(n, applied.get(id) as number));
    },
    setUp(id: string, value: boolean) {
      up.set(id, value);
    },
  };
}

const COMMANDS = [
  { op: 'put', key: 'x/a', value: 1 },
  { op: 'put', key: 'y', value: 1 },
  { op: 'put', key: 'x/b', value: 2 },
  { op: 'txn', compare: [], success: [{ op: 'put', key: 'x/c', value: 3 }, { op: 'delete', key: 'x/a' }], failure: [] },
  { op: 'put', key: 'x/a', value: 4 },
  { op: 'delete', prefix: 'x/' },
] as const;

describe('ClusterWatcher', () => {
  it('resumes on the next up node from its next revision: no gap, no duplicate, nothing from a node behind until it catches up', () => {
    const f = fakeCluster(COMMANDS);
    f.applyTo('1', 4);
    f.applyTo('2', 2);
    f.applyTo('3', 6);
    const w = new ClusterWatcher(f.port, { prefix: 'x/', fromRevision: 1 }, '1');
    expect(w.sync()).toBe(true);
    expect(w.events.map(eventLine)).toEqual(['rev 1 put x/a=1', 'rev 3 put x/b=2', 'rev 4 delete x/a', 'rev 4 put x/c=3']);
    expect(w.nextRevision).toBe(5);
    f.setUp('1', false);
    w.sync();
    // node 2 has applied revision 2 only: the watcher waits there
    expect(w.node).toBe('2');
    expect(w.events).toHaveLength(4);
    expect(w.nextRevision).toBe(5);
    f.applyTo('2', 6);
    w.sync();
    expect(w.events.map(eventLine).slice(4)).toEqual(['rev 5 put x/a=4', 'rev 6 delete x/a', 'rev 6 delete x/b', 'rev 6 delete x/c']);
    expect(w.entries.filter((e) => e.kind === 'moved').map((e) => (e.kind === 'moved' ? `${e.from ?? '-'}>${e.to}@${e.fromRevision}` : ''))).toEqual(['->1@1', '1>2@5']);
    const log = changeLog(f.port, '3', 'x/', 1);
    expect(typeof log).not.toBe('string');
    expect(w.compare(log as KvEvent[])).toBeNull();
  });

  it('compared with a node behind it, only through the revision that node applied', () => {
    const f = fakeCluster(COMMANDS);
    f.applyTo('1', 6);
    f.applyTo('2', 3);
    const w = new ClusterWatcher(f.port, { prefix: 'x/', fromRevision: 1 }, '1');
    w.sync();
    const behind = changeLog(f.port, '2', 'x/', 1) as KvEvent[];
    expect(appliedRevision(f.port, '2')).toBe(3);
    expect(w.compare(behind, 3)).toBeNull();
    expect(w.compare(behind)).toMatch(/^received 6 event\(s\) more than the change log holds, from rev 4/);
    f.setUp('2', false);
    expect(appliedRevision(f.port, '2')).toBeUndefined();
  });

  it('compare names the first difference, a missing event and an extra one', () => {
    const f = fakeCluster(COMMANDS);
    f.applyTo('1', 6);
    const w = new ClusterWatcher(f.port, { prefix: 'x/', fromRevision: 1 }, '1');
    w.sync();
    const log = changeLog(f.port, '1', 'x/', 1) as KvEvent[];
    expect(w.compare(log)).toBeNull();
    expect(w.compare(log.filter((_, i) => i !== 2))).toMatch(/^event 3: received rev 4 delete x\/a, the change log has rev 4 put x\/c=3/);
    expect(w.compare([...log, { ...(log[0] as KvEvent), revision: 6 }])).toMatch(/^missing 1 event/);
    expect(w.compare(log.slice(0, 5).concat(log.slice(6)))).not.toBeNull();
    expect(w.compare(log.slice(0, -1))).toMatch(/^event 8|more than the change log/);
  });

  it('from revision 0 starts at the next revision; a compaction past it cancels the watch', () => {
    const f = fakeCluster([...COMMANDS, { op: 'put', key: 'x/d', value: 5 }, { op: 'compact', revision: 7 }]);
    f.applyTo('1', 2);
    const w = new ClusterWatcher(f.port, { prefix: 'x/', fromRevision: 0 }, '1');
    w.sync();
    expect(w.startRevision).toBe(3);
    f.applyTo('1', 4);
    w.sync();
    expect(w.events.map((e) => e.revision)).toEqual([3, 4, 4]);
    // node 2 is far behind and compacted (its store applied the compaction) below the watcher's next revision
    f.setUp('1', false);
    f.applyTo('2', 8);
    w.sync();
    expect(w.node).toBe('2');
    expect(w.cancelled).toEqual({ compactRevision: 7 });
    expect(w.sync()).toBe(false);
  });

  it('in a Raft cluster: follows the leader, survives its crash, and matches every node’s change log', () => {
    const c = new RaftCluster({ seed: 7, nodes: 3 });
    const leader = c.waitForLeader() as string;
    const w = new ClusterWatcher(clusterWatchPort(c), { prefix: 'k/', fromRevision: 1, prevKv: true }, leader);
    for (let i = 0; i < 5; i++) c.exec({ op: 'put', key: `k/${i % 2}`, value: i });
    c.runFor(100);
    w.sync();
    expect(w.events).toHaveLength(5);
    expect(w.events[2]?.prevKv?.value).toBe(0);
    c.crash(leader);
    c.waitForLeader();
    for (let i = 5; i < 9; i++) c.exec({ op: 'put', key: `k/${i % 2}`, value: i });
    c.runFor(200);
    w.sync();
    expect(w.node).not.toBe(leader);
    expect(w.events.map((e) => e.kv.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const id of c.nodeIds.filter((n) => c.isUp(n))) expect(w.compare(changeLog(clusterWatchPort(c), id, 'k/', 1, true) as KvEvent[])).toBeNull();
  });

  it('the watch-across-leader-crash scenario passes, and its watcher moved off the crashed leader', () => {
    const scenario = scenarioByName('watch-across-leader-crash');
    expect(scenario).toBeDefined();
    const r = runScenario(scenario as NonNullable<typeof scenario>, 4);
    expect(r.failure).toBeUndefined();
    expect(r.ok).toBe(true);
  });
});
