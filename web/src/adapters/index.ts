// The protocols the visualizer knows; the first is the default. And the services live mode
// knows, by the name GET /api/cluster gives (any other gets the generic live adapter).
import { echoAdapter } from './echo.js';
import { gossipAdapter } from './gossip.js';
import type { LiveAdapter } from './live.js';
import { clockLiveAdapter } from './live-clock.js';
import { genericLiveAdapter } from './live-generic.js';
import { kvLiveAdapter } from './live-kv.js';
import { quorumLiveAdapter } from './live-quorum.js';
import { LOCK_ADAPTERS } from './lock.js';
import { paxosAdapter, synodAdapter } from './paxos.js';
import { quorumAdapter } from './quorum.js';
import { raftAdapter } from './raft.js';
import { sagaAdapter } from './saga.js';
import { TXN_ADAPTERS } from './txn.js';
import type { ProtocolAdapter } from './types.js';

export const ADAPTERS: readonly ProtocolAdapter[] = [raftAdapter, echoAdapter, ...LOCK_ADAPTERS, quorumAdapter, gossipAdapter, ...TXN_ADAPTERS, sagaAdapter, paxosAdapter, synodAdapter];

export const DEFAULT_ADAPTER = ADAPTERS[0] as ProtocolAdapter;

export function adapterById(id: string): ProtocolAdapter | undefined {
  return ADAPTERS.find((a) => a.id === id);
}

export const LIVE_ADAPTERS: readonly LiveAdapter[] = [kvLiveAdapter, clockLiveAdapter, quorumLiveAdapter];

/** The live adapter of a service ("kv" when the supervisor does not say). */
export function liveAdapterFor(service: string): LiveAdapter {
  return LIVE_ADAPTERS.find((a) => a.service === service) ?? genericLiveAdapter(service);
}
