import { describe, expect, it } from 'vitest';
import { RaftError } from './errors.js';
import { LatestSnapshot, nextChunk, parseSnapshotPayload, parseSnapshotText, SnapshotReceiver, snapshotDue, snapshotPhase } from './snapshots.js';
import type { RaftMessage, SnapshotMeta } from './types.js';

const meta: SnapshotMeta = { index: 10, term: 2, config: { voters: ['1'], learners: [] } };
const text = JSON.stringify({ machine: { k: 'v' }, sessions: [] });

function chunk(offset: number, size: number, m: SnapshotMeta = meta): Extract<RaftMessage, { type: 'snapshot' }> {
  const part = text.slice(offset, offset + size);
  return { type: 'snapshot', term: 3, meta: m, offset, chunk: part, done: offset + part.length >= text.length };
}

describe('snapshot payload', () => {
  it('parses {machine, sessions} and refuses anything else', () => {
    expect(parseSnapshotPayload({ machine: null, sessions: [] })).toEqual({ machine: null, sessions: [] });
    expect(() => parseSnapshotPayload({ sessions: [] })).toThrow(RaftError);
    expect(() => parseSnapshotPayload({ machine: 1, sessions: {} })).toThrow(RaftError);
    expect(() => parseSnapshotPayload([])).toThrow(RaftError);
    expect(() => parseSnapshotText('{not json', '2')).toThrow(/from 2 is not valid JSON/);
  });
});

describe('LatestSnapshot', () => {
  it('has nothing to send before the first snapshot', () => {
    const s = new LatestSnapshot({ index: 0, term: 0, config: { voters: ['1'], learners: [] } });
    expect([s.meta.index, s.payload, s.outgoing()]).toEqual([0, undefined, undefined]);
  });

  it('sends the payload as JSON text, made once per snapshot', () => {
    const machine: Record<string, string> = { k: 'v' };
    const s = new LatestSnapshot(meta, { machine, sessions: [] });
    const first = s.outgoing();
    expect(first).toEqual({ meta, text });
    machine['k'] = 'changed'; // a payload is never changed in place: the text is not made again
    expect(s.outgoing()?.text).toBe(text);
    const next: SnapshotMeta = { ...meta, index: 20 };
    s.replace(next, { machine: { k: 'w' }, sessions: [] });
    expect(s.outgoing()).toEqual({ meta: next, text: JSON.stringify({ machine: { k: 'w' }, sessions: [] }) });
    expect(s.meta).toBe(next);
  });
});

describe('snapshot policy', () => {
  it('spreads the members over the interval', () => {
    expect([0, 1, 2, 3].map((p) => snapshotPhase(p, 100, 4))).toEqual([0, 25, 50, 75]);
    expect(snapshotPhase(-1, 100, 4)).toBe(0); // not a bootstrap member
    expect(snapshotPhase(0, 100, 0)).toBe(0);
  });

  it('snapshots at the next boundary of its phase, at least half a threshold after the last one', () => {
    expect(snapshotDue(99, 0, 100, 0)).toBe(false);
    expect(snapshotDue(100, 0, 100, 0)).toBe(true);
    expect(snapshotDue(75, 0, 100, 25)).toBe(true);
    expect(snapshotDue(74, 0, 100, 25)).toBe(false);
    // the boundary at 175 comes too soon after a snapshot at 150
    expect(snapshotDue(176, 150, 100, 25)).toBe(false);
    expect(snapshotDue(275, 150, 100, 25)).toBe(true);
  });

  it('snapshots two thresholds after the last one whatever the phase, and never with threshold 0', () => {
    expect(snapshotDue(200, 0, 100, 0)).toBe(true);
    expect(snapshotDue(1000, 0, 0, 0)).toBe(false);
  });
});

describe('snapshot transfer', () => {
  it('cuts the text into chunks, the last one marked done', () => {
    const snap = { meta, text: 'abcdefg', offset: 0 };
    expect(nextChunk(snap, 3)).toEqual({ offset: 0, chunk: 'abc', done: false });
    snap.offset = 6;
    expect(nextChunk(snap, 3)).toEqual({ offset: 6, chunk: 'g', done: true });
  });

  it('reassembles chunks sent in order', () => {
    const r = new SnapshotReceiver('1');
    expect(r.receive(3, '2', chunk(0, 10))).toEqual({ kind: 'more', nextOffset: 10 });
    expect(r.receiving).toBe(true);
    expect(r.receive(3, '2', chunk(10, 10))).toEqual({ kind: 'more', nextOffset: 20 });
    expect(r.receive(3, '2', chunk(20, 100))).toEqual({ kind: 'complete', payload: { machine: { k: 'v' }, sessions: [] } });
    expect(r.receiving).toBe(false);
  });

  it('asks again for the offset it expects when a chunk is lost or repeated', () => {
    const r = new SnapshotReceiver('1');
    r.receive(3, '2', chunk(0, 10));
    expect(r.receive(3, '2', chunk(20, 10))).toEqual({ kind: 'more', nextOffset: 10 });
    expect(r.receive(3, '2', chunk(0, 10))).toEqual({ kind: 'more', nextOffset: 10 });
  });

  it('refuses a middle chunk of an unknown snapshot, and starts over on a first chunk', () => {
    const r = new SnapshotReceiver('1');
    expect(r.receive(3, '2', chunk(10, 10))).toEqual({ kind: 'more', nextOffset: 0 });
    expect(r.receiving).toBe(false);
    r.receive(3, '2', chunk(0, 10));
    const newer = { ...meta, index: 12 };
    expect(r.receive(3, '2', chunk(10, 10, newer))).toEqual({ kind: 'more', nextOffset: 0 });
    expect(r.receive(3, '2', chunk(0, 10, newer))).toEqual({ kind: 'more', nextOffset: 10 });
    // a new term starts over too
    expect(r.receive(4, '2', chunk(10, 10, newer))).toEqual({ kind: 'more', nextOffset: 0 });
  });

  it('throws on a snapshot larger than the limit, and forgets it', () => {
    const r = new SnapshotReceiver('1', 15);
    r.receive(3, '2', chunk(0, 10));
    expect(() => r.receive(3, '2', chunk(10, 10))).toThrow(/node 1: snapshot from 2 exceeds 15 characters/);
    expect(r.receiving).toBe(false);
  });

  it('discards a partial snapshot on request', () => {
    const r = new SnapshotReceiver('1');
    r.receive(3, '2', chunk(0, 10));
    r.discard();
    expect(r.receiving).toBe(false);
  });
});
