// What live mode reads besides the nodes' status, as plain data: a live adapter that names
// feeds (LiveAdapter.feeds) gets their latest state with every view and draws its panels from
// it. For the kv service: a watch stream of a key prefix (GET /api/watch, the node's JSON lines
// passed through by the supervisor) and the lease table (GET /api/leases and, per lease, GET
// /api/leases/:id?keys=true), which the live source (source/live-feeds.ts) keeps open or polls
// while live mode is showing. And the locks: a watch of the lock recipes' keys from the first
// revision, folded into the keys that exist now with their create revisions (live-locks.ts).

/** The feeds a live adapter can ask for. */
export type LiveFeedKind = 'watch' | 'leases' | 'locks';

/** One change a watch stream delivered, or a line about the stream itself (where it started or resumed). */
export type LiveWatchEntry =
  | {
      readonly kind: 'event';
      readonly revision: number;
      readonly type: 'put' | 'delete';
      readonly key: string;
      /** The value put (null for a delete). */
      readonly value: unknown;
      /** The node that served it. */
      readonly node: string | null;
    }
  | {
      readonly kind: 'opened';
      /** The how-manieth stream since Watch was pressed (1, 2, ...). */
      readonly n: number;
      readonly node: string | null;
      /** The first revision the stream sends. */
      readonly fromRevision: number;
      /** Opened again after the previous stream ended or broke off, and why it did. */
      readonly resumedAfter: string | null;
    };

export interface LiveWatchState {
  readonly prefix: string;
  /**
   * 'idle': not open (live mode hidden, or not started); 'connecting'; 'open': streaming;
   * 'retrying': the stream ended or broke off and opens again shortly; 'failed': refused (a bad
   * prefix, no permission, history compacted), until Watch is pressed again.
   */
  readonly phase: 'idle' | 'connecting' | 'open' | 'retrying' | 'failed';
  /** One line on the stream now, for the panel's status line. */
  readonly status: string;
  /** The most recent entries, oldest first. */
  readonly entries: readonly LiveWatchEntry[];
  /** Events received since Watch (the entries keep the last ones). */
  readonly events: number;
  /** Where the stream resumes: every change below it was received (null: none yet, from the next one). */
  readonly nextRevision: number | null;
}

/** One row of the lease table. */
export interface LiveLease {
  readonly id: number;
  /** The TTL it was granted with. */
  readonly ttlMs: number;
  /** The leader's time left when it was read (null: not known, see `problem`). */
  readonly remainingMs: number | null;
  /** The page's wall clock (ms) when the time left was read: the countdown runs from there. */
  readonly readAt: number;
  /** The attached keys (null: not known). */
  readonly keys: readonly string[] | null;
  /** Why the time left or keys are missing (the lease went away between the list and the read, a refusal). */
  readonly problem: string | null;
}

export interface LiveLeasesState {
  /** 'idle': not polled (live mode hidden); 'ok': the last poll answered; 'failed': it did not (the last table stays). */
  readonly phase: 'idle' | 'ok' | 'failed';
  /** One line on the last poll. */
  readonly status: string;
  /** The lease table of the last poll that answered (null: none yet). */
  readonly leases: readonly LiveLease[] | null;
  /** More leases exist than were read. */
  readonly more: boolean;
  /** The store's revision the list was read at. */
  readonly revision: number | null;
  /** The node that answered the list. */
  readonly via: string | null;
  /** The page's wall clock (ms) when the last list arrived. */
  readonly polledAt: number | null;
}

/** The key prefixes of the recipes in src/lock/kv-recipes.ts and src/election (their defaults), by kind. */
export const LOCK_RECIPE_PREFIXES = { lock: 'synod-lock/', semaphore: 'synod-semaphore/', rwlock: 'synod-rwlock/', election: 'synod-election/' } as const;
/** What the lock feed watches: every recipe prefix starts with it. */
export const LOCK_WATCH_PREFIX = 'synod-';

/** One recipe key that exists now: `<prefix><name>/<lease id>`, its create revision the contender's place and token. */
export interface LiveLockKey {
  readonly key: string;
  readonly createRevision: number;
  readonly lease: number | null;
  readonly value: unknown;
}

export interface LiveLocksState {
  /** The watch stream's phase and status (see LiveWatchState). */
  readonly phase: LiveWatchState['phase'];
  readonly status: string;
  /** The keys under the recipes' prefixes now, as the stream built them from the first revision. */
  readonly keys: readonly LiveLockKey[];
  /** More keys exist than are kept. */
  readonly truncated: boolean;
}

/** The feeds' state at one moment, for LiveAdapter.describePanels. */
export interface LiveFeeds {
  /** The page's wall clock now (ms): countdowns are drawn from it. */
  readonly nowMs: number;
  readonly watch?: LiveWatchState;
  readonly leases?: LiveLeasesState;
  readonly locks?: LiveLocksState;
}

/** The client action of the live Watch panel's button: `arg` is JSON {prefix, fromRevision} (fromRevision null: from the next revision). */
export const LIVE_WATCH_OP = 'liveWatch';

export interface LiveWatchRequest {
  readonly prefix: string;
  readonly fromRevision: number | null;
}

/** The request in a LIVE_WATCH_OP action's argument; null when it is not one. */
export function parseWatchRequest(arg: string | undefined): LiveWatchRequest | null {
  try {
    const v = JSON.parse(arg ?? '') as { prefix?: unknown; fromRevision?: unknown } | null;
    if (typeof v?.prefix !== 'string') return null;
    const from = v.fromRevision;
    if (from !== null && !(typeof from === 'number' && Number.isSafeInteger(from) && from >= 1)) return null;
    return { prefix: v.prefix, fromRevision: from };
  } catch {
    return null;
  }
}
