// Consistent hashing with virtual nodes (Dynamo's strategy 1): each node places T tokens at the
// hash of "node#i"; a key belongs to the first token at or after its position, and its preference
// list walks on from there, skipping the vnodes of nodes already picked. Joining adds T tokens
// and moves only the arcs they cut; leaving removes them.
import { assertInvariant } from '../core/assert.js';
import { failRing } from './errors.js';
import { positionOf, RING_SIZE } from './hash.js';
import { checkMember, checkNewMember, checkPosition, checkPreferenceLength, describeValue, walkDistinct, type HashRing, type NodeId } from './types.js';

export const MAX_VNODES_PER_NODE = 4_096;

export interface TokenRingOptions {
  /** Tokens (virtual nodes) per physical node; more evens the load and costs memory. */
  readonly vnodesPerNode: number;
}

interface Token {
  readonly position: number;
  readonly owner: NodeId;
  readonly index: number;
}

export class TokenRing implements HashRing {
  readonly strategy = 'tokens' as const;
  /** Token positions, ascending (ties broken by owner, then vnode index, so every node sorts alike). */
  private readonly positions: Float64Array;
  private readonly owners: readonly NodeId[];

  private constructor(
    readonly members: readonly NodeId[],
    readonly vnodesPerNode: number,
    private readonly tokens: readonly Token[],
  ) {
    this.positions = Float64Array.from(tokens, (t) => t.position);
    this.owners = tokens.map((t) => t.owner);
  }

  /** A ring of `members` (in join order; for tokens the order does not change the placement). */
  static of(members: readonly NodeId[], options: TokenRingOptions): TokenRing {
    checkVnodes(options.vnodesPerNode);
    if (members.length === 0) failRing('RING_EMPTY', 'a ring needs at least one member');
    const seen: NodeId[] = [];
    for (const id of members) {
      checkNewMember(seen, id);
      seen.push(id);
    }
    return new TokenRing(seen, options.vnodesPerNode, sortTokens(seen.flatMap((id) => tokensOf(id, options.vnodesPerNode))));
  }

  get tokenCount(): number {
    return this.positions.length;
  }

  /** The vnode positions of one member, ascending. */
  tokensOf(id: NodeId): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.positions.length; i++) if (this.owners[i] === id) out.push(this.positions[i] as number);
    return out;
  }

  preferenceList(key: string, length: number): NodeId[] {
    return this.preferenceListAt(positionOf(key), length);
  }

  preferenceListAt(position: number, length: number): NodeId[] {
    checkPosition(position);
    checkPreferenceLength(length);
    return walkDistinct((i) => this.owners[i] as NodeId, this.owners.length, this.successorIndex(position), length, this.members.length);
  }

  segmentStarts(): number[] {
    // token i owns (position[i-1], position[i]]: its segment starts one past its predecessor
    const starts = new Set<number>([0]);
    for (const p of this.positions) if (p + 1 < RING_SIZE) starts.add(p + 1);
    return [...starts].sort((a, b) => a - b);
  }

  withNode(id: NodeId): TokenRing {
    checkNewMember(this.members, id);
    return new TokenRing([...this.members, id], this.vnodesPerNode, sortTokens([...this.tokens, ...tokensOf(id, this.vnodesPerNode)]));
  }

  withoutNode(id: NodeId): TokenRing {
    checkMember(this.members, id);
    return new TokenRing(
      this.members.filter((m) => m !== id),
      this.vnodesPerNode,
      this.tokens.filter((t) => t.owner !== id),
    );
  }

  /** The index of the first token at or after `position`, wrapping to 0 past the last. */
  private successorIndex(position: number): number {
    let lo = 0;
    let hi = this.positions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.positions[mid] as number) < position) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.positions.length ? 0 : lo;
  }
}

function checkVnodes(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_VNODES_PER_NODE) {
    failRing('RING_INVALID_OPTION', `vnodesPerNode is an integer from 1 to ${MAX_VNODES_PER_NODE}, got ${describeValue(count)}`);
  }
}

function tokensOf(id: NodeId, count: number): Token[] {
  return Array.from({ length: count }, (_, index) => ({ position: positionOf(`${id}#${index}`), owner: id, index }));
}

function sortTokens(tokens: Token[]): Token[] {
  tokens.sort((a, b) => a.position - b.position || (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : a.index - b.index));
  for (let i = 1; i < tokens.length; i++) {
    assertInvariant((tokens[i - 1] as Token).position <= (tokens[i] as Token).position, () => 'token positions sorted');
  }
  return tokens;
}
