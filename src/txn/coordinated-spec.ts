// The spec shape 2PC and 3PC share: one node, named in the options, runs the coordinator core and
// every other node a participant; the log's ops are split by kind between the two, so a node
// replays only its own role's records.
import type { CoreEnv, Message, NodeId, ProtocolCore, ProtocolSpec } from '../core/index.js';
import type { TxnRequest, TxnResponse } from './coordinator.js';

export interface CoordinatedOptions {
  readonly coordinator: NodeId;
  readonly tickIntervalMs: number;
}

type Core<M extends Message, P> = ProtocolCore<M, TxnRequest, TxnResponse, P>;

/** The roles' constructors, and the op kinds that are the coordinator's (all others: a participant's). */
export interface Roles<M extends Message, CO extends { readonly kind: string }, PO extends { readonly kind: string }> {
  readonly coordinatorKinds: ReadonlySet<string>;
  coordinator(env: CoreEnv, durable: readonly CO[]): Core<M, CO | PO>;
  participant(env: CoreEnv, durable: readonly PO[]): Core<M, CO | PO>;
}

/** A 'snapshot' (participant) or 'state' (coordinator) op replaces every op before it. */
export function coordinatedSpec<M extends Message, CO extends { readonly kind: string }, PO extends { readonly kind: string }>(name: string, o: CoordinatedOptions, roles: Roles<M, CO, PO>): ProtocolSpec<M, TxnRequest, TxnResponse, CO | PO, Core<M, CO | PO>> {
  const mine = (op: CO | PO): op is CO => roles.coordinatorKinds.has(op.kind);
  return {
    name,
    tickIntervalMs: o.tickIntervalMs,
    create(env: CoreEnv, durable: readonly (CO | PO)[]): Core<M, CO | PO> {
      if (env.id === o.coordinator) return roles.coordinator(env, durable.filter(mine));
      return roles.participant(env, durable.filter((op): op is PO => !mine(op)));
    },
    supersedesEarlier: (op) => op.kind === 'snapshot' || op.kind === 'state',
  };
}
