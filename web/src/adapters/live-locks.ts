// Live mode's Locks panel (the kv service): the locks, semaphores, read-write locks and elections
// the recipes of src/lock/kv-recipes.ts and src/election keep under their default prefixes, read
// only. The lock feed folds a watch of those keys from the first revision into the keys that
// exist now; a name's line is its keys in create-revision order, the holder the first (for a
// lock or an election), the token its create revision, and the lease's time left comes from the
// lease table the page polls (GET /api/leases/:id).
import { LOCK_RECIPE_PREFIXES, type LiveFeeds, type LiveLockKey } from './live-feeds.js';
import type { PanelDef, TableCell, TableContent, TableRow } from './types.js';

export const LIVE_LOCKS_PANEL: PanelDef = {
  id: 'locks',
  title: 'Locks',
  place: 'main',
  hint: 'The keys of Synod’s lock recipes (synod-lock/, synod-election/, synod-semaphore/, synod-rwlock/ by default), from a watch of them since the first revision: per name, its line in create-revision order. The create revision is the fencing token; a lock’s or an election’s holder is the first in line. The lease’s time left is the leader’s, from the lease table.',
};

/** Rows drawn at most. */
const LOCK_ROWS = 60;

type Kind = keyof typeof LOCK_RECIPE_PREFIXES;

interface Parsed {
  readonly kind: Kind;
  readonly name: string;
  readonly item: LiveLockKey;
}

/** `<prefix><escaped name>/<lease id>` as its kind and name; null for a key of no recipe. */
function parse(item: LiveLockKey): Parsed | null {
  for (const [kind, prefix] of Object.entries(LOCK_RECIPE_PREFIXES) as [Kind, string][]) {
    if (!item.key.startsWith(prefix)) continue;
    const rest = item.key.slice(prefix.length);
    const slash = rest.lastIndexOf('/');
    if (slash <= 0) return null;
    let name: string;
    try {
      name = decodeURIComponent(rest.slice(0, slash));
    } catch {
      name = rest.slice(0, slash);
    }
    return { kind, name, item };
  }
  return null;
}

/** Whether the contender at `index` of a line holds, by the recipe's rule (null: cannot tell). */
function holds(kind: Kind, line: readonly Parsed[], index: number): boolean | null {
  switch (kind) {
    case 'lock':
    case 'election':
      return index === 0;
    case 'rwlock': {
      // a writer holds when nobody is ahead; a reader when no writer is ahead
      const ahead = line.slice(0, index);
      return line[index]?.item.value === 'write' ? index === 0 : !ahead.some((p) => p.item.value === 'write');
    }
    case 'semaphore':
      // holds when fewer than `permits` are ahead, and permits are the callers' to say
      return null;
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function timeLeft(feeds: LiveFeeds, lease: number | null): TableCell {
  const l = lease === null ? undefined : feeds.leases?.leases?.find((x) => x.id === lease);
  if (l === undefined || l.remainingMs === null) return { text: '—', tone: 'dim', title: l?.problem ?? 'not in the lease table read' };
  const ms = Math.max(0, l.remainingMs - (feeds.nowMs - l.readAt));
  return { text: seconds(ms), tone: ms < Math.min(1000, l.ttlMs / 3) ? 'warn' : 'good', title: `TTL ${l.ttlMs} ms; the leader had ${l.remainingMs} ms left ${seconds(feeds.nowMs - l.readAt)} ago` };
}

export function liveLocksTable(feeds: LiveFeeds): TableContent {
  const columns = ['kind', 'name', 'place', 'holder (lease)', 'token', 'lease left', 'value'];
  const state = feeds.locks;
  if (state === undefined) return { kind: 'table', columns, rows: [], empty: 'The lock keys are read when live mode shows.' };
  const lines = new Map<string, Parsed[]>();
  for (const item of state.keys) {
    const p = parse(item);
    if (p === null) continue;
    const id = `${p.kind}\u0000${p.name}`;
    const line = lines.get(id) ?? [];
    line.push(p);
    lines.set(id, line);
  }
  const rows: TableRow[] = [];
  for (const id of [...lines.keys()].sort()) {
    const line = (lines.get(id) ?? []).sort((a, b) => a.item.createRevision - b.item.createRevision);
    line.forEach((p, i) => {
      const held = holds(p.kind, line, i);
      const place: TableCell = held === null ? { text: `#${i + 1} in line`, title: 'a semaphore holder is one of the first `permits` in line' } : held ? { text: 'holder', tone: 'good' } : { text: `waiter ${i}`, tone: 'warn' };
      const value = p.item.value === '' || p.item.value === null ? '' : JSON.stringify(p.item.value);
      rows.push({
        key: p.item.key,
        cells: [p.kind, { text: p.name, title: p.item.key }, place, p.item.lease === null ? '—' : String(p.item.lease), String(p.item.createRevision), timeLeft(feeds, p.item.lease), value],
      });
    });
  }
  const shown = rows.slice(0, LOCK_ROWS);
  const more = rows.length - shown.length;
  const tone = state.phase === 'failed' ? 'bad' : state.phase === 'retrying' ? 'warn' : state.phase === 'open' ? undefined : 'dim';
  const caption: TableCell = { text: `${state.keys.length} key${state.keys.length === 1 ? '' : 's'} under the recipes' prefixes${more > 0 || state.truncated ? ' (not all shown)' : ''} · ${state.status}`, ...(tone === undefined ? {} : { tone }) };
  return { kind: 'table', columns, rows: shown, caption, empty: 'No lock is held or waited for. Take one with the library (KvLock over SynodLeaseKv) and it shows here.' };
}
