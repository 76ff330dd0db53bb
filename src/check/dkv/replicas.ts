// Checkers of the replicas' final states, after heal and anti-entropy: durability (every
// acknowledged write is on every home replica, or superseded by a write whose client had seen it),
// convergence (the home replicas of each key hold the same state), and unique dots (no two
// versions share a name, which a node reusing its counters after a restart would cause).
import type { DkvOp, DkvReplicaState, DkvWriteOp } from './history.js';
import { dotText, vvCovers } from './history.js';

export interface DkvViolation {
  readonly check: 'durability' | 'convergence' | 'unique-dots';
  readonly key: string;
  readonly message: string;
}

export interface ReplicaCheckInput {
  readonly ops: readonly DkvOp[];
  readonly replicas: readonly DkvReplicaState[];
  /** The home replicas of a key (its first N preference-list nodes). */
  readonly homesOf: (key: string) => readonly string[];
  /** Keys whose tombstones were collected (absent copies are then expected). */
  readonly collected?: ReadonlySet<string>;
}

/** At most this many violations are listed per check (the count stays exact). */
const MAX_LISTED = 50;

export interface ReplicaCheckResult {
  readonly violations: readonly DkvViolation[];
  readonly counts: { readonly durability: number; readonly convergence: number; readonly uniqueDots: number };
  readonly ackedWrites: number;
  readonly keys: number;
}

export function checkReplicas(input: ReplicaCheckInput): ReplicaCheckResult {
  const violations: DkvViolation[] = [];
  const counts = { durability: 0, convergence: 0, uniqueDots: 0 };
  const report = (v: DkvViolation): void => {
    counts[v.check === 'unique-dots' ? 'uniqueDots' : v.check]++;
    if (violations.length < MAX_LISTED * 3) violations.push(v);
  };
  const copies = new Map<string, Map<string, DkvReplicaState>>();
  for (const r of input.replicas) {
    let byNode = copies.get(r.key);
    if (byNode === undefined) copies.set(r.key, (byNode = new Map()));
    byNode.set(r.node, r);
  }
  const writesByKey = new Map<string, DkvWriteOp[]>();
  for (const op of input.ops) {
    if (op.kind !== 'write') continue;
    let list = writesByKey.get(op.key);
    if (list === undefined) writesByKey.set(op.key, (list = []));
    list.push(op);
  }
  checkUniqueDots(input.replicas, report);
  const keys = new Set<string>([...copies.keys(), ...writesByKey.keys()]);
  let ackedWrites = 0;
  for (const key of [...keys].sort()) {
    const homes = input.homesOf(key);
    const byNode = copies.get(key) ?? new Map<string, DkvReplicaState>();
    checkConvergence(key, homes, byNode, report);
    const writes = writesByKey.get(key) ?? [];
    for (const w of writes) {
      if (w.outcome !== 'ok' || w.dot === null) continue;
      ackedWrites++;
      checkDurable(key, w, writes, homes, byNode, input.collected?.has(key) ?? false, report);
    }
  }
  return { violations, counts, ackedWrites, keys: keys.size };
}

function checkDurable(
  key: string,
  write: DkvWriteOp,
  writes: readonly DkvWriteOp[],
  homes: readonly string[],
  byNode: ReadonlyMap<string, DkvReplicaState>,
  collected: boolean,
  report: (v: DkvViolation) => void,
): void {
  const dot = write.dot;
  if (dot === null) return;
  // superseded: some write (acknowledged or not: a failed write may still be applied) was sent by a client that had seen this one
  const seenByLaterWrite = writes.some((w) => w !== write && vvCovers(w.contextIn, dot));
  for (const node of homes) {
    const copy = byNode.get(node);
    if (copy === undefined) {
      if (!collected) report({ check: 'durability', key, message: `acknowledged write ${dotText(dot)} (${JSON.stringify(write.value)}) is missing on home replica ${node}: it holds no copy of the key` });
      continue;
    }
    const sibling = copy.siblings.find((s) => s.dot.actor === dot.actor && s.dot.counter === dot.counter);
    if (sibling !== undefined) {
      if (sibling.value !== write.value) report({ check: 'durability', key, message: `replica ${node} holds ${dotText(dot)} with value ${JSON.stringify(sibling.value)}, the write was ${JSON.stringify(write.value)}` });
      continue;
    }
    if (!vvCovers(copy.vv, dot)) {
      report({ check: 'durability', key, message: `acknowledged write ${dotText(dot)} (${JSON.stringify(write.value)}) never reached home replica ${node}` });
    } else if (!seenByLaterWrite) {
      report({ check: 'durability', key, message: `acknowledged write ${dotText(dot)} (${JSON.stringify(write.value)}) was replaced on ${node} though no client wrote with a context that had seen it (a lost update)` });
    }
  }
}

function checkConvergence(key: string, homes: readonly string[], byNode: ReadonlyMap<string, DkvReplicaState>, report: (v: DkvViolation) => void): void {
  const present = homes.filter((node) => byNode.has(node));
  const texts = new Set(present.map((node) => stateText(byNode.get(node) as DkvReplicaState)));
  // a replica without the key agrees with ones that hold nothing but tombstones: both read as absent
  const absentOk = present.every((node) => (byNode.get(node) as DkvReplicaState).siblings.every((s) => s.value === null));
  if (texts.size > 1 || (present.length < homes.length && present.length > 0 && !absentOk)) {
    const describe = homes.map((node) => `${node}=${byNode.has(node) ? stateText(byNode.get(node) as DkvReplicaState).slice(0, 120) : 'absent'}`);
    report({ check: 'convergence', key, message: `home replicas differ: ${describe.join(' | ')}` });
  }
}

function stateText(copy: DkvReplicaState): string {
  return JSON.stringify([copy.vv, copy.siblings.map((s) => [s.dot.actor, s.dot.counter, s.value])]);
}

function checkUniqueDots(replicas: readonly DkvReplicaState[], report: (v: DkvViolation) => void): void {
  const valueOf = new Map<string, string | null>();
  for (const r of replicas) {
    for (const s of r.siblings) {
      const name = `${r.key}\u0000${dotText(s.dot)}`;
      if (!valueOf.has(name)) valueOf.set(name, s.value);
      else if (valueOf.get(name) !== s.value) report({ check: 'unique-dots', key: r.key, message: `dot ${dotText(s.dot)} names two versions: ${JSON.stringify(valueOf.get(name))} and ${JSON.stringify(s.value)} (on ${r.node})` });
    }
  }
}
