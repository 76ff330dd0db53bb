// Every service the generic node process can run, in one list: `synod node --service NAME` and
// `synod cluster up --service NAME` look them up here. A new primitive becomes a real process by
// adding its ServiceDefinition to this list (see docs/adding-a-primitive.md).
import type { Message, ProtocolCore } from '../core/index.js';
import { clockSyncService } from './clock-sync-service.js';
import { kvService } from './kv-service.js';
import { paxosKvService } from './paxos-kv-service.js';
import { quorumService } from './quorum-service.js';
import { startServiceNode, type NodeConfig, type RunningNode } from './node.js';
import type { ServiceDefaults, ServiceDefinition } from './service.js';

/** A service with its types erased, as the CLI and the supervisor use it. */
export interface RegisteredService {
  readonly name: string;
  readonly description: string;
  readonly defaults: ServiceDefaults;
  start(config: NodeConfig): Promise<RunningNode>;
}

function register<M extends Message, Req, Res, P, Core extends ProtocolCore<M, Req, Res, P>>(definition: ServiceDefinition<M, Req, Res, P, Core>): RegisteredService {
  return {
    name: definition.name,
    description: definition.description,
    defaults: definition.defaults,
    start: (config) => startServiceNode(definition, config),
  };
}

export const NODE_SERVICES: readonly RegisteredService[] = [register(kvService), register(clockSyncService), register(quorumService), register(paxosKvService)];

export const DEFAULT_SERVICE = 'kv';

export function nodeService(name: string): RegisteredService | undefined {
  return NODE_SERVICES.find((s) => s.name === name);
}

export function nodeServiceNames(): string[] {
  return NODE_SERVICES.map((s) => s.name);
}
