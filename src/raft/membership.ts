// Cluster membership: configurations as data, their JSON form in config entries and snapshots,
// quorums, and the history of configurations a log holds. A configuration takes effect as soon
// as its entry is in a node's log (committed or not); truncating the entry reverts it.
import type { NodeId } from '../core/index.js';
import type { JsonValue } from '../core/index.js';
import { assertInvariant } from '../core/index.js';
import { RaftError } from './errors.js';
import type { Membership } from './types.js';

export function makeMembership(voters: readonly NodeId[], learners: readonly NodeId[] = []): Membership {
  const v = [...new Set(voters)].sort();
  const l = [...new Set(learners)].filter((id) => !v.includes(id)).sort();
  return { voters: v, learners: l };
}

export function membershipToJson(m: Membership): JsonValue {
  return { voters: [...m.voters], learners: [...m.learners] };
}

function idList(value: JsonValue | undefined, what: string): NodeId[] {
  if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) {
    throw new RaftError('BAD_SNAPSHOT', `configuration: ${what} must be a list of node ids, got ${JSON.stringify(value)}`);
  }
  return value as NodeId[];
}

export function membershipFromJson(value: JsonValue): Membership {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RaftError('BAD_SNAPSHOT', `configuration must be {voters, learners}, got ${JSON.stringify(value)}`);
  }
  return makeMembership(idList(value['voters'], 'voters'), idList(value['learners'], 'learners'));
}

export function isVoter(m: Membership, id: NodeId): boolean {
  return m.voters.includes(id);
}

export function isMember(m: Membership, id: NodeId): boolean {
  return m.voters.includes(id) || m.learners.includes(id);
}

export function quorumSize(m: Membership): number {
  return Math.floor(m.voters.length / 2) + 1;
}

/** Everyone the leader replicates to: voters and learners other than itself. */
export function peersOf(m: Membership, self: NodeId): NodeId[] {
  return [...m.voters, ...m.learners].filter((id) => id !== self);
}

export function describeMembership(m: Membership): string {
  return `voters ${m.voters.join(',') || '-'}${m.learners.length > 0 ? `; learners ${m.learners.join(',')}` : ''}`;
}

/**
 * The configurations a log holds: the one in its snapshot, then one per config entry still in
 * the log, in index order. The latest is the one in effect.
 */
export class ConfigHistory {
  private base: Membership;
  private baseIndex: number;
  private readonly changes: { index: number; config: Membership }[] = [];
  /** The current configuration as text, kept until the configuration object changes (it is annotated on every call). */
  private text: { readonly config: Membership; readonly text: string } | undefined;

  constructor(base: Membership, baseIndex = 0) {
    this.base = base;
    this.baseIndex = baseIndex;
  }

  get current(): Membership {
    return this.changes[this.changes.length - 1]?.config ?? this.base;
  }

  /** The current configuration as text (describeMembership), rebuilt only when it changes. */
  describeCurrent(): string {
    const config = this.current;
    if (this.text?.config !== config) this.text = { config, text: describeMembership(config) };
    return this.text.text;
  }

  /** Index of the entry that set the current configuration (the snapshot index for the base). */
  get currentIndex(): number {
    return this.changes[this.changes.length - 1]?.index ?? this.baseIndex;
  }

  /** The configuration in effect at `index` (the latest one set at or before it). */
  at(index: number): Membership {
    for (let k = this.changes.length - 1; k >= 0; k--) {
      const change = this.changes[k] as { index: number; config: Membership };
      if (change.index <= index) return change.config;
    }
    return this.base;
  }

  add(index: number, config: Membership): void {
    assertInvariant(index > this.currentIndex, () => `config entry at ${index} is not after the current one at ${this.currentIndex}`);
    this.changes.push({ index, config });
  }

  /** Forgets configurations set at `index` or later (their entries were truncated). */
  truncateFrom(index: number): void {
    while (this.changes.length > 0 && (this.changes[this.changes.length - 1] as { index: number }).index >= index) this.changes.pop();
  }

  /** The log was compacted (or replaced by a snapshot) up to `index`, whose configuration is `config`. */
  compactTo(index: number, config: Membership): void {
    this.base = config;
    this.baseIndex = index;
    while (this.changes.length > 0 && (this.changes[0] as { index: number }).index <= index) this.changes.shift();
  }

  /** Drops everything: a snapshot replaced the whole log. */
  reset(index: number, config: Membership): void {
    this.changes.length = 0;
    this.base = config;
    this.baseIndex = index;
  }
}
