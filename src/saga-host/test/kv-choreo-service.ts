// One service of the order saga, choreographed over a Synod cluster, as its own process (for the
// real-process test): its effect is a ledger entry written in the same KV txn as its idempotency
// record, so that it takes effect at most once per key — and the checker can tell if it did not.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SynodClient } from '../../client/index.js';
import type { JsonValue } from '../../core/index.js';
import type { TxnOp } from '../../kv/index.js';
import { KvChoreographyService } from '../kv-choreography.js';
import { StepRejected, type StepContext } from '../runner.js';

import { ORDER_CHOREOGRAPHY } from './order-choreography.js';

const flag = (name: string): string => {
  const at = process.argv.indexOf(name);
  return at < 0 ? '' : (process.argv[at + 1] ?? '');
};
const service = flag('--service');
const delayMs = Number(flag('--delay-ms') || '0');
/** Exit abruptly right after this many effects took effect, before the result event is written (0: never). */
const crashAfterEffects = Number(flag('--crash-after-effects') || '0');
let effects = 0;
const cacert = flag('--cacert');
const client = new SynodClient({ endpoints: flag('--endpoints').split(','), ...(cacert === '' ? {} : { tls: { ca: readFileSync(cacert) } }) });

/**
 * Applies one effect once per idempotency key: the dedupe record and the ledger entry in one txn.
 * A compensation whose action never took effect takes none either, and leaves a tombstone so that
 * the action, if it arrives late, is refused.
 */
async function effect(ctx: StepContext, phase: 'action' | 'compensation'): Promise<JsonValue> {
  await sleep(delayMs, undefined, { signal: ctx.signal });
  const dedupe = `dedupe/${service}/${ctx.idempotencyKey}`;
  const actionDedupe = `dedupe/${service}/${ctx.actionKey}`;
  const entry = `ledger/${service}/${ctx.idempotencyKey}/${randomBytes(4).toString('hex')}`;
  const value: JsonValue = { sagaId: ctx.sagaId, step: ORDER_CHOREOGRAPHY.steps.indexOf(service), phase, key: ctx.idempotencyKey };
  const apply: TxnOp[] = [{ op: 'put', key: dedupe, value: 1 }, { op: 'put', key: entry, value }];
  const success: TxnOp[] = phase === 'action' ? apply : [{ op: 'txn', compare: [{ key: actionDedupe, target: 'createRevision', cmp: '>', value: 0 }], success: apply, failure: [{ op: 'put', key: dedupe, value: 1 }, { op: 'put', key: actionDedupe, value: 'tombstone' }] }];
  await client.txn({ compare: [{ key: dedupe, target: 'createRevision', cmp: '=', value: 0 }], success });
  if (++effects === crashAfterEffects) process.exit(9); // the effect is done, its event is not: the next life must not apply it again
  return { by: service };
}

const input = (v: JsonValue): { item: string; amount: number } => v as { item: string; amount: number };
const svc = await KvChoreographyService.start({
  client,
  plan: ORDER_CHOREOGRAPHY,
  service,
  retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 200 },
  action: async (payload, ctx) => {
    if (service === 'payment' && input(payload).amount > 1000) throw new StepRejected(`payment declined: ${input(payload).amount} is over 1000`);
    if (service === 'inventory' && input(payload).item === 'unobtainium') throw new StepRejected('out of stock');
    return effect(ctx, 'action');
  },
  ...(service === 'shipping' ? {} : { compensation: async (_payload: JsonValue, ctx: StepContext) => effect(ctx, 'compensation') }),
});
process.stdout.write(`ready ${service}\n`);
process.once('SIGTERM', () => void svc.close().then(() => process.exit(0)));
