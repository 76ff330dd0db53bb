// For hosts that keep the Multi-Paxos durable ops in a plain op log (OpLogStore's `compact`):
// folds a log into the fewest ops that replay to the same acceptor state and snapshot. With a
// snapshot, one snapshot op (promise and acceptances inside); without, one accept op per ballot
// and a promise op when the promise is above every acceptance. Never more ops than it was given.
import { ballotText, compareBallots } from '../ballot.js';
import { MultiAcceptor } from './acceptor.js';
import type { PaxosPersistOp, SlotValue } from './types.js';

export function compactPaxosOps(ops: readonly PaxosPersistOp[]): PaxosPersistOp[] {
  const acceptor = new MultiAcceptor('', undefined);
  let snapshot: Extract<PaxosPersistOp, { kind: 'snapshot' }> | undefined;
  for (const op of ops) {
    acceptor.replay(op);
    if (op.kind === 'snapshot') snapshot = op;
  }
  const accepted = acceptor.acceptedAbove(acceptor.snapshotSlot);
  if (snapshot !== undefined) return [{ kind: 'snapshot', slot: snapshot.slot, data: snapshot.data, promised: acceptor.promised, accepted }];
  const byBallot = new Map<string, { ballot: (typeof accepted)[number]['ballot']; entries: SlotValue[] }>();
  for (const a of accepted) {
    const key = ballotText(a.ballot);
    let group = byBallot.get(key);
    if (group === undefined) byBallot.set(key, (group = { ballot: a.ballot, entries: [] }));
    group.entries.push({ slot: a.slot, value: a.value });
  }
  const groups = [...byBallot.values()].sort((a, b) => compareBallots(a.ballot, b.ballot));
  const out: PaxosPersistOp[] = groups.map((g) => ({ kind: 'accept', ballot: g.ballot, entries: g.entries }));
  const highestAccepted = groups[groups.length - 1]?.ballot;
  if (acceptor.promised.round > 0 && (highestAccepted === undefined || compareBallots(acceptor.promised, highestAccepted) > 0)) out.push({ kind: 'promise', ballot: acceptor.promised });
  return out;
}
