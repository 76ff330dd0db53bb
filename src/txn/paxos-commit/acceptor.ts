// A Paxos Commit acceptor: for every transaction it keeps the ballot it promised and, per RM
// instance, the ballot and value it accepted; it persists both before answering (the host holds
// the answer until they are durable). It remembers a bounded number of transactions and, past
// that, ignores those older than the ones it forgot (safe: silence only costs liveness).
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../../core/index.js';
import type { TxnId } from '../messages.js';
import { parsePaxosCommitMessage, type AcceptorOp, type PaxosCommitMessage, type Vote } from './messages.js';

type AcceptorFx = Effects<PaxosCommitMessage, AcceptorOp, never>;

interface TxnSlots {
  readonly ts: number;
  promised: number;
  readonly accepted: Map<NodeId, { ballot: number; value: Vote }>;
}

export class AcceptorCore implements ProtocolCore<PaxosCommitMessage, never, never, AcceptorOp> {
  private readonly txns = new Map<TxnId, TxnSlots>();
  private forgottenBelowTs = -1;
  private malformed = 0;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly AcceptorOp[],
    private readonly leader: NodeId,
    private readonly maxTxns: number,
  ) {
    for (const op of durable) {
      const slots = this.slots(op.txn, op.ts);
      if (slots === undefined) continue;
      slots.promised = Math.max(slots.promised, op.ballot);
      if (op.kind === 'accept') slots.accepted.set(op.rm, { ballot: op.ballot, value: op.value });
    }
  }

  get malformedCount(): number {
    return this.malformed;
  }

  handleRequest(): void {}

  handleTick(): void {}

  start(fx: AcceptorFx): void {
    fx.annotate('role', 'acceptor');
  }

  handleMessage(from: NodeId, raw: PaxosCommitMessage, fx: AcceptorFx): void {
    const msg = parsePaxosCommitMessage(raw);
    if (msg === undefined) {
      this.malformed++;
      fx.annotate('malformed', this.malformed);
      return;
    }
    if (msg.type === 'p1a') {
      const slots = this.slots(msg.txn, msg.ts);
      if (slots === undefined) return;
      if (msg.ballot <= slots.promised) {
        fx.send(from, { type: 'nack', txn: msg.txn, promised: slots.promised });
        return;
      }
      slots.promised = msg.ballot;
      fx.persist({ kind: 'promise', txn: msg.txn, ts: msg.ts, ballot: msg.ballot });
      fx.send(from, { type: 'p1b', txn: msg.txn, ballot: msg.ballot, accepted: [...slots.accepted.entries()].map(([rm, a]) => ({ rm, ballot: a.ballot, value: a.value })) });
    } else if (msg.type === 'p2a') {
      const slots = this.slots(msg.txn, msg.ts);
      if (slots === undefined) return;
      // ballot 0 is the RM's own: only the RM itself may propose it
      if (msg.ballot < slots.promised || (msg.ballot === 0 && from !== msg.rm)) {
        fx.send(from, { type: 'nack', txn: msg.txn, promised: slots.promised });
        return;
      }
      const earlier = slots.accepted.get(msg.rm);
      if (earlier !== undefined && earlier.ballot === msg.ballot && earlier.value !== msg.value) return; // one value per ballot
      slots.promised = msg.ballot;
      slots.accepted.set(msg.rm, { ballot: msg.ballot, value: msg.value });
      fx.persist({ kind: 'accept', txn: msg.txn, ts: msg.ts, rm: msg.rm, ballot: msg.ballot, value: msg.value });
      const answer: PaxosCommitMessage = { type: 'p2b', txn: msg.txn, participants: msg.participants, rm: msg.rm, ballot: msg.ballot, value: msg.value };
      fx.send(this.leader, answer);
      if (from !== this.leader) fx.send(from, answer);
    }
    fx.annotate('txns', this.txns.size);
  }

  private slots(txn: TxnId, ts: number): TxnSlots | undefined {
    const known = this.txns.get(txn);
    if (known !== undefined) return known;
    if (ts <= this.forgottenBelowTs) return undefined;
    while (this.txns.size >= this.maxTxns) {
      const [oldest, slots] = this.txns.entries().next().value as [TxnId, TxnSlots];
      this.txns.delete(oldest);
      this.forgottenBelowTs = Math.max(this.forgottenBelowTs, slots.ts);
    }
    const fresh: TxnSlots = { ts, promised: 0, accepted: new Map() };
    this.txns.set(txn, fresh);
    return fresh;
  }
}
