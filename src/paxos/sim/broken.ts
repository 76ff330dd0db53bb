// Deliberately broken variants of the Paxos cores, for negative controls: a monitor that never
// fires proves nothing, so the tests run these and expect the monitors to catch them. None is
// used by default; each wraps a correct spec from outside, leaving the cores themselves clean.
//
// - forgetful acceptors: a restarted acceptor drops its promises (it keeps its acceptances), so
//   it may accept below a ballot it promised before the crash;
// - proposers that never adopt: phase 1 ignores what acceptors report having accepted, so a new
//   leader proposes its own value (or a no-op) over a value that may be chosen.
import type { Message, ProtocolCore, ProtocolSpec } from '../../core/index.js';
import { ZERO_BALLOT } from '../ballot.js';
import type { PaxosPersistOp } from '../multi/types.js';
import type { SynodPersistOp } from '../single/types.js';

/** A core inside a wrapper; `unwrapBroken` finds it for the cluster's inspection. */
export interface WrappedCore<Core> {
  readonly inner: Core;
}

export function unwrapBroken<Core>(core: unknown): Core | undefined {
  if (core === undefined) return undefined;
  return (core as WrappedCore<Core>).inner ?? (core as Core);
}

/** Multi-Paxos whose acceptors forget every promise across a restart (acceptances stay). */
export function forgetfulAcceptors<M extends Message, Req, Res, Core extends ProtocolCore<M, Req, Res, PaxosPersistOp>>(spec: ProtocolSpec<M, Req, Res, PaxosPersistOp, Core>): ProtocolSpec<M, Req, Res, PaxosPersistOp, Core> {
  const forget = (op: PaxosPersistOp): PaxosPersistOp[] => {
    if (op.kind === 'promise') return [];
    if (op.kind === 'snapshot') return [{ ...op, promised: ZERO_BALLOT }];
    return [op];
  };
  return { ...spec, name: `${spec.name}-forgetful`, create: (env, durable) => spec.create(env, durable.flatMap(forget)) };
}

/** Single-decree Paxos whose acceptors forget their promise across a restart (the acceptance stays). */
export function forgetfulSynodAcceptors<M extends Message, Req, Res, Core extends ProtocolCore<M, Req, Res, SynodPersistOp>>(spec: ProtocolSpec<M, Req, Res, SynodPersistOp, Core>): ProtocolSpec<M, Req, Res, SynodPersistOp, Core> {
  return { ...spec, name: `${spec.name}-forgetful`, create: (env, durable) => spec.create(env, durable.filter((op) => op.kind !== 'promise')) };
}

/**
 * Proposers that never adopt: every promise reaches the core with its acceptances stripped
 * (`accepted: []` for Multi-Paxos, `accepted: null` for single-decree).
 */
export function neverAdopt<M extends Message, Req, Res, P, Core extends ProtocolCore<M, Req, Res, P>>(spec: ProtocolSpec<M, Req, Res, P, Core>): ProtocolSpec<M, Req, Res, P, ProtocolCore<M, Req, Res, P>> {
  const strip = (msg: M): M => {
    if (msg.type !== 'promise') return msg;
    const accepted = (msg as unknown as { accepted: unknown }).accepted;
    return { ...msg, accepted: Array.isArray(accepted) ? [] : null };
  };
  return {
    name: `${spec.name}-never-adopt`,
    tickIntervalMs: spec.tickIntervalMs,
    ...(spec.supersedesEarlier === undefined ? {} : { supersedesEarlier: spec.supersedesEarlier }),
    create: (env, durable) => {
      const inner = spec.create(env, durable);
      const wrapped: ProtocolCore<M, Req, Res, P> & WrappedCore<Core> = {
        inner,
        handleMessage: (from, msg, fx) => inner.handleMessage(from, strip(msg), fx),
        handleTick: (fx) => inner.handleTick(fx),
        handleRequest: (id, req, fx) => inner.handleRequest(id, req, fx),
        start: (fx) => inner.start?.(fx),
      };
      return wrapped;
    },
  };
}
