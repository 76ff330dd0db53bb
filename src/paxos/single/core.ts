// Single-decree Paxos as a sans-I/O core (src/core/protocol.ts): each node plays the roles its
// placement gives it (by default proposer, acceptor and learner at once). Roles talk only by
// messages, a node's roles to each other too (hosts deliver messages a node sends itself), so
// every promise and acceptance is durable before anyone hears of it: the host holds a call's
// messages until its persisted ops are synced. A client's `propose` is answered with the chosen
// value once this node knows it (`own`: whether it is the value that request proposed).
import { assertInvariant, type CoreEnv, type Effects, type JsonValue, type NodeId, type ProtocolCore } from '../../core/index.js';
import { ballotText } from '../ballot.js';
import { PaxosError } from '../errors.js';
import { resolveQuorums, type QuorumSizes } from '../quorums.js';
import { parseSynodMessage, synodRequestProblem } from './messages.js';
import { Acceptor, Learner, Proposer, SYNOD_SLOT, type RolePort } from './roles.js';
import type { SynodMessage, SynodOptions, SynodPersistOp, SynodRequest, SynodResponse, SynodRole, SynodStatus } from './types.js';

type Fx = Effects<SynodMessage, SynodPersistOp, SynodResponse>;

interface Waiting {
  readonly requestId: string;
  readonly value: JsonValue;
}

/** Which nodes play which role, from the options (default: every member plays all three). */
export interface SynodPlacement {
  readonly proposers: readonly NodeId[];
  readonly acceptors: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export function synodPlacement(members: readonly NodeId[], opts: Pick<SynodOptions, 'proposers' | 'acceptors' | 'learners'>): SynodPlacement {
  const pick = (name: string, list: readonly NodeId[] | undefined): readonly NodeId[] => {
    const chosen = list ?? members;
    for (const id of chosen) if (!members.includes(id)) throw new PaxosError('BAD_OPTION', `${name}: ${JSON.stringify(id)} is not a member`);
    if (new Set(chosen).size !== chosen.length) throw new PaxosError('BAD_OPTION', `${name}: a node is named twice`);
    return chosen;
  };
  const placement = { proposers: pick('proposers', opts.proposers), acceptors: pick('acceptors', opts.acceptors), learners: pick('learners', opts.learners) };
  if (placement.acceptors.length === 0) throw new PaxosError('BAD_QUORUM', 'a Paxos group needs at least one acceptor');
  return placement;
}

function sameValue(a: JsonValue, b: JsonValue): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export class SynodCore implements ProtocolCore<SynodMessage, SynodRequest, SynodResponse, SynodPersistOp> {
  readonly id: NodeId;
  readonly roles: readonly SynodRole[];
  readonly quorums: QuorumSizes;
  readonly acceptor: Acceptor | undefined;
  readonly proposer: Proposer | undefined;
  readonly learner: Learner | undefined;
  private readonly waiting: Waiting[] = [];
  private fx: Fx | undefined;
  private tickCount = 0;
  private badMessages = 0;
  private readonly placement: SynodPlacement;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly SynodPersistOp[],
    private readonly opts: SynodOptions,
  ) {
    this.id = env.id;
    this.placement = synodPlacement(env.members, opts);
    this.quorums = resolveQuorums(this.placement.acceptors.length, opts.quorums);
    const port: RolePort = {
      id: env.id,
      send: (to, msg) => this.out.send(to, msg),
      persist: (op) => this.out.persist(op),
      observer: opts.observer,
    };
    const roles: SynodRole[] = [];
    if (this.placement.proposers.includes(env.id)) {
      roles.push('proposer');
      this.proposer = new Proposer(
        { ...port, random: () => env.random(), chosen: (v) => this.chosen(v), localPromisedRound: () => this.acceptor?.promised.round ?? 0 },
        this.placement.acceptors,
        this.placement.learners,
        this.quorums,
        opts,
      );
    }
    if (this.placement.acceptors.includes(env.id)) {
      roles.push('acceptor');
      this.acceptor = new Acceptor(port, this.placement.learners);
    }
    if (this.placement.learners.includes(env.id)) {
      roles.push('learner');
      this.learner = new Learner(port, this.quorums, (v) => this.chosen(v));
    }
    this.roles = roles;
    for (const op of durable) {
      this.proposer?.replay(op);
      this.acceptor?.replay(op);
      this.learner?.replay(op);
    }
    if (this.acceptor !== undefined) {
      const a = this.acceptor;
      opts.observer?.recovered?.(env.id, { promised: a.promised, accepted: a.accepted === null ? [] : [{ slot: SYNOD_SLOT, ballot: a.accepted.ballot }], snapshotSlot: 0 });
    }
    if (this.learner?.learned !== undefined) this.proposer?.finish(this.learner.learned);
  }

  // ================================================================ host entry points

  start(fx: Fx): void {
    this.run(fx, () => {});
  }

  handleMessage(from: NodeId, raw: SynodMessage, fx: Fx): void {
    this.run(fx, () => {
      const parsed = parseSynodMessage(raw);
      if ('problem' in parsed) {
        this.badMessages++;
        return this.out.annotate('lastBadMessage', `${from}: ${parsed.problem}`);
      }
      this.step(from, parsed.msg);
    });
  }

  handleTick(fx: Fx): void {
    this.run(fx, () => {
      this.tickCount++;
      this.proposer?.onTick(this.tickCount);
      const l = this.learner;
      if (l !== undefined && l.learned === undefined && l.sawActivity && this.tickCount % this.opts.askTicks === 0) {
        for (const node of this.env.members) if (node !== this.id) this.out.send(node, { type: 'ask' });
      }
    });
  }

  handleRequest(requestId: string, request: SynodRequest, fx: Fx): void {
    this.run(fx, () => {
      const problem = synodRequestProblem(request);
      if (problem !== null) return this.out.reply(requestId, { ok: false, error: 'bad-request', message: problem });
      if (request.type === 'status') return this.out.reply(requestId, { ok: true, status: this.status() });
      const known = this.known();
      if (known !== undefined) return this.out.reply(requestId, { ok: true, value: known, own: sameValue(known, request.value) });
      if (this.proposer === undefined) return this.out.reply(requestId, { ok: false, error: 'not-a-proposer', message: `node ${this.id} is not a proposer` });
      this.waiting.push({ requestId, value: request.value });
      this.proposer.propose(request.value, this.tickCount);
    });
  }

  private run(fx: Fx, body: () => void): void {
    this.fx = fx;
    try {
      body();
      this.annotate();
    } finally {
      this.fx = undefined;
    }
  }

  private get out(): Fx {
    assertInvariant(this.fx !== undefined, () => `node ${this.id}: effects used outside a host call`);
    return this.fx;
  }

  // ================================================================ messages

  private step(from: NodeId, msg: SynodMessage): void {
    if (this.learner !== undefined) this.learner.sawActivity = true;
    switch (msg.type) {
      case 'prepare':
        return this.acceptor?.onPrepare(from, msg);
      case 'accept':
        return this.acceptor?.onAccept(from, msg);
      case 'promise':
        return this.proposer?.onPromise(from, msg);
      case 'reject':
        return this.proposer?.onReject(from, msg, this.tickCount);
      case 'accepted':
        this.opts.observer?.heardAccepted?.(this.id, from, SYNOD_SLOT, msg.ballot);
        this.proposer?.onAccepted(from, msg);
        // only acceptors' acceptances count
        if (this.placement.acceptors.includes(from)) this.learner?.onAccepted(from, msg);
        return;
      case 'decided':
        if (this.learner !== undefined) this.learner.learn(msg.value);
        else this.proposer?.finish(msg.value);
        return;
      case 'ask': {
        const known = this.known();
        if (known !== undefined) this.out.send(from, { type: 'decided', value: known });
        return;
      }
    }
  }

  /** The chosen value, if this node knows it (as a learner, or a proposer whose phase 2 succeeded). */
  private known(): JsonValue | undefined {
    if (this.learner?.learned !== undefined) return this.learner.learned;
    return this.proposer?.phase === 'done' ? this.proposer.proposal : undefined;
  }

  private chosen(value: JsonValue): void {
    if (this.learner !== undefined && this.learner.learned === undefined) this.learner.learn(value);
    this.proposer?.finish(value);
    for (const w of this.waiting.splice(0)) this.out.reply(w.requestId, { ok: true, value, own: sameValue(value, w.value) });
  }

  // ================================================================ inspection

  status(): SynodStatus {
    return {
      id: this.id,
      roles: this.roles,
      phase: this.proposer?.phase ?? null,
      ballot: this.proposer?.ballot ?? null,
      promised: this.acceptor?.promised ?? null,
      accepted: this.acceptor?.accepted ?? null,
      learned: this.known(),
    };
  }

  private annotate(): void {
    const fx = this.out;
    fx.annotate('roles', this.roles.join(','));
    if (this.proposer !== undefined) {
      fx.annotate('phase', this.proposer.phase);
      fx.annotate('ballot', this.proposer.ballot === null ? null : ballotText(this.proposer.ballot));
      fx.annotate('adopted', this.proposer.adopted);
      fx.annotate('attempts', this.proposer.attempts);
    }
    if (this.acceptor !== undefined) {
      fx.annotate('promised', ballotText(this.acceptor.promised));
      fx.annotate('accepted', this.acceptor.accepted === null ? null : `${ballotText(this.acceptor.accepted.ballot)}: ${JSON.stringify(this.acceptor.accepted.value)}`);
    }
    const known = this.known();
    fx.annotate('learned', known === undefined ? null : JSON.stringify(known));
    if (this.badMessages > 0) fx.annotate('badMessages', this.badMessages);
  }
}
