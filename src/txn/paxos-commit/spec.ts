// Paxos Commit as one spec: node roles by name (the leader, the RMs, the 2F+1 acceptors), each
// node running the core of its role. The simulated harness is src/txn/sim/cluster.ts.
import type { CoreEnv, NodeId, ProtocolCore, ProtocolSpec } from '../../core/index.js';
import type { TxnRequest, TxnResponse } from '../coordinator.js';
import { AcceptorCore } from './acceptor.js';
import { LeaderCore } from './leader.js';
import type { AcceptorOp, PaxosCommitMessage, RmOp } from './messages.js';
import { RmCore } from './rm.js';

export type PaxosCommitOp = AcceptorOp | RmOp;
export type PaxosCommitCore = ProtocolCore<PaxosCommitMessage, TxnRequest, TxnResponse, PaxosCommitOp>;

export interface PaxosCommitOptions {
  readonly leader: NodeId;
  readonly participants: readonly NodeId[];
  /** 2F+1 of them tolerate F crashed acceptors. */
  readonly acceptors: readonly NodeId[];
  readonly tickIntervalMs: number;
  readonly accounts: readonly string[];
  readonly initialBalance: number;
  readonly voteTimeoutMs: number;
  readonly decisionTimeoutMs: number;
  readonly retryMs: number;
  readonly lockWaitMs: number;
  readonly maxActive: number;
  readonly maxWaiting: number;
  readonly maxRemembered: number;
  /** Transactions an acceptor keeps (older ones it forgot are ignored). */
  readonly maxAcceptorTxns: number;
}

export const PAXOS_COMMIT_DEFAULTS = {
  tickIntervalMs: 20,
  accounts: ['a', 'b', 'c', 'd'],
  initialBalance: 100,
  voteTimeoutMs: 400,
  decisionTimeoutMs: 500,
  retryMs: 200,
  lockWaitMs: 300,
  maxActive: 64,
  maxWaiting: 32,
  maxRemembered: 4096,
  maxAcceptorTxns: 4096,
} as const;

export function paxosCommitSpec(options: Partial<PaxosCommitOptions> & Pick<PaxosCommitOptions, 'leader' | 'participants' | 'acceptors'>): ProtocolSpec<PaxosCommitMessage, TxnRequest, TxnResponse, PaxosCommitOp, PaxosCommitCore> {
  const o: PaxosCommitOptions = { ...PAXOS_COMMIT_DEFAULTS, ...options };
  if (o.acceptors.length % 2 !== 1) throw new RangeError(`paxos commit needs 2F+1 acceptors, got ${o.acceptors.length}`);
  const proposers = [o.leader, ...o.participants];
  return {
    name: 'paxos-commit',
    tickIntervalMs: o.tickIntervalMs,
    create(env: CoreEnv, durable: readonly PaxosCommitOp[]): PaxosCommitCore {
      if (o.acceptors.includes(env.id)) return new AcceptorCore(env, durable as readonly AcceptorOp[], o.leader, o.maxAcceptorTxns) as unknown as PaxosCommitCore;
      if (env.id === o.leader) return new LeaderCore(env, durable as readonly RmOp[], { ...o, proposers });
      return new RmCore(env, durable as readonly RmOp[], { ...o, proposers }) as unknown as PaxosCommitCore;
    },
  };
}
