// Unit tests of the Raft core driven by hand: each test builds cores from durable ops, feeds
// them exact messages and ticks, and inspects what they persist, send and answer. This is where
// the rules that random runs rarely reach are pinned down (Figure 8, hints, persistence order).
import { describe, expect, it } from 'vitest';
import type { Effects, NodeId, OutputOptions } from '../core/index.js';
import type { JsonValue } from '../core/index.js';
import { KvStore } from '../kv/store.js';
import { RaftCore } from './core.js';
import { InvariantError } from '../core/index.js';
import { resolveRaftOptions } from './spec.js';
import type { LogEntry, RaftMessage, RaftOptions, RaftPersistOp, RaftRequest, RaftResponse } from './types.js';

/** `early`: the core let the output leave before its unsynced writes are durable. */
type Event =
  | { kind: 'send'; to: NodeId; msg: RaftMessage; early: boolean }
  | { kind: 'persist'; op: RaftPersistOp }
  | { kind: 'reply'; requestId: string; response: RaftResponse; early: boolean };

class Recorder implements Effects<RaftMessage, RaftPersistOp, RaftResponse> {
  events: Event[] = [];
  send(to: NodeId, msg: RaftMessage, options?: OutputOptions): void {
    this.events.push({ kind: 'send', to, msg, early: options?.awaitPersist === false });
  }
  persist(op: RaftPersistOp): void {
    this.events.push({ kind: 'persist', op });
  }
  reply(requestId: string, response: RaftResponse, options?: OutputOptions): void {
    this.events.push({ kind: 'reply', requestId, response, early: options?.awaitPersist === false });
  }
  annotate(): void {}
  take(): Event[] {
    const out = this.events;
    this.events = [];
    return out;
  }
}

const MEMBERS5 = ['1', '2', '3', '4', '5'];

class Node {
  readonly fx = new Recorder();
  readonly core: RaftCore;
  readonly durable: RaftPersistOp[] = [];
  /** Deliver messages the node sends to itself right away (set false to hold them). */
  loopback = true;
  constructor(
    readonly id: NodeId,
    durable: readonly RaftPersistOp[] = [],
    options: Partial<RaftOptions> = {},
    readonly members: readonly NodeId[] = MEMBERS5,
  ) {
    const opts = resolveRaftOptions({ preVote: false, checkQuorum: false, ...options });
    this.core = new RaftCore({ id, members, now: () => 0, random: () => 0 }, durable, opts, new KvStore());
    this.durable.push(...durable);
    this.core.start(this.fx);
    this.collect();
  }
  /** Takes what the core emitted; messages it sent to itself (durability probes) are delivered at once. */
  private collect(): Event[] {
    const out: Event[] = [];
    for (let round = 0; round < 100; round++) {
      const events = this.fx.take();
      if (events.length === 0) break;
      for (const e of events) if (e.kind === 'persist') this.durable.push(e.op);
      out.push(...events);
      if (!this.loopback) break;
      for (const e of events) if (e.kind === 'send' && e.to === this.id) this.core.handleMessage(this.id, e.msg, this.fx);
    }
    return out;
  }
  deliver(from: NodeId, msg: RaftMessage): Event[] {
    this.core.handleMessage(from, msg, this.fx);
    return this.collect();
  }
  tick(n = 1): Event[] {
    const out: Event[] = [];
    for (let i = 0; i < n; i++) {
      this.core.handleTick(this.fx);
      out.push(...this.collect());
    }
    return out;
  }
  request(req: RaftRequest, id = 'r'): Event[] {
    this.core.handleRequest(id, req, this.fx);
    return this.collect();
  }
  get status() {
    return this.core.status();
  }
}

const sends = (events: Event[], type?: RaftMessage['type']) =>
  events.flatMap((e) => (e.kind === 'send' && (type === undefined || e.msg.type === type) ? [e] : []));
const replies = (events: Event[]) => events.flatMap((e) => (e.kind === 'reply' ? [e.response] : []));

function entry(index: number, term: number, data: JsonValue = { clientId: null, seq: 0, op: { op: 'put', key: `k${index}`, value: index } }): LogEntry {
  return { index, term, kind: 'command', data };
}

/** Durable state of a node that holds `terms[i]` at index i + 1 and has seen `term`. */
function stored(terms: readonly number[], term: number, commit = 0, vote: NodeId | null = null): RaftPersistOp[] {
  return [
    { kind: 'entries', entries: terms.map((t, i) => entry(i + 1, t)) },
    { kind: 'hardState', state: { term, vote, commit } },
  ];
}

/** Ticks a node (min election timeout, random() = 0) into a candidate and gives it `voters` votes. */
function elect(node: Node, voters: readonly NodeId[]): Event[] {
  node.tick(resolveRaftOptions().electionTimeoutMinTicks);
  expect(node.status.role).toBe('candidate');
  const out: Event[] = [];
  for (const v of voters) out.push(...node.deliver(v, { type: 'voteResp', term: node.status.term, granted: true }));
  expect(node.status.role).toBe('leader');
  return out;
}

const success = (term: number, matchIndex: number): RaftMessage => ({ type: 'appendResp', term, success: true, matchIndex, rejectedIndex: 0, conflictTerm: null, conflictIndex: 0 });

describe('a leader writes its log in parallel with replication (thesis §10.2.1)', () => {
  it('sends appends without waiting for its own sync, and counts itself towards a quorum only once a probe proves its log durable', () => {
    const l = new Node('1', [], {}, ['1', '2', '3']);
    l.loopback = false;
    const out = elect(l, ['2']);
    // the vote of node 2 answered a request sent after the term was stored: the term is durable
    expect(sends(out, 'append').map((s) => [s.to, s.early])).toEqual([['2', true], ['3', true]]);
    // neither follower replicates yet, so the leader asks itself when its no-op is synced
    const probe = sends(out, 'syncProbe')[0];
    expect(probe).toMatchObject({ to: '1', early: false });
    // node 2 stored the no-op, but its answer says nothing about the leader's own disk
    l.deliver('2', success(1, 1));
    expect(l.status.commit).toBe(0);
    l.deliver('1', probe?.msg as RaftMessage);
    expect(l.status.commit).toBe(1);
  });

  it('commits with the followers alone while its own sync is pending: an early reply, no write just for the commit index', () => {
    const l = new Node('1', [], {}, ['1', '2', '3']);
    l.loopback = false; // the leader's probes stay unanswered: its own writes never prove durable
    elect(l, ['2']);
    l.deliver('2', success(1, 1));
    l.deliver('3', success(1, 1));
    const proposed = l.request({ type: 'command', clientId: null, seq: 0, op: { op: 'put', key: 'k', value: 1 } }, 'q1');
    expect(sends(proposed, 'append').map((s) => [s.to, s.early])).toEqual([['2', true], ['3', true]]);
    expect(l.deliver('2', success(1, 2)).filter((e) => e.kind === 'reply')).toEqual([]);
    const committed = l.deliver('3', success(1, 2));
    expect(l.status.commit).toBe(2);
    expect(committed.filter((e) => e.kind === 'reply')).toEqual([{ kind: 'reply', requestId: 'q1', response: { ok: true, result: expect.anything(), index: 2 }, early: true }]);
    // the commit index is volatile: advancing it alone writes nothing
    expect(committed.filter((e) => e.kind === 'persist')).toEqual([]);
  });

  it('heartbeats and their answers do not queue behind writes, and such an answer proves nothing about the leader\'s disk', () => {
    const l = new Node('1', [], {}, ['1', '2', '3']);
    l.loopback = false;
    elect(l, ['2']);
    const beats = sends(l.tick(resolveRaftOptions().heartbeatTicks), 'heartbeat');
    expect(beats.map((s) => [s.to, s.early])).toEqual([['2', true], ['3', true]]);
    const round = (beats[0]?.msg as Extract<RaftMessage, { type: 'heartbeat' }>).round;
    l.deliver('2', { type: 'heartbeatResp', term: 1, round });
    l.deliver('3', { type: 'heartbeatResp', term: 1, round });
    expect(l.status.commit).toBe(0); // the no-op is not known durable anywhere
    const f = new Node('2', [], {}, ['1', '2', '3']);
    const answer = f.deliver('1', { type: 'heartbeat', term: 1, commit: 0, round: 1 });
    // it adopted term 1 (a write), yet acknowledges at once: the ack only says it saw no higher term
    expect(answer.filter((e) => e.kind === 'persist')).toHaveLength(1);
    expect(sends(answer, 'heartbeatResp')[0]?.early).toBe(true);
  });

  it('a follower answers an append only after its write: its answer never goes early', () => {
    const f = new Node('2', [], {}, ['1', '2', '3']);
    const out = f.deliver('1', { type: 'append', term: 1, prevIndex: 0, prevTerm: 0, entries: [entry(1, 1)], commit: 0 });
    expect(out.map((e) => e.kind)).toEqual(['persist', 'persist', 'send']);
    expect(sends(out, 'appendResp')[0]?.early).toBe(false);
  });
});

describe('commitment (Figure 8)', () => {
  it('a leader does not commit an entry of an earlier term by counting replicas, only through one of its own term', () => {
    // S1 holds index 2 from term 2; it becomes leader of term 4 and appends its no-op at 3.
    const s1 = new Node('1', stored([1, 2], 3, 1));
    elect(s1, ['2', '3']);
    expect(s1.status.term).toBe(4);
    expect(s1.core.entryAt(3)?.kind).toBe('noop');
    // Index 2 (term 2) reaches a majority: S1, S2, S3. It must not be committed yet.
    s1.deliver('2', success(4, 2));
    s1.deliver('3', success(4, 2));
    expect(s1.status.commit).toBe(1);
    // Once the term-4 no-op is on a majority, both commit.
    s1.deliver('2', success(4, 3));
    expect(s1.status.commit).toBe(1);
    s1.deliver('3', success(4, 3));
    expect(s1.status.commit).toBe(3);
  });

  it('the commit index never decreases, even when a heartbeat carries a lower one', () => {
    const f = new Node('2', stored([1, 1, 1], 1, 3));
    f.deliver('1', { type: 'heartbeat', term: 1, commit: 1, round: 1 });
    expect(f.status.commit).toBe(3);
  });
});

describe('elections', () => {
  it('persists its vote in the same call that grants it', () => {
    const f = new Node('2');
    const events = f.deliver('1', { type: 'vote', term: 1, lastIndex: 0, lastTerm: 0, transfer: false });
    const persistAt = events.findIndex((e) => e.kind === 'persist' && e.op.kind === 'hardState' && e.op.state.vote === '1' && e.op.state.term === 1);
    expect(persistAt).toBeGreaterThanOrEqual(0);
    expect(sends(events, 'voteResp')[0]?.msg).toMatchObject({ granted: true, term: 1 });
    // after a restart the vote is still there: a second candidate of term 1 is refused
    const again = new Node('2', f.durable);
    expect(sends(again.deliver('3', { type: 'vote', term: 1, lastIndex: 5, lastTerm: 1, transfer: false }), 'voteResp')[0]?.msg).toMatchObject({ granted: false });
  });

  it('grants votes only to candidates whose log is at least as up to date (election restriction)', () => {
    const ask = (lastIndex: number, lastTerm: number) => {
      const f = new Node('2', stored([1, 2, 3], 3));
      return (sends(f.deliver('1', { type: 'vote', term: 4, lastIndex, lastTerm, transfer: false }), 'voteResp')[0]?.msg as { granted: boolean }).granted;
    };
    expect(ask(10, 2)).toBe(false); // longer but older last term
    expect(ask(2, 3)).toBe(false); // same last term, shorter
    expect(ask(3, 3)).toBe(true);
    expect(ask(1, 4)).toBe(true); // newer last term wins regardless of length
  });

  it('a node that sees two leaders in one term fails loudly', () => {
    const f = new Node('3');
    f.deliver('1', { type: 'heartbeat', term: 2, commit: 0, round: 1 });
    expect(() => f.deliver('2', { type: 'heartbeat', term: 2, commit: 0, round: 1 })).toThrow(InvariantError);
  });

  it('pre-vote: a pre-candidate does not raise its term, and nodes in touch with a leader refuse it', () => {
    const p = new Node('1', [], { preVote: true });
    const out = p.tick(10);
    expect(p.status.role).toBe('precandidate');
    expect(p.status.term).toBe(0);
    expect(sends(out, 'preVote')[0]?.msg).toMatchObject({ term: 1 });
    const f = new Node('2', [], { preVote: true });
    f.deliver('3', { type: 'heartbeat', term: 1, commit: 0, round: 1 });
    const answer = sends(f.deliver('1', { type: 'preVote', term: 2, lastIndex: 0, lastTerm: 0 }), 'preVoteResp')[0]?.msg;
    expect(answer).toMatchObject({ granted: false, term: 1 });
    expect(f.status.term).toBe(1);
  });

  it('check-quorum: a leader that hears from no quorum for an election timeout steps down', () => {
    const l = new Node('1', [], { checkQuorum: true });
    elect(l, ['2', '3']);
    l.tick(25);
    expect(l.status.role).toBe('follower');
  });

  it('check-quorum: a follower in touch with its leader ignores a disruptive candidate entirely', () => {
    const f = new Node('2', [], { checkQuorum: true });
    f.deliver('1', { type: 'heartbeat', term: 1, commit: 0, round: 1 });
    expect(f.deliver('5', { type: 'vote', term: 9, lastIndex: 9, lastTerm: 9, transfer: false })).toEqual([]);
    expect(f.status.term).toBe(1);
    // but a campaign the leader asked for (leadership transfer) is heard
    f.deliver('3', { type: 'vote', term: 2, lastIndex: 0, lastTerm: 0, transfer: true });
    expect(f.status).toMatchObject({ term: 2, vote: '3' });
  });
});

describe('replication', () => {
  it('rejects a mismatching append with a conflict term and the first index of that term', () => {
    const f = new Node('2', stored([1, 1, 2, 2, 2, 3, 3], 3));
    const reject = (prevIndex: number, prevTerm: number) =>
      sends(f.deliver('1', { type: 'append', term: 4, prevIndex, prevTerm, entries: [], commit: 0 }), 'appendResp')[0]?.msg;
    expect(reject(7, 4)).toMatchObject({ success: false, rejectedIndex: 7, conflictTerm: 3, conflictIndex: 6 });
    expect(reject(5, 4)).toMatchObject({ success: false, conflictTerm: 2, conflictIndex: 3 });
    expect(reject(10, 4)).toMatchObject({ success: false, conflictTerm: null, conflictIndex: 8 });
  });

  it('the leader skips a whole conflicting term using the hint', () => {
    const l = new Node('1', stored([1, 1, 4, 4, 4], 4, 2));
    elect(l, ['3', '4']);
    const next = (events: Event[]) => sends(events, 'append').find((s) => s.to === '2')?.msg as Extract<RaftMessage, { type: 'append' }>;
    // follower 2 has terms [1,1,2,2,2,2,...]: rejects at 5 with conflict term 2 starting at 3
    const retry = next(l.deliver('2', { type: 'appendResp', term: 5, success: false, matchIndex: 0, rejectedIndex: 5, conflictTerm: 2, conflictIndex: 3 }));
    expect(retry.prevIndex).toBe(2);
    expect(retry.entries.map((e) => e.index)).toEqual([3, 4, 5, 6]);
  });

  it('overwrites a conflicting uncommitted suffix, persisting the replacement from the first changed index', () => {
    const f = new Node('2', stored([1, 1, 2, 2], 2, 2));
    const events = f.deliver('1', { type: 'append', term: 3, prevIndex: 2, prevTerm: 1, entries: [entry(3, 3), entry(4, 3), entry(5, 3)], commit: 4 });
    expect(f.core.entries().map((e) => e.term)).toEqual([1, 1, 3, 3, 3]);
    const written = events.flatMap((e) => (e.kind === 'persist' && e.op.kind === 'entries' ? e.op.entries.map((x) => x.index) : []));
    expect(written).toEqual([3, 4, 5]);
    expect(f.status.commit).toBe(4);
    expect(sends(events, 'appendResp')[0]?.msg).toMatchObject({ success: true, matchIndex: 5 });
  });

  it('refuses to overwrite a committed entry', () => {
    const f = new Node('2', stored([1, 1, 2], 2, 3));
    expect(() => f.deliver('1', { type: 'append', term: 3, prevIndex: 2, prevTerm: 1, entries: [entry(3, 3)], commit: 3 })).toThrow(/committed index 3/);
  });

  it('log matching: a different entry with the same index and term is an invariant violation', () => {
    const f = new Node('2', stored([1, 1], 1, 0));
    expect(() => f.deliver('1', { type: 'append', term: 1, prevIndex: 1, prevTerm: 1, entries: [entry(2, 1, { clientId: null, seq: 0, op: { op: 'put', key: 'x', value: 'other' } })], commit: 0 })).toThrow(/log matching/);
  });

  it('batches many entries per append within the count bound and pipelines a bounded number in flight', () => {
    const l = new Node('1', [], { maxEntriesPerAppend: 4, maxInflightAppends: 2 }, ['1', '2', '3']);
    elect(l, ['2']);
    l.deliver('2', success(1, 1));
    const out: Event[] = [];
    for (let i = 0; i < 20; i++) out.push(...l.request({ type: 'command', clientId: 'c', seq: i + 1, op: { op: 'put', key: 'k', value: i } }, `q${i}`));
    const toTwo = sends(out, 'append').filter((s) => s.to === '2').map((s) => (s.msg as Extract<RaftMessage, { type: 'append' }>).entries.length);
    expect(toTwo.length).toBe(2);
    expect(Math.max(...toTwo)).toBeLessThanOrEqual(4);
    // an acknowledgement frees a slot and the next batch goes out full
    const more = sends(l.deliver('2', success(1, 2)), 'append');
    expect(more.map((s) => (s.msg as Extract<RaftMessage, { type: 'append' }>).entries.length)).toEqual([4]);
  });
});

describe('snapshots', () => {
  it('the bootstrap members snapshot at staggered points of each interval, not all at once', () => {
    const members = ['1', '2', '3'];
    const firstSnapshotAt = members.map((id) => {
      const n = new Node(id, [], { snapshotThresholdEntries: 30 }, members);
      const entries = Array.from({ length: 60 }, (_, i) => entry(i + 1, 1));
      n.deliver('9', { type: 'append', term: 1, prevIndex: 0, prevTerm: 0, entries, commit: 0 });
      for (let c = 1; c <= 60; c++) {
        n.deliver('9', { type: 'heartbeat', term: 1, commit: c, round: c });
        if (n.status.snapshotIndex > 0) return n.status.snapshotIndex;
      }
      return 0;
    });
    expect(firstSnapshotAt).toEqual([30, 20, 15]);
  });

  it('keeps snapshotCatchUpEntries before a snapshot: a follower a little behind gets entries, not the whole state', () => {
    const whatFollowerThreeGets = (catchUp: number): { snapshotIndex: number; kinds: string[]; durable: RaftPersistOp[]; lastIndex: number } => {
      const l = new Node('1', [], { snapshotThresholdEntries: 10, snapshotCatchUpEntries: catchUp, maxInflightAppends: 64, retransmitTicks: 2 }, ['1', '2', '3']);
      elect(l, ['2']);
      l.deliver('2', success(1, 1));
      l.deliver('3', success(1, 1));
      for (let i = 0; i < 14; i++) l.request({ type: 'command', clientId: 'c', seq: i + 1, op: { op: 'put', key: `k${i}`, value: i } }, `q${i}`);
      l.deliver('3', success(1, 5)); // 3 has the first five entries
      l.deliver('2', success(1, 15)); // 2 has all: they commit and the leader snapshots past 3's position
      const snapshotIndex = l.status.snapshotIndex;
      // 3 makes no progress: the leader resends from what 3 acknowledged
      const kinds = sends(l.tick(4), undefined)
        .filter((s) => s.to === '3' && s.msg.type !== 'heartbeat')
        .map((s) => (s.msg.type === 'append' ? `append from ${s.msg.prevIndex + 1}` : s.msg.type));
      return { snapshotIndex, kinds, durable: l.durable, lastIndex: l.status.lastIndex };
    };
    const without = whatFollowerThreeGets(0);
    expect(without.snapshotIndex).toBeGreaterThan(5);
    expect(without.kinds[0]).toBe('snapshot');
    const withTail = whatFollowerThreeGets(10);
    expect(withTail.snapshotIndex).toBe(without.snapshotIndex);
    expect(withTail.kinds[0]).toBe('append from 6');
    // on disk the snapshot still replaces everything up to its index: a restart holds no tail
    const snapshotOp = withTail.durable.filter((op) => op.kind === 'snapshot').pop();
    expect(snapshotOp?.kind === 'snapshot' && snapshotOp.entriesAfter.every((e) => e.index > withTail.snapshotIndex)).toBe(true);
    const restarted = new Node('1', withTail.durable, {}, ['1', '2', '3']);
    expect(restarted.status).toMatchObject({ snapshotIndex: withTail.snapshotIndex, lastIndex: withTail.lastIndex });
  });
});

describe('persistence and restart', () => {
  it('rebuilds term, vote, log and applied state from its durable ops', () => {
    const l = new Node('1', [], {}, ['1']);
    l.tick(10);
    expect(l.status.role).toBe('leader');
    for (let i = 1; i <= 5; i++) l.request({ type: 'command', clientId: 'c', seq: i, op: { op: 'incr', key: 'n' } }, `q${i}`);
    expect(l.status.commit).toBe(6);
    const restarted = new Node('1', l.durable, {}, ['1']);
    // the commit index is volatile state: it is written only along with other writes, so the
    // last advance (to 6, which wrote nothing else) is learnt again once the node leads
    expect(restarted.status).toMatchObject({ term: 1, vote: '1', commit: 5, applied: 5, lastIndex: 6 });
    expect(restarted.core.queryLocal({ op: 'get', key: 'n' })).toMatchObject({ value: 4 });
    restarted.tick(20);
    expect(restarted.status).toMatchObject({ role: 'leader', term: 2, commit: 7, applied: 7 });
    expect(restarted.core.queryLocal({ op: 'get', key: 'n' })).toMatchObject({ value: 5 });
  });

  it('restarts from a snapshot plus the entries after it', () => {
    const l = new Node('1', [], { snapshotThresholdEntries: 4 }, ['1']);
    l.tick(10);
    for (let i = 1; i <= 9; i++) l.request({ type: 'command', clientId: 'c', seq: i, op: { op: 'incr', key: 'n' } }, `q${i}`);
    expect(l.status.snapshotIndex).toBe(8);
    const lastSnapshot = l.durable.map((op, i) => [op, i] as const).filter(([op]) => op.kind === 'snapshot').pop() as readonly [RaftPersistOp, number];
    const restarted = new Node('1', l.durable.slice(lastSnapshot[1]), {}, ['1']);
    expect(restarted.status).toMatchObject({ snapshotIndex: 8, commit: 9, applied: 9, lastIndex: 10 });
    expect(restarted.core.queryLocal({ op: 'get', key: 'n' })).toMatchObject({ value: 8 });
    restarted.tick(20);
    expect(restarted.status).toMatchObject({ role: 'leader', commit: 11, applied: 11 });
    expect(restarted.core.queryLocal({ op: 'get', key: 'n' })).toMatchObject({ value: 9 });
  });

  it('a retried command (same client and seq) applies once and gets the first result', () => {
    const l = new Node('1', [], {}, ['1']);
    l.tick(10);
    const first = replies(l.request({ type: 'command', clientId: 'c', seq: 1, op: { op: 'incr', key: 'n' } }, 'a'));
    const again = replies(l.request({ type: 'command', clientId: 'c', seq: 1, op: { op: 'incr', key: 'n' } }, 'b'));
    expect(first[0]).toMatchObject({ ok: true, result: { value: 1 } });
    expect(again[0]).toMatchObject({ ok: true, result: { value: 1 } });
    expect(l.core.queryLocal({ op: 'get', key: 'n' })).toMatchObject({ value: 1 });
    expect(replies(l.request({ type: 'command', clientId: 'c', seq: 0, op: { op: 'incr', key: 'n' } }, 'c'))[0]).toMatchObject({ ok: false, error: 'stale-session' });
  });

  it('rejects stored state that contradicts itself', () => {
    expect(() => new Node('1', [{ kind: 'hardState', state: { term: 1, vote: null, commit: 3 } }])).toThrow(/BAD_DURABLE_STATE|outside the stored log/);
  });
});

describe('durability and membership corner cases (found by chaos runs)', () => {
  it('a leader that is the only voter commits its own entries only once a probe proves them durable (chaos seed 1012, 3 nodes)', () => {
    const l = new Node('1', [], {}, ['1']);
    l.loopback = false;
    const events = l.tick(10);
    expect(l.status.role).toBe('leader');
    // Until its writes are synced the leader cannot know they survive a crash: nothing commits yet.
    expect(l.status.commit).toBe(0);
    const probe = sends(events, 'syncProbe')[0];
    expect(probe?.to).toBe('1');
    l.deliver('1', probe?.msg as RaftMessage);
    expect(l.status.commit).toBe(1);
  });

  it('a node whose own removal is still uncommitted may campaign, counting only the new voters (chaos seed 1085, 3 nodes)', () => {
    // Node 2 led {2,3}, appended "voters {3}" and was cut off before 3 got it: 3 needs 2's vote,
    // and 2 is no voter of its latest configuration. It must still be able to run.
    const removal: LogEntry = { index: 2, term: 1, kind: 'config', data: { voters: ['3'], learners: [] } };
    const durable: RaftPersistOp[] = [
      { kind: 'entries', entries: [entry(1, 1), removal] },
      { kind: 'hardState', state: { term: 1, vote: '2', commit: 1 } },
    ];
    const n2 = new Node('2', durable, {}, ['2', '3']);
    const out = n2.tick(10);
    expect(n2.status.role).toBe('candidate');
    expect(sends(out, 'vote').map((s) => s.to)).toEqual(['3']);
    n2.deliver('3', { type: 'voteResp', term: 2, granted: true });
    expect(n2.status.role).toBe('leader');
    // once the removal commits (3 acknowledges the leader's no-op), it steps down for good
    n2.deliver('3', success(2, 3));
    expect(n2.status).toMatchObject({ role: 'follower', commit: 3 });
    n2.tick(50);
    expect(n2.status.role).toBe('follower');
  });
});

describe('client protocol', () => {
  it('followers answer not-leader with a hint; malformed requests are refused', () => {
    const f = new Node('2');
    f.deliver('1', { type: 'heartbeat', term: 1, commit: 0, round: 1 });
    expect(replies(f.request({ type: 'command', clientId: 'c', seq: 1, op: { op: 'put', key: 'a', value: 1 } }))[0]).toMatchObject({ ok: false, error: 'not-leader', leaderHint: '1' });
    expect(replies(f.request({ type: 'bogus' } as unknown as RaftRequest))[0]).toMatchObject({ ok: false, error: 'bad-request' });
    const l = new Node('1', [], {}, ['1']);
    l.tick(10);
    expect(replies(l.request({ type: 'command', clientId: 'c', seq: 1, op: { op: 'frobnicate' } }))[0]).toMatchObject({ ok: false, error: 'bad-request' });
    expect(replies(l.request({ type: 'read', op: { op: 'put', key: 'a', value: 1 } }))[0]).toMatchObject({ ok: false, error: 'bad-request' });
  });

  it('ReadIndex: a read waits for a quorum to confirm leadership and writes nothing', () => {
    const l = new Node('1', [], {}, ['1', '2', '3']);
    elect(l, ['2']);
    l.deliver('2', success(1, 1));
    expect(l.status.commit).toBe(1);
    const events = l.request({ type: 'read', op: { op: 'get', key: 'a' } }, 'read');
    expect(events.filter((e) => e.kind === 'persist')).toEqual([]);
    const round = (sends(events, 'heartbeat')[0]?.msg as { round: number }).round;
    expect(replies(events)).toEqual([]);
    expect(replies(l.deliver('2', { type: 'heartbeatResp', term: 1, round }))).toEqual([{ ok: true, result: { revision: 0, value: null, version: 0, createRevision: 0, modRevision: 0 }, index: 1 }]);
  });

  it('ReadIndex: reads arriving while a round is in flight share the next round, never the earlier one', () => {
    const l = new Node('1', [], {}, ['1', '2', '3']);
    elect(l, ['2']);
    l.deliver('2', success(1, 1));
    const roundOf = (events: Event[]): number | undefined => (sends(events, 'heartbeat')[0]?.msg as { round: number } | undefined)?.round;
    const first = roundOf(l.request({ type: 'read', op: { op: 'get', key: 'a' } }, 'r1'));
    expect(first).toBeDefined();
    // two more reads while that round is in flight: no heartbeats of their own
    expect(sends(l.request({ type: 'read', op: { op: 'get', key: 'a' } }, 'r2'), 'heartbeat')).toEqual([]);
    expect(sends(l.request({ type: 'read', op: { op: 'get', key: 'a' } }, 'r3'), 'heartbeat')).toEqual([]);
    // the first round confirms only the read that came before it, and starts the next round for the others
    const acked = l.deliver('2', { type: 'heartbeatResp', term: 1, round: first ?? 0 });
    expect(acked.flatMap((e) => (e.kind === 'reply' ? [e.requestId] : []))).toEqual(['r1']);
    const second = roundOf(acked);
    expect(second).toBeGreaterThan(first ?? 0);
    expect(sends(acked, 'heartbeat').map((s) => s.to).sort()).toEqual(['2', '3']);
    const served = l.deliver('3', { type: 'heartbeatResp', term: 1, round: second ?? 0 });
    expect(served.flatMap((e) => (e.kind === 'reply' ? [e.requestId] : []))).toEqual(['r2', 'r3']);
    expect(sends(served, 'heartbeat')).toEqual([]); // nobody waits: no further round
  });

  it('ReadIndex: a read waiting for the next round gets the periodic heartbeat when the round in flight is lost', () => {
    const l = new Node('1', [], {}, ['1', '2', '3']);
    elect(l, ['2']);
    l.deliver('2', success(1, 1));
    expect(sends(l.request({ type: 'read', op: { op: 'get', key: 'a' } }, 'r1'), 'heartbeat')).toHaveLength(2); // never answered
    expect(sends(l.request({ type: 'read', op: { op: 'get', key: 'a' } }, 'r2'), 'heartbeat')).toEqual([]);
    const beats = sends(l.tick(resolveRaftOptions().heartbeatTicks), 'heartbeat');
    const round = (beats[0]?.msg as { round: number }).round;
    const served = l.deliver('3', { type: 'heartbeatResp', term: 1, round });
    expect(served.flatMap((e) => (e.kind === 'reply' ? [e.requestId] : []))).toEqual(['r1', 'r2']);
  });
});
