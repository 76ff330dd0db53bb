// Test helpers over the simulated store: one request at a time, run until it is answered.
import type { NodeId } from '../../core/index.js';
import type { QuorumConfig } from '../config.js';
import type { QuorumRequest, QuorumResponse } from '../requests.js';
import { QuorumCluster } from '../sim/cluster.js';

export function quorumCluster(nodes: number, config: Partial<QuorumConfig> = {}, seed = 1): QuorumCluster {
  return new QuorumCluster({ seed, nodes, config, trace: false });
}

/** Sends `request` to `node` and runs the simulation until the answer (or the client's timeout). */
export function call(cluster: QuorumCluster, node: NodeId, request: QuorumRequest): QuorumResponse | undefined {
  let answer: QuorumResponse | undefined;
  let done = false;
  cluster.send(node, request, 'test', (res) => {
    answer = res;
    done = true;
  });
  cluster.runUntil(() => done, 10_000);
  return answer;
}

export function put(cluster: QuorumCluster, node: NodeId, key: string, value: string, extra: Partial<QuorumRequest & { op: 'put' }> = {}): QuorumResponse | undefined {
  return call(cluster, node, { op: 'put', bucket: 'b', key, value, ...extra });
}

export function get(cluster: QuorumCluster, node: NodeId, key: string, extra: Partial<QuorumRequest & { op: 'get' }> = {}): QuorumResponse | undefined {
  return call(cluster, node, { op: 'get', bucket: 'b', key, ...extra });
}

/** The values a successful read returned (throws on anything else, with the answer). */
export function valuesOf(res: QuorumResponse | undefined): readonly string[] {
  if (res?.ok !== true || res.op !== 'get') throw new Error(`not a successful read: ${JSON.stringify(res)}`);
  return res.values;
}

export function contextOf(res: QuorumResponse | undefined): string {
  if (res?.ok !== true || (res.op !== 'get' && res.op !== 'write')) throw new Error(`not a read or write success: ${JSON.stringify(res)}`);
  return res.context;
}
