// Background KV clients for scenarios and chaos runs: each client loops over random operations
// (get, put, cas, incr, delete) on a few keys, with unique written values so the
// linearizability check stays decisive, until told to stop.
import type { JsonValue } from '../core/index.js';
import type { RandomStream } from '../sim/rng.js';
import type { SubmitOptions, OpHandle } from '../sim/client.js';
import type { KvRequest, KvResult } from '../kv/store.js';
import type { KvClient } from './cluster.js';

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: number;
  /** Upper bound of the random pause between a client's operations. */
  readonly thinkMs: number;
  /** Client process names are `${prefix}${n}`. */
  readonly prefix?: string;
  /** No operation starts at or after this virtual time (default: until stopped). */
  readonly untilMs?: number;
}

export interface Workload<Client = KvClient> {
  stop(): void;
  readonly clients: readonly Client[];
}

/** A KV client of any protocol (Raft's, Multi-Paxos's): the session client's submit. */
export interface KvSubmitter {
  readonly busy: boolean;
  submit(op: KvRequest, options?: SubmitOptions<KvRequest, KvResult>): OpHandle<KvRequest, KvResult>;
}

/** What a workload needs of a simulated cluster (RaftCluster, PaxosCluster). */
export interface WorkloadHost<Client extends KvSubmitter> {
  readonly sim: { readonly random: { stream(name: string): RandomStream }; after(ms: number, fn: () => void): void };
  readonly nowMs: number;
  client(name: string): Client;
}

export function startWorkload<Client extends KvSubmitter = KvClient>(cluster: WorkloadHost<Client>, options: WorkloadOptions): Workload<Client> {
  const rng = cluster.sim.random.stream(`workload:${options.prefix ?? 'w'}`);
  const lastSeen = new Map<string, JsonValue>();
  let stopped = false;
  let nextValue = 1;
  const untilMs = options.untilMs ?? Infinity;
  const loop = (client: Client): void => {
    if (stopped || cluster.nowMs >= untilMs) return;
    const op = randomKvOp(rng, options.keys, lastSeen, () => nextValue++);
    client.submit(op, {
      onDone: (handle) => {
        if (handle.outcome === 'ok' && handle.result !== undefined) noteSeen(lastSeen, op, handle.result as unknown as JsonValue);
        cluster.sim.after(rng.int(0, options.thinkMs), () => loop(client));
      },
    });
  };
  const clients: Client[] = [];
  for (let c = 1; c <= options.clients; c++) {
    const client = cluster.client(`${options.prefix ?? 'w'}${c}`);
    clients.push(client);
    cluster.sim.after(rng.int(0, options.thinkMs), () => loop(client));
  }
  return {
    clients,
    stop: () => {
      stopped = true;
    },
  };
}

/** A random operation of the checker's kv model; cas mostly uses the last value seen, so it often swaps. */
export function randomKvOp(rng: RandomStream, keys: number, lastSeen: ReadonlyMap<string, JsonValue>, fresh: () => number): KvRequest {
  const key = `k${rng.int(0, keys - 1)}`;
  const roll = rng.int(1, 100);
  if (roll <= 35) return { op: 'get', key };
  if (roll <= 60) return { op: 'put', key, value: fresh() };
  if (roll <= 75) return { op: 'cas', key, from: rng.chance(0.8) ? (lastSeen.get(key) ?? null) : fresh(), to: fresh() };
  if (roll <= 90) return { op: 'incr', key, by: rng.int(1, 3) };
  return { op: 'delete', key };
}

function noteSeen(lastSeen: Map<string, JsonValue>, op: KvRequest, result: JsonValue): void {
  if (!('key' in op) || typeof result !== 'object' || result === null || Array.isArray(result)) return;
  if (op.op === 'get' || op.op === 'incr') lastSeen.set(op.key, (result['value'] as JsonValue | undefined) ?? null);
  else if (op.op === 'put') lastSeen.set(op.key, op.value);
  else if (op.op === 'delete') lastSeen.set(op.key, null);
}
