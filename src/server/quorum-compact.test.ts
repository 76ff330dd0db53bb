import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QuorumPersistOp } from '../quorum/index.js';
import { compactQuorumOps, decodeQuorumOp } from './quorum-service.js';

/** What replaying a log leaves: the state per key, live hints, the dot floor a node would recover, the last ring epoch. */
function replay(ops: readonly QuorumPersistOp[]): unknown {
  const states = new Map<string, unknown>();
  const hints = new Map<string, unknown>();
  let floor = 0;
  let epoch = -1;
  for (const op of ops) {
    if (op.op === 'state') {
      states.set(op.key, op.state);
      if (op.state.kind === 'dvv') for (const s of op.state.siblings) floor = Math.max(floor, s.dot.counter);
    } else if (op.op === 'forget') states.delete(op.key);
    else if (op.op === 'dots') floor = Math.max(floor, op.floor);
    else if (op.op === 'hint') hints.set(op.hint.id, op.hint);
    else if (op.op === 'hint-done') hints.delete(op.id);
    else epoch = Math.max(epoch, op.record.epoch);
  }
  return { states: [...states].sort(), hints: [...hints].sort(), floor, epoch };
}

const opArb: fc.Arbitrary<QuorumPersistOp> = fc.oneof(
  fc.record({ key: fc.integer({ min: 0, max: 30 }), counter: fc.integer({ min: 1, max: 1000 }) }).map(({ key, counter }): QuorumPersistOp => ({ op: 'state', key: `b/k${key}`, state: { kind: 'dvv', vv: [['1', counter]], siblings: [{ dot: { actor: '1', counter }, value: 'v' }] } })),
  fc.integer({ min: 0, max: 30 }).map((key): QuorumPersistOp => ({ op: 'forget', key: `b/k${key}` })),
  fc.integer({ min: 1, max: 2000 }).map((floor): QuorumPersistOp => ({ op: 'dots', floor })),
  fc.integer({ min: 0, max: 5 }).map((n): QuorumPersistOp => ({ op: 'hint', hint: { id: `h${n}`, target: '2', key: `b/k${n}`, createdAtMs: 0, state: { kind: 'dvv', vv: [], siblings: [] } } })),
  fc.integer({ min: 0, max: 5 }).map((n): QuorumPersistOp => ({ op: 'hint-done', id: `h${n}` })),
  fc.integer({ min: 0, max: 9 }).map((epoch): QuorumPersistOp => ({ op: 'ring', record: { epoch, members: ['1'], owners: [0] } })),
);

describe('the quorum op log checkpoint', () => {
  it('never folds into more ops than it was given, and replays to the same node state', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (generated) => {
        // as the core writes its log: a forget comes after a dots op covering every dot seen so far
        // and a key's states only grow (each merges the one before)
        const ops: QuorumPersistOp[] = [];
        const last = new Map<string, number>();
        let seen = 0;
        for (const generatedOp of generated) {
          let op = generatedOp;
          if (op.op === 'state' && op.state.kind === 'dvv') {
            const counter = Math.max(last.get(op.key) ?? 0, ...op.state.siblings.map((s) => s.dot.counter));
            last.set(op.key, counter);
            op = { op: 'state', key: op.key, state: { kind: 'dvv', vv: [['1', counter]], siblings: [{ dot: { actor: '1', counter }, value: 'v' }] } };
            seen = Math.max(seen, counter);
          }
          if (op.op === 'forget' && seen > 0) ops.push({ op: 'dots', floor: seen });
          ops.push(op);
        }
        const folded = compactQuorumOps(ops);
        expect(folded.length).toBeLessThanOrEqual(ops.length);
        expect(replay(folded)).toEqual(replay(ops));
      }),
      { numRuns: 300 },
    );
  });

  it('folds a log of distinct keys with no dot floor (a replica that never coordinated) without growing it', () => {
    const ops: QuorumPersistOp[] = Array.from({ length: 1000 }, (_, i) => ({ op: 'state', key: `b/k${i}`, state: { kind: 'dvv', vv: [['1', i + 1]], siblings: [{ dot: { actor: '1', counter: i + 1 }, value: 'v' }] } }));
    expect(compactQuorumOps(ops)).toHaveLength(1000);
  });
});

describe('the quorum op log: ring records read back from disk', () => {
  it('decodes a ring record and refuses a damaged one with the problem named', () => {
    const good = { op: 'ring', record: { epoch: 3, members: ['1', '2', '3'], owners: [0, 1, 2, 0], next: { members: ['1', '2', '3', '4'], owners: [0, 1, 2, 3] }, addresses: { '4': { peer: '127.0.0.1:7104', client: 'https://127.0.0.1:7004' } } } };
    expect(decodeQuorumOp(good)).toEqual({ op: good });
    const bad: unknown[] = [
      { op: 'ring' },
      { op: 'ring', record: null },
      { op: 'ring', record: { epoch: -1, members: ['1'], owners: [0] } },
      { op: 'ring', record: { epoch: 1, members: ['1', '1'], owners: [0, 0] } },
      { op: 'ring', record: { epoch: 1, members: ['1'], owners: [0, 5] } },
      { op: 'ring', record: { epoch: 1, members: ['1'], owners: [0], addresses: { '9': { peer: 'p', client: 'c' } } } },
    ];
    for (const value of bad) expect(decodeQuorumOp(value), JSON.stringify(value)).toHaveProperty('problem');
  });
});
