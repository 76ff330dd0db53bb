// Three-phase commit as one spec: the node named as coordinator runs the coordinator core, every
// other node a participant holding the same accounts. The simulated harness is
// src/txn/sim/cluster.ts; docs/transactions.md says what 3PC guarantees and where it breaks.
import type { NodeId, ProtocolCore, ProtocolSpec } from '../../core/index.js';
import { coordinatedSpec, type CoordinatedOptions } from '../coordinated-spec.js';
import type { TxnRequest, TxnResponse } from '../coordinator.js';
import { ThreePcCoordinatorCore, type ThreePcCoordinatorOptions } from './coordinator.js';
import type { ThreePcCoordinatorOp, ThreePcMessage, ThreePcParticipantOp } from './messages.js';
import { ThreePcParticipantCore, type ThreePcParticipantOptions } from './participant.js';

export type ThreePcOp = ThreePcCoordinatorOp | ThreePcParticipantOp;
export type ThreePcCore = ProtocolCore<ThreePcMessage, TxnRequest, TxnResponse, ThreePcOp>;

export interface ThreePcOptions extends ThreePcCoordinatorOptions, ThreePcParticipantOptions, CoordinatedOptions {}

/**
 * The timeouts assume bounded delays: a message and its answer take well under `termWaitMs` and
 * `ackTimeoutMs` (the simulator's default links take 1-5 ms each way, plus a 1 ms fsync and a
 * 20 ms tick). 3PC is safe only while that holds.
 */
export const THREE_PC_DEFAULTS: Omit<ThreePcOptions, 'coordinator'> = {
  tickIntervalMs: 20,
  voteTimeoutMs: 400,
  ackTimeoutMs: 200,
  retryMs: 200,
  maxActive: 64,
  snapshotEvery: 50,
  accounts: ['a', 'b', 'c', 'd'],
  initialBalance: 100,
  lockWaitMs: 300,
  decisionTimeoutMs: 500,
  rankSlotMs: 300,
  termWaitMs: 100,
  maxWaiting: 32,
  maxRemembered: 4096,
};

const COORDINATOR_KINDS: ReadonlySet<string> = new Set(['life', 'precommit', 'commit', 'end', 'state']);

export function threePcSpec(options: Partial<ThreePcOptions> & { readonly coordinator: NodeId }): ProtocolSpec<ThreePcMessage, TxnRequest, TxnResponse, ThreePcOp, ThreePcCore> {
  const o: ThreePcOptions = { ...THREE_PC_DEFAULTS, ...options };
  return coordinatedSpec<ThreePcMessage, ThreePcCoordinatorOp, ThreePcParticipantOp>('3pc', o, {
    coordinatorKinds: COORDINATOR_KINDS,
    coordinator: (env, durable) => new ThreePcCoordinatorCore(env, durable, o),
    participant: (env, durable) => new ThreePcParticipantCore(env, durable, o) as unknown as ThreePcCore,
  });
}
