// The settings of SWIM membership with Lifeguard, with the meaning hashicorp/memberlist gives its
// fields of the same names, its LAN / WAN / LOCAL presets, and the check that refuses a bad
// configuration naming the field. A few settings memberlist does not have are marked as ours.
import { failGossip } from './errors.js';

export interface GossipConfig {
  /** Between two probes started by this node (ProbeInterval); scaled by the local health multiplier. */
  readonly probeIntervalMs: number;
  /** How long a direct ping waits for its ack before asking others to probe (ProbeTimeout); scaled too. */
  readonly probeTimeoutMs: number;
  /** Members asked to ping-req a target that missed its direct ack (IndirectChecks); Lifeguard's K. */
  readonly indirectChecks: number;
  /** The shortest suspicion lasts suspicionMult × max(1, log10 N) probe intervals (SuspicionMult). */
  readonly suspicionMult: number;
  /** Lifeguard: a suspicion starts at this multiple of the shortest and falls toward it with confirmations (SuspicionMaxTimeoutMult). */
  readonly suspicionMaxTimeoutMult: number;
  /** Each membership update is sent retransmitMult × ceil(log10(N + 1)) times (RetransmitMult). */
  readonly retransmitMult: number;
  /** Between two gossip rounds (GossipInterval); a round with nothing to say sends nothing. */
  readonly gossipIntervalMs: number;
  /** Members each gossip round goes to (GossipNodes). */
  readonly gossipNodes: number;
  /** Members declared dead still get gossip this long, so that a live one learns it and refutes (GossipToTheDeadTime). */
  readonly gossipToTheDeadMs: number;
  /** Between two full state exchanges with a random member (PushPullInterval); 0: none. */
  readonly pushPullIntervalMs: number;
  /** How long a join waits for a seed's state (TCPTimeout). */
  readonly tcpTimeoutMs: number;
  /** Lifeguard: the local health multiplier ranges over 0..awarenessMaxMultiplier − 1 (AwarenessMaxMultiplier). */
  readonly awarenessMaxMultiplier: number;
  /** Bytes of piggybacked updates one message may carry (UDPBufferSize, as JSON text). */
  readonly udpBufferSize: number;
  /** Longest member metadata, in UTF-8 bytes (memberlist's MetaMaxSize). */
  readonly maxMetaBytes: number;
  /** Ours (Serf's ReconnectInterval): between two full state exchanges with a random member held dead, so that partitions heal. 0: none. */
  readonly reconnectIntervalMs: number;
  /** Ours (Serf's reconnect/tombstone timeouts): a dead or left member is forgotten this long after. */
  readonly deadMemberRetentionMs: number;
  /** Ours: members this node keeps at most (dead and left ones are forgotten first when full). */
  readonly maxMembers: number;
  /** Ours: events kept for the application (the oldest are dropped). */
  readonly maxEvents: number;
  /** Ours: Lifeguard on (health multiplier, dynamic suspicion timeout, nacks, buddy system) or plain SWIM with suspicion. */
  readonly lifeguard: boolean;
  /** Ours: between two ticks of the host; the resolution of every timer above. */
  readonly tickIntervalMs: number;
}

/** memberlist's DefaultLANConfig, in ms. */
export const LAN_GOSSIP_CONFIG: GossipConfig = {
  probeIntervalMs: 1_000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  tcpTimeoutMs: 10_000,
  awarenessMaxMultiplier: 8,
  udpBufferSize: 1_400,
  maxMetaBytes: 512,
  reconnectIntervalMs: 30_000,
  deadMemberRetentionMs: 24 * 60 * 60 * 1000,
  maxMembers: 4_096,
  maxEvents: 1_024,
  lifeguard: true,
  tickIntervalMs: 50,
};

/** memberlist's DefaultWANConfig: the LAN one with slower probes, longer suspicion and a wider fan-out. */
export const WAN_GOSSIP_CONFIG: GossipConfig = {
  ...LAN_GOSSIP_CONFIG,
  probeIntervalMs: 5_000,
  probeTimeoutMs: 3_000,
  suspicionMult: 6,
  gossipIntervalMs: 500,
  gossipNodes: 4,
  gossipToTheDeadMs: 60_000,
  pushPullIntervalMs: 60_000,
  tcpTimeoutMs: 30_000,
  tickIntervalMs: 100,
};

/** memberlist's DefaultLocalConfig (one host, loopback): short timeouts, one indirect check, fewer retransmits. */
export const LOCAL_GOSSIP_CONFIG: GossipConfig = {
  ...LAN_GOSSIP_CONFIG,
  probeTimeoutMs: 200,
  indirectChecks: 1,
  retransmitMult: 2,
  suspicionMult: 3,
  gossipIntervalMs: 100,
  gossipToTheDeadMs: 15_000,
  pushPullIntervalMs: 15_000,
  tcpTimeoutMs: 1_000,
  tickIntervalMs: 20,
};

export const GOSSIP_PRESETS = { lan: LAN_GOSSIP_CONFIG, wan: WAN_GOSSIP_CONFIG, local: LOCAL_GOSSIP_CONFIG } as const;

const HOUR_MS = 60 * 60 * 1000;

/** Fills the LAN defaults under `partial` and checks the result; throws GOSSIP_INVALID_OPTION naming the field. */
export function resolveGossipConfig(partial: Partial<GossipConfig> = {}, base: GossipConfig = LAN_GOSSIP_CONFIG): GossipConfig {
  const c: GossipConfig = { ...base, ...partial };
  const int = (name: keyof GossipConfig, min: number, max: number): void => {
    const v = c[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) failGossip('GOSSIP_INVALID_OPTION', `${name} is an integer from ${min} to ${max}, got ${String(v)}`);
  };
  int('probeIntervalMs', 1, HOUR_MS);
  int('probeTimeoutMs', 1, HOUR_MS);
  int('indirectChecks', 0, 64);
  int('suspicionMult', 1, 1_000);
  int('suspicionMaxTimeoutMult', 1, 1_000);
  int('retransmitMult', 1, 1_000);
  int('gossipIntervalMs', 1, HOUR_MS);
  int('gossipNodes', 0, 64);
  int('gossipToTheDeadMs', 0, 24 * HOUR_MS);
  int('pushPullIntervalMs', 0, 24 * HOUR_MS);
  int('tcpTimeoutMs', 1, HOUR_MS);
  int('awarenessMaxMultiplier', 1, 1_000);
  int('udpBufferSize', 256, 65_507);
  int('maxMetaBytes', 0, 16_384);
  int('reconnectIntervalMs', 0, 24 * HOUR_MS);
  int('deadMemberRetentionMs', 0, 30 * 24 * HOUR_MS);
  int('maxMembers', 2, 1_000_000);
  int('maxEvents', 0, 1_000_000);
  int('tickIntervalMs', 1, 60_000);
  if (typeof c.lifeguard !== 'boolean') failGossip('GOSSIP_INVALID_OPTION', `lifeguard is a boolean, got ${String(c.lifeguard)}`);
  crossChecks(c);
  return c;
}

function crossChecks(c: GossipConfig): void {
  // a probe must be able to fail and try indirect checks within its own interval
  if (c.probeTimeoutMs >= c.probeIntervalMs) failGossip('GOSSIP_INVALID_OPTION', `probeTimeoutMs (${c.probeTimeoutMs}) must be below probeIntervalMs (${c.probeIntervalMs})`);
  // timers are checked at ticks: a coarser tick would stretch every timeout
  const finest = Math.min(c.probeTimeoutMs, c.gossipIntervalMs);
  if (c.tickIntervalMs > finest) failGossip('GOSSIP_INVALID_OPTION', `tickIntervalMs (${c.tickIntervalMs}) must not exceed probeTimeoutMs and gossipIntervalMs (${finest})`);
  // an alive update with the largest metadata must fit in one message
  if (c.udpBufferSize < c.maxMetaBytes + 256) failGossip('GOSSIP_INVALID_OPTION', `udpBufferSize (${c.udpBufferSize}) must leave room for maxMetaBytes (${c.maxMetaBytes}) + 256`);
}
