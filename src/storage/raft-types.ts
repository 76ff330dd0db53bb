// Raft's durable operations as the storage host sees them. These mirror the types in src/raft
// (being written in parallel); they are defined here so storage does not import src/raft yet,
// and the lead will unify the two once src/raft lands.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export interface LogEntry {
  readonly index: number;
  readonly term: number;
  readonly kind: 'command' | 'config' | 'noop';
  readonly data: JsonValue;
}

export interface HardState {
  readonly term: number;
  readonly vote: string | null;
  readonly commit: number;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly config: JsonValue;
}

export type RaftPersistOp =
  | { readonly kind: 'hardState'; readonly state: HardState }
  /** Appended in order; an entry at index i replaces the stored entry at i and every entry after it. */
  | { readonly kind: 'entries'; readonly entries: readonly LogEntry[] }
  /** A full checkpoint; supersedes all earlier ops. */
  | {
      readonly kind: 'snapshot';
      readonly meta: SnapshotMeta;
      readonly data: JsonValue;
      readonly hardState: HardState;
      readonly entriesAfter: readonly LogEntry[];
    };
