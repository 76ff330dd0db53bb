// Hostile input to the Multi-Paxos core: malformed messages (wrong shapes, numbers out of range,
// deep nesting, a ballot that belongs to another node, a sender outside the group, slots far
// ahead, a snapshot that is no snapshot) are dropped with a note (annotation `lastBadMessage`)
// and change nothing; random values never make the core throw; a running cluster fed such frames
// keeps serving with every monitor quiet.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CoreEnv, JsonValue } from '../../core/index.js';
import { KvStore, type KvQuery, type KvRequest, type KvResult } from '../../kv/store.js';
import { PaxosCluster } from '../sim/cluster.js';
import { recorder, seeded } from '../test/fx.js';
import { MultiPaxosCore } from './core.js';
import { parsePaxosMessage } from './messages.js';
import { resolvePaxosOptions } from './spec.js';
import type { PaxosMessage, PaxosPersistOp, PaxosResponse } from './types.js';

type Core = MultiPaxosCore<KvRequest, KvQuery, KvResult>;
const b = (round: number, node: string) => ({ round, node });

function core(id = '1'): Core {
  const env: CoreEnv = { id, members: ['1', '2', '3'], now: () => 0, random: seeded(3) };
  return new MultiPaxosCore(env, [], resolvePaxosOptions({}), new KvStore());
}

const deep = JSON.parse('['.repeat(100) + ']'.repeat(100)) as JsonValue;

/** [sender, frame] pairs no correct peer sends. */
const HOSTILE: [string, unknown][] = [
  ['2', null],
  ['2', 'prepare'],
  ['2', 42],
  ['2', [{ type: 'prepare' }]],
  ['2', {}],
  ['2', { type: 'prepare' }],
  ['2', { type: 'prepare', ballot: b(1, '2') }],
  ['2', { type: 'prepare', ballot: b(1, '2'), fromSlot: -1 }],
  ['2', { type: 'prepare', ballot: b(1, '3'), fromSlot: 0 }],
  ['2', { type: 'prepare', ballot: { round: 1.5, node: '2' }, fromSlot: 0 }],
  ['2', { type: 'prepare', ballot: { round: 2 ** 60, node: '2' }, fromSlot: 0 }],
  ['2', { type: 'accept', ballot: b(1, '2'), entries: [{ slot: 0, value: { kind: 'noop' } }], decided: [] }],
  ['2', { type: 'accept', ballot: b(1, '2'), entries: [{ slot: 1, value: { kind: 'drop-table' } }], decided: [] }],
  ['2', { type: 'accept', ballot: b(1, '2'), entries: [{ slot: 1, value: { kind: 'command', clientId: 7, seq: 1, op: null } }], decided: [] }],
  ['2', { type: 'accept', ballot: b(1, '2'), entries: [{ slot: 1, value: { kind: 'command', clientId: 'c', seq: 1, op: deep } }], decided: [] }],
  ['2', { type: 'accept', ballot: b(1, '2'), entries: 'all', decided: [] }],
  ['2', { type: 'accept', ballot: b(1, '2'), entries: [], decided: [{ from: 5, to: 2, ballot: b(1, '2') }] }],
  ['2', { type: 'accept', ballot: b(1, '2'), entries: [{ slot: 2 ** 40, value: { kind: 'noop' } }], decided: [] }],
  ['2', { type: 'accept', ballot: b(1, '2'), entries: Array.from({ length: 100_001 }, (_, i) => ({ slot: i + 1, value: { kind: 'noop' } })), decided: [] }],
  ['2', { type: 'heartbeat', ballot: b(1, '2'), round: 'one', decided: [] }],
  ['2', { type: 'heartbeat', ballot: b(1, '2'), round: 1, decided: Array.from({ length: 2000 }, () => ({ from: 1, to: 1, ballot: b(1, '2') })) }],
  ['2', { type: 'promise', ballot: b(1, '1'), snapshotSlot: 0, known: 0, accepted: [{ slot: 1, ballot: b(0, ''), value: { kind: 'noop' } }] }],
  ['2', { type: 'accepted', ballot: b(1, '1'), slots: [1], known: -2, snapshotSlot: 0, need: [] }],
  ['2', { type: 'heartbeatResp', ballot: b(1, '1'), round: 1, known: 0, snapshotSlot: 0, need: [0] }],
  ['2', { type: 'reject', ballot: b(1, '1'), promised: 'infinity' }],
  ['2', { type: 'values', entries: [{ slot: 1, value: { kind: 'noop' } }] }],
  ['2', { type: 'snapshot', slot: 5, data: { machine: 'garbage', sessions: [] } }],
  ['2', { type: 'snapshot', slot: 5, data: 'not a snapshot' }],
  ['2', { type: 'snapshot', slot: 0, data: {} }],
  ['2', { type: 'elect-me', ballot: b(99, '2') }],
  ['9', { type: 'prepare', ballot: b(1, '9'), fromSlot: 0 }],
  ['1', { type: 'prepare', ballot: b(1, '1'), fromSlot: 0 }],
];

describe('Multi-Paxos hostile input', () => {
  it('drops each malformed frame with a note, writes and sends nothing, and keeps its state', () => {
    const c = core('1');
    for (const [from, msg] of HOSTILE) {
      const r = recorder<PaxosMessage, PaxosPersistOp, PaxosResponse>();
      expect(() => c.handleMessage(from, msg as PaxosMessage, r.fx)).not.toThrow();
      expect(r.notes.get('lastBadMessage'), JSON.stringify(msg)?.slice(0, 80)).toEqual(expect.stringMatching(new RegExp(`^${from}: `)));
      expect(r.persists, JSON.stringify(msg)?.slice(0, 80)).toEqual([]);
      expect(r.sends, JSON.stringify(msg)?.slice(0, 80)).toEqual([]);
    }
    expect(c.badMessages).toBe(HOSTILE.length);
    expect(c.status()).toMatchObject({ role: 'follower', promised: b(0, ''), known: 0, applied: 0, snapshotSlot: 0 });
    // and it still works: a well-formed prepare is promised
    const r = recorder<PaxosMessage, PaxosPersistOp, PaxosResponse>();
    c.handleMessage('2', { type: 'prepare', ballot: b(1, '2'), fromSlot: 0 }, r.fx);
    expect(r.sends[0]?.msg).toMatchObject({ type: 'promise', ballot: b(1, '2') });
  });

  it('never throws on arbitrary values as messages, and accepts nothing malformed (property)', () => {
    const types = fc.constantFrom('prepare', 'promise', 'accept', 'accepted', 'reject', 'heartbeat', 'heartbeatResp', 'values', 'snapshotReq', 'snapshot');
    const frame = fc.oneof(fc.anything(), fc.record({ type: types, ballot: fc.anything(), entries: fc.anything(), decided: fc.anything(), slots: fc.anything(), need: fc.anything(), known: fc.anything(), round: fc.anything() }, { requiredKeys: ['type'] }));
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 20 }), (frames) => {
        const c = core('1');
        for (const f of frames) {
          const r = recorder<PaxosMessage, PaxosPersistOp, PaxosResponse>();
          c.handleMessage('2', f as PaxosMessage, r.fx);
          // what the parser refuses changes nothing
          if ('problem' in parsePaxosMessage('2', f)) expect(r.persists).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a running cluster fed hostile frames keeps serving, with every monitor quiet', () => {
    const cluster = new PaxosCluster({ seed: 5, nodes: 3 });
    const leader = cluster.waitForLeader(3000);
    expect(leader).toBeDefined();
    const notes: string[] = [];
    const fx = { send: () => undefined, persist: () => undefined, reply: () => undefined, annotate: (k: string, v: unknown) => void notes.push(`${k}=${String(v)}`) };
    let malformed = 0;
    for (const id of cluster.nodeIds) {
      const from = cluster.nodeIds.find((n) => n !== id) as string;
      for (const [, msg] of HOSTILE.filter(([sender]) => sender === '2')) {
        if ('problem' in parsePaxosMessage(from, msg)) malformed++;
        cluster.core(id)?.handleMessage(from, msg as PaxosMessage, fx);
      }
    }
    // every malformed frame is noted (some well-formed ones too: a slot far ahead, a snapshot that does not restore)
    expect(malformed).toBeGreaterThan(60);
    expect(notes.filter((n) => n.startsWith('lastBadMessage')).length).toBeGreaterThanOrEqual(malformed);
    for (let i = 0; i < 5; i++) expect(cluster.exec({ op: 'put', key: `k${i}`, value: i }).outcome).toBe('ok');
    expect(cluster.exec({ op: 'get', key: 'k4' }).result).toMatchObject({ value: 4 });
    expect(cluster.settle(3000)).toBeDefined();
    expect(cluster.violations()).toEqual([]);
    expect(cluster.checkLinearizability().verdict).toBe('linearizable');
  });
});
