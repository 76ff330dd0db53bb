// A ring as data: the configuration every node builds the same ring from (strategy, members in
// join order, and the strategy's numbers), checked field by field when it arrives from a file or
// a peer, and a JSON description of a built ring for the CLI and the visualizer.
import { failRing } from './errors.js';
import { PartitionRing } from './partition-ring.js';
import { RangeRing, type KeyRange } from './range-ring.js';
import { TokenRing } from './token-ring.js';
import { describeValue, MAX_MEMBERS, type NodeId, type Ring } from './types.js';

export type RingConfig =
  | { readonly strategy: 'tokens'; readonly members: readonly NodeId[]; readonly vnodesPerNode: number }
  | { readonly strategy: 'partitions'; readonly members: readonly NodeId[]; readonly partitionCount: number; readonly targetN?: number }
  | { readonly strategy: 'ranges'; readonly members: readonly NodeId[]; readonly splitKeys?: readonly string[] };

/** Dynamo's defaults as the issue sets them: Q = 256 partitions per node. */
export const DEFAULT_PARTITIONS_PER_NODE = 256;
export const DEFAULT_VNODES_PER_NODE = 256;

export function buildRing(config: RingConfig): Ring {
  switch (config.strategy) {
    case 'tokens':
      return TokenRing.of(config.members, { vnodesPerNode: config.vnodesPerNode });
    case 'partitions':
      return PartitionRing.of(config.members, { partitionCount: config.partitionCount, ...(config.targetN === undefined ? {} : { targetN: config.targetN }) });
    case 'ranges':
      return RangeRing.of(config.members, config.splitKeys ?? []);
  }
}

/** Checks an untrusted value (parsed JSON) is a RingConfig; throws RING_DECODE_FAILED saying what is wrong. */
export function decodeRingConfig(value: unknown): RingConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) failRing('RING_DECODE_FAILED', `a ring configuration is an object, got ${describeValue(value)}`);
  const record = value as Record<string, unknown>;
  const members = record['members'];
  if (!Array.isArray(members) || members.length === 0 || members.length > MAX_MEMBERS || !members.every((m) => typeof m === 'string')) {
    failRing('RING_DECODE_FAILED', `members is a list of 1 to ${MAX_MEMBERS} node ids`);
  }
  const known = (fields: readonly string[]): void => {
    for (const field of Object.keys(record)) if (!['strategy', 'members', ...fields].includes(field)) failRing('RING_DECODE_FAILED', `unknown field ${describeValue(field)}`);
  };
  const integer = (field: string, optional: boolean): number | undefined => {
    const x = record[field];
    if (x === undefined && optional) return undefined;
    if (typeof x !== 'number' || !Number.isInteger(x)) failRing('RING_DECODE_FAILED', `${field} is an integer, got ${describeValue(x)}`);
    return x;
  };
  switch (record['strategy']) {
    case 'tokens':
      known(['vnodesPerNode']);
      return { strategy: 'tokens', members, vnodesPerNode: integer('vnodesPerNode', false) as number };
    case 'partitions': {
      known(['partitionCount', 'targetN']);
      const targetN = integer('targetN', true);
      return { strategy: 'partitions', members, partitionCount: integer('partitionCount', false) as number, ...(targetN === undefined ? {} : { targetN }) };
    }
    case 'ranges': {
      known(['splitKeys']);
      const splitKeys = record['splitKeys'];
      if (splitKeys !== undefined && (!Array.isArray(splitKeys) || !splitKeys.every((k) => typeof k === 'string'))) failRing('RING_DECODE_FAILED', 'splitKeys is a list of strings');
      return { strategy: 'ranges', members, ...(splitKeys === undefined ? {} : { splitKeys }) };
    }
    default:
      return failRing('RING_DECODE_FAILED', `strategy is "tokens", "partitions" or "ranges", got ${describeValue(record['strategy'])}`);
  }
}

/** A built ring as JSON-ready data: what `synod ring` prints and the visualizer draws. */
export type RingDescription =
  | { readonly strategy: 'tokens'; readonly members: readonly NodeId[]; readonly tokens: readonly { readonly position: number; readonly node: NodeId }[] }
  | { readonly strategy: 'partitions'; readonly members: readonly NodeId[]; readonly partitions: readonly { readonly start: number; readonly node: NodeId }[] }
  | { readonly strategy: 'ranges'; readonly members: readonly NodeId[]; readonly ranges: readonly KeyRange[] };

export function describeRing(ring: Ring): RingDescription {
  if (ring instanceof TokenRing) {
    const tokens = ring.members.flatMap((node) => ring.tokensOf(node).map((position) => ({ position, node })));
    tokens.sort((a, b) => a.position - b.position);
    return { strategy: 'tokens', members: ring.members, tokens };
  }
  if (ring instanceof PartitionRing) {
    const partitions = Array.from({ length: ring.partitionCount }, (_, i) => ({ start: ring.partitionStart(i), node: ring.ownerOfPartition(i) }));
    return { strategy: 'partitions', members: ring.members, partitions };
  }
  if (ring instanceof RangeRing) return { strategy: 'ranges', members: ring.members, ranges: ring.list() };
  return failRing('RING_INVALID_OPTION', `no description for a ring of strategy ${ring.strategy}`);
}
