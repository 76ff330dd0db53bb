// The leaderless store as a ProtocolSpec: what the simulator and the node host run. Its durable
// ops are a plain log (key states, hints, the dot counter's floor), replayed at restart.
import type { ProtocolSpec } from '../core/index.js';
import { resolveQuorumConfig, type QuorumConfig } from './config.js';
import type { QuorumMessage, QuorumPersistOp } from './messages.js';
import { QuorumNode } from './node.js';
import type { QuorumRequest, QuorumResponse } from './requests.js';

export const QUORUM_TICK_INTERVAL_MS = 10;

export function quorumSpec(config: Partial<QuorumConfig> = {}): ProtocolSpec<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp, QuorumNode> {
  return {
    name: 'quorum',
    tickIntervalMs: QUORUM_TICK_INTERVAL_MS,
    create: (env, durable) => new QuorumNode(env, resolveQuorumConfig(config, env.members.length), durable),
  };
}
