// Public surface of src/gossip: SWIM membership (Das, Gupta, Motivala 2002) with Lifeguard
// (Dadgar, Phillips, Currey 2018) as a sans-I/O core, its configuration presets, and its
// simulated cluster with the membership checker run by chaos.
export { failGossip, GossipError, isGossipError, type GossipErrorCode } from './errors.js';
export { GOSSIP_PRESETS, LAN_GOSSIP_CONFIG, LOCAL_GOSSIP_CONFIG, resolveGossipConfig, WAN_GOSSIP_CONFIG, type GossipConfig } from './config.js';
export {
  MAX_ID_LENGTH,
  MAX_INCARNATION,
  MAX_SEEDS,
  MAX_UPDATES_PER_MESSAGE,
  messageProblem,
  requestProblem,
  updateProblem,
  type GossipMessage,
  type GossipPersistOp,
  type GossipRequest,
  type GossipResponse,
  type MemberState,
  type MemberUpdate,
  type MemberView,
} from './messages.js';
export { eventKindFor, mustRefute, precedence, type GossipEventKind, type Precedence, type StateAt } from './rules.js';
export { DisseminationQueue, retransmitLimit, updateBytes } from './dissemination.js';
export { Awareness, AWARENESS_DELTA, Suspicion, suspicionBoundsMs, suspicionTimeoutMs } from './lifeguard.js';
export { ProbeOrder } from './probe-order.js';
export { MemberTable, type GossipEvent, type MemberRecord } from './members.js';
export { Membership, type MembershipStats, type UpdateSource } from './membership.js';
export { gossipSpec, SwimNode, type SwimStats } from './swim.js';
export {
  GossipCrdtNode,
  gossipCrdtSpec,
  type CrdtGossipMessage,
  type CrdtGossipOptions,
  type CrdtGossipStats,
  type GossipNodeMessage,
  type GossipNodePersistOp,
  type GossipNodeRequest,
  type GossipNodeResponse,
} from './crdt-node.js';
export { GOSSIP_SIM_CONFIG, GossipCluster, membershipBoundMs, type GossipClusterOptions, type MembershipProblem, type MembershipProblemKind } from './sim/cluster.js';
export { GOSSIP_CHAOS, gossipSimProtocol, runGossipChaos, startMembershipChurn } from './sim/chaos.js';
export { docBoundMs, DocWorkload, GOSSIP_CRDT_CHAOS, gossipCrdtSimProtocol, liveReplicas, runGossipCrdtChaos } from './sim/crdt-chaos.js';
