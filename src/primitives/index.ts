// Every primitive the generic commands know, in one list: `synod sim run --protocol NAME` and
// `synod chaos --protocol NAME` look them up here. A new primitive appears by adding its
// SimProtocol to this list (see docs/adding-a-primitive.md).
import { clockSyncSimProtocol, hlcGossipSimProtocol } from '../clock/sim-protocols.js';
import { LOCK_SIM_PROTOCOLS } from '../lockcore/sim/chaos.js';
import { kvLeaseSimProtocol } from '../raft/chaos-lease.js';
import { raftSimProtocol } from '../raft/sim-protocol.js';
import { PAXOS_SIM_PROTOCOLS } from '../paxos/sim/chaos.js';
import { quorumSimProtocol, quorumSwimSimProtocol } from '../quorum/sim/chaos.js';
import { crdtCounterSimProtocol } from '../crdt/sim/chaos.js';
import { gossipSimProtocol } from '../gossip/sim/chaos.js';
import { gossipCrdtSimProtocol } from '../gossip/sim/crdt-chaos.js';
import { sagaKillSimProtocol, sagaSimProtocol } from '../saga/sim/chaos.js';
import { kvTxnSimProtocol } from '../raft/sim-protocol-txn.js';
import { echoSimProtocol } from '../sim/echo-protocol.js';
import { paxosCommitSimProtocol, threePcPartitionSimProtocol, threePcSimProtocol, twoPcSimProtocol } from '../txn/sim/chaos.js';
import { leaseCounterSimProtocol, leaseCounterUnfencedSimProtocol } from '../sim/lease-counter-protocol.js';
import type { SimProtocol } from '../sim/sim-protocol.js';

export const SIM_PROTOCOLS: readonly SimProtocol[] = [echoSimProtocol, clockSyncSimProtocol, hlcGossipSimProtocol, raftSimProtocol, kvLeaseSimProtocol, kvTxnSimProtocol, leaseCounterSimProtocol, leaseCounterUnfencedSimProtocol, ...LOCK_SIM_PROTOCOLS, quorumSimProtocol, quorumSwimSimProtocol, crdtCounterSimProtocol, gossipSimProtocol, gossipCrdtSimProtocol, twoPcSimProtocol, threePcSimProtocol, threePcPartitionSimProtocol, paxosCommitSimProtocol, sagaSimProtocol, sagaKillSimProtocol, ...PAXOS_SIM_PROTOCOLS];

export function simProtocol(name: string): SimProtocol | undefined {
  return SIM_PROTOCOLS.find((p) => p.name === name);
}

export function simProtocolNames(): string[] {
  return SIM_PROTOCOLS.map((p) => p.name);
}

/** The primitives `synod chaos` can run: those with monitors and a checker. */
export function chaosProtocolNames(): string[] {
  return SIM_PROTOCOLS.filter((p) => p.chaos !== undefined).map((p) => p.name);
}
