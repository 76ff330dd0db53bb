// The shards a multi-shard transaction spans: independent Synod Raft KV groups by name, one of
// which keeps the decisions (the replicated coordinator log), and the keys the protocol writes
// on them. Read from a JSON file by the CLI (`--shards FILE`).
import { readFileSync } from 'node:fs';
import { SynodClient, type SynodClientOptions } from '../client/index.js';
import { TxnKvError } from './errors.js';

/** Names a shard may have: short, printable, no separator of `shard:key`. */
const SHARD_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Shards one set may hold at most. */
export const MAX_SHARDS = 64;

/** The protocol's own keys on every shard (a transaction's keys may not start with it). */
export const TXN_PREFIX = '_txn/';
export const lockKey = (key: string): string => `${TXN_PREFIX}lock/${key}`;
/** Per shard too: two shard names may stand for one cluster, and each keeps its own intent. */
export const intentKey = (txnId: string, shard: string): string => `${TXN_PREFIX}intent/${txnId}@${shard}`;
export const outcomeKey = (txnId: string): string => `${TXN_PREFIX}outcome/${txnId}`;
export const decisionKey = (txnId: string): string => `${TXN_PREFIX}decision/${txnId}`;
export const INTENT_PREFIX = `${TXN_PREFIX}intent/`;
export const DECISION_PREFIX = `${TXN_PREFIX}decision/`;

/** What a shards file holds: `{ "shards": { "a": ["http://127.0.0.1:2380", ...], ... }, "decisions": "a" }`. */
export interface ShardSetConfig {
  readonly shards: Readonly<Record<string, readonly string[]>>;
  /** The shard whose group keeps the decisions; default the first. */
  readonly decisions?: string;
}

/** Named clients, one per group, and which group keeps the decisions. */
export class ShardSet {
  readonly names: readonly string[];
  readonly decisions: string;
  private readonly clients: ReadonlyMap<string, SynodClient>;

  constructor(config: ShardSetConfig, clientOptions: Omit<SynodClientOptions, 'endpoints'> = {}) {
    const problem = shardSetProblem(config);
    if (problem !== undefined) throw new TxnKvError('BAD_SHARDS', problem);
    this.names = Object.keys(config.shards);
    this.decisions = config.decisions ?? (this.names[0] as string);
    this.clients = new Map(this.names.map((name) => [name, new SynodClient({ ...clientOptions, endpoints: config.shards[name] as readonly string[] })]));
  }

  client(shard: string): SynodClient {
    const client = this.clients.get(shard);
    if (client === undefined) throw new TxnKvError('UNKNOWN_SHARD', `no shard named ${JSON.stringify(shard)} (shards: ${this.names.join(', ')})`);
    return client;
  }

  decisionClient(): SynodClient {
    return this.client(this.decisions);
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}

/** Why `config` is not a shard set, or undefined when it is one. */
export function shardSetProblem(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return 'a shard set is an object with "shards" (and optionally "decisions")';
  const c = config as Record<string, unknown>;
  for (const field of Object.keys(c)) if (field !== 'shards' && field !== 'decisions') return `unknown field ${JSON.stringify(field)} in the shard set`;
  const shards = c['shards'];
  if (typeof shards !== 'object' || shards === null || Array.isArray(shards)) return '"shards" must map each shard name to its list of endpoints';
  const names = Object.keys(shards);
  if (names.length === 0) return '"shards" names no shard';
  if (names.length > MAX_SHARDS) return `at most ${MAX_SHARDS} shards`;
  for (const name of names) {
    if (!SHARD_NAME.test(name)) return `shard name ${JSON.stringify(name.slice(0, 80))} must be 1-64 letters, digits, "-" or "_"`;
    const endpoints = (shards as Record<string, unknown>)[name];
    if (!Array.isArray(endpoints) || endpoints.length === 0 || endpoints.length > 16 || !endpoints.every((e) => typeof e === 'string' && /^https?:\/\/\S{1,200}$/.test(e))) return `shard ${name}: give 1-16 endpoints, each an http:// or https:// URL`;
  }
  const decisions = c['decisions'];
  if (decisions !== undefined && (typeof decisions !== 'string' || !names.includes(decisions))) return `"decisions" must name one of the shards (${names.join(', ')})`;
  return undefined;
}

/** Reads a shards file; BAD_SHARDS with the reason when it cannot be used. */
export function readShardSetFile(path: string): ShardSetConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TxnKvError('BAD_SHARDS', `cannot read the shards file ${path}: ${(err as Error).message}`);
  }
  if (text.length > 1_000_000) throw new TxnKvError('BAD_SHARDS', `the shards file ${path} is over 1 MB`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TxnKvError('BAD_SHARDS', `the shards file ${path} is not JSON: ${(err as Error).message}`);
  }
  const problem = shardSetProblem(parsed);
  if (problem !== undefined) throw new TxnKvError('BAD_SHARDS', `${path}: ${problem}`);
  return parsed as ShardSetConfig;
}
