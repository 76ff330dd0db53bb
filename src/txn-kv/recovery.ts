// Finishing transactions whose coordinator died or stalled: any process reads the intents left on
// the shards and the decisions group, decides abort for what stayed in doubt too long (the
// write-once decision makes it race-free with a coordinator that wakes up), and applies.
import type { ShardSet } from './shards.js';
import { applyOn, decide, decisionOf, intentOf, type TxnOutcome } from './commit.js';
import { DECISION_PREFIX, decisionKey, INTENT_PREFIX } from './shards.js';

/** Intents and decisions one pass looks at per shard, at most (a pass is repeated for more). */
export const MAX_PER_PASS = 1000;

export interface RecoveryOptions {
  /** An intent without a decision is aborted once it is older than this (by its coordinator's clock). Default 10 s. */
  readonly inDoubtAfterMs?: number;
  readonly recordOutcome?: boolean;
  readonly nowMs?: () => number;
}

/** One transaction a pass settled or found. */
export interface RecoveredTxn {
  readonly txnId: string;
  readonly outcome: TxnOutcome | 'in-doubt';
  /** Why: the decision was there, recovery decided it, or it is too young to decide. */
  readonly how: 'decided-before' | 'decided-now' | 'too-young';
}

export interface RecoveryReport {
  readonly settled: readonly RecoveredTxn[];
  /** Intents still waiting (younger than inDoubtAfterMs, or a shard did not answer). */
  readonly waiting: number;
  readonly errors: readonly string[];
}

/** One pass over every shard's intents and the decisions group; idempotent and safe to run anywhere, any time. */
export async function recoverInDoubt(set: ShardSet, options: RecoveryOptions = {}): Promise<RecoveryReport> {
  const nowMs = options.nowMs ?? Date.now;
  const inDoubtAfterMs = options.inDoubtAfterMs ?? 10_000;
  const recordOutcome = options.recordOutcome === true;
  const settled: RecoveredTxn[] = [];
  const errors: string[] = [];
  const done = new Set<string>();
  let waiting = 0;

  const settle = async (txnId: string, outcome: TxnOutcome, shards: readonly string[], how: RecoveredTxn['how']): Promise<void> => {
    let all = true;
    for (const shard of shards) {
      try {
        await applyOn(set.client(shard), shard, txnId, outcome, recordOutcome);
      } catch (err) {
        all = false;
        errors.push(`${txnId} on ${shard}: ${(err as Error).message}`);
      }
    }
    // every shard applied: the decision is needed no more
    if (all) await set.decisionClient().delete(decisionKey(txnId)).catch(() => undefined);
    settled.push({ txnId, outcome, how });
    done.add(txnId);
  };

  // decisions first: a decision whose coordinator died before applying it everywhere
  try {
    const decisions = await set.decisionClient().range({ prefix: DECISION_PREFIX, limit: MAX_PER_PASS });
    for (const item of decisions.items) {
      const decision = decisionOf(item.value);
      const txnId = item.key.slice(DECISION_PREFIX.length);
      if (decision === undefined || nowMs() - decision.decidedAtMs < inDoubtAfterMs) continue;
      await settle(txnId, decision.outcome, decision.shards.filter((s) => set.names.includes(s)), 'decided-before');
    }
  } catch (err) {
    errors.push(`decisions: ${(err as Error).message}`);
  }

  for (const shard of set.names) {
    let intents;
    try {
      intents = await set.client(shard).range({ prefix: INTENT_PREFIX, limit: MAX_PER_PASS });
    } catch (err) {
      errors.push(`intents on ${shard}: ${(err as Error).message}`);
      continue;
    }
    for (const item of intents.items) {
      const intent = intentOf(item.value);
      if (intent === undefined || done.has(intent.id)) continue;
      try {
        const existing = decisionOf((await set.client(intent.decisions).get(decisionKey(intent.id))).value);
        if (existing !== undefined) {
          await settle(intent.id, existing.outcome, intent.shards, 'decided-before');
        } else if (nowMs() - intent.preparedAtMs >= inDoubtAfterMs) {
          // presumed abort: the coordinator never decided; if it decides now, one of the two writes loses
          const outcome = await decide(set.client(intent.decisions), intent.id, { outcome: 'abort', decidedAtMs: nowMs(), shards: intent.shards });
          await settle(intent.id, outcome, intent.shards, 'decided-now');
        } else {
          waiting++;
        }
      } catch (err) {
        waiting++;
        errors.push(`${intent.id}: ${(err as Error).message}`);
      }
    }
  }
  return { settled, waiting, errors };
}
