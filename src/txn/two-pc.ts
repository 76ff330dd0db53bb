// The 2PC protocol as one spec: the node named as coordinator runs the coordinator core, every
// other node a participant holding the same accounts. Hosts run it like any core; the simulated
// harness is src/txn/sim/cluster.ts.
import type { NodeId, ProtocolCore, ProtocolSpec } from '../core/index.js';
import { coordinatedSpec, type CoordinatedOptions } from './coordinated-spec.js';
import { CoordinatorCore, type CoordinatorOptions, type TxnRequest, type TxnResponse } from './coordinator.js';
import type { CoordinatorOp, ParticipantOp, TwoPcMessage } from './messages.js';
import { ParticipantCore, type ParticipantOptions } from './participant.js';

export type TwoPcOp = CoordinatorOp | ParticipantOp;
export type TwoPcCore = ProtocolCore<TwoPcMessage, TxnRequest, TxnResponse, TwoPcOp>;

export interface TwoPcOptions extends CoordinatorOptions, ParticipantOptions, CoordinatedOptions {}

export const TWO_PC_DEFAULTS: Omit<TwoPcOptions, 'coordinator'> = {
  tickIntervalMs: 20,
  voteTimeoutMs: 400,
  retryMs: 200,
  maxActive: 64,
  snapshotEvery: 50,
  accounts: ['a', 'b', 'c', 'd'],
  initialBalance: 100,
  lockWaitMs: 300,
  decisionTimeoutMs: 500,
  maxWaiting: 32,
  maxRemembered: 4096,
  cooperative: true,
};

const COORDINATOR_KINDS: ReadonlySet<string> = new Set(['life', 'commit', 'end', 'state']);

export function twoPcSpec(options: Partial<TwoPcOptions> & { readonly coordinator: NodeId }): ProtocolSpec<TwoPcMessage, TxnRequest, TxnResponse, TwoPcOp, TwoPcCore> {
  const o: TwoPcOptions = { ...TWO_PC_DEFAULTS, ...options };
  return coordinatedSpec<TwoPcMessage, CoordinatorOp, ParticipantOp>('2pc', o, {
    coordinatorKinds: COORDINATOR_KINDS,
    coordinator: (env, durable) => new CoordinatorCore(env, durable, o),
    participant: (env, durable) => new ParticipantCore(env, durable, o) as unknown as TwoPcCore,
  });
}
