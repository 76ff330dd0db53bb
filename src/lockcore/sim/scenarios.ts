// The lock scenarios as plain data played by the one scenario interpreter (src/sim/scenario.ts):
// Kleppmann's two failures (a pause past the lease; a clock jump under Redlock), the three
// defences against split brain (majority quorum, fencing tokens, STONITH) and the inventory race
// (a lost update, then four remedies). Each records the seed that shows it and the verdicts.
import type { NodeId } from '../../core/index.js';
import { describeStep as describeAnyStep, runScenarioProgram, ScenarioInterpreter, type NodeRef, type ScenarioContext, type ScenarioProgram, type ScenarioProtocol, type Step } from '../../sim/scenario.js';
import { applyFault } from '../../sim/faults.js';
import type { InventoryApproach } from './buyer.js';
import type { LockClientOp } from './lock-client.js';
import { LockSystem, type LockSystemOptions, type LockVerdicts } from './system.js';

/** The lock scenarios' own steps. */
export type LockStep =
  /** Hands `op` to a client node now (it runs while later steps go on). */
  | { readonly do: 'submit'; readonly client: NodeRef; readonly op: LockClientOp }
  /** The first time `client` enters `phase` (idle, acquiring, reading, working, writing, releasing), it is paused for `ms` (a stop-the-world GC, say). */
  | { readonly do: 'pauseAtPhase'; readonly client: NodeRef; readonly phase: string; readonly ms: number }
  | { readonly do: 'awaitPhase'; readonly client: NodeRef; readonly phase: string; readonly withinMs: number }
  /** Every client has finished its operations. */
  | { readonly do: 'awaitIdle'; readonly withinMs: number }
  /** The Raft KV has a leader that committed in its term (bound to `as`). */
  | { readonly do: 'awaitLeader'; readonly withinMs: number; readonly as?: string }
  /** The node's clock jumps to virtual time + offsetMs, then runs at 1 + driftPpm/10⁶. */
  | { readonly do: 'clock'; readonly node: NodeRef; readonly offsetMs: number; readonly driftPpm?: number }
  /** Messages from `from` to `to` take `extraDelayMs` longer (a slow or congested path). */
  | { readonly do: 'delayLink'; readonly from: NodeRef; readonly to: NodeRef; readonly extraDelayMs: number }
  /** Puts keys in the Raft KV before the clients start (the version-check buyers' stock). */
  | { readonly do: 'seedKv'; readonly entries: Readonly<Record<string, number>> }
  /** `client` finished exactly `count` operations ok so far. */
  | { readonly do: 'expectOk'; readonly client: NodeRef; readonly count: number }
  /** The power switch powered `node` off (STONITH). */
  | { readonly do: 'expectPoweredOff'; readonly node: NodeRef };

/** The verdicts a scenario reports: the checkers' (ok or violation), and the inventory's. */
export type VerdictName = 'service' | 'client' | 'clientValid' | 'grants' | 'resource' | 'linearizability' | 'inventory';
export type VerdictValue = 'ok' | 'violation';

export interface LockScenario {
  readonly name: string;
  readonly caption: string;
  readonly system: Omit<LockSystemOptions, 'seed'>;
  /** The seed recorded for it (the failure shows on it; the tests replay it). */
  readonly seed: number;
  readonly steps: readonly Step<LockStep>[];
  /** For the inventory race: where the stock lives and how many items there were. */
  readonly inventory?: { readonly key: string; readonly initial: number; readonly store: 'db' | 'kv' };
  /** What the checkers say on the recorded seed. */
  readonly expected: Readonly<Partial<Record<VerdictName, VerdictValue>>>;
}

export interface LockScenarioResult {
  readonly scenario: string;
  readonly seed: number;
  /** A step's expectation that failed, if any. */
  readonly failure: string | undefined;
  readonly verdicts: Readonly<Record<VerdictName, VerdictValue | 'n/a'>>;
  /** Verdicts other than the scenario expects. */
  readonly mismatches: readonly string[];
  readonly details: LockVerdicts;
  readonly inventory: { readonly sold: number; readonly final: number | null; readonly message: string } | undefined;
  readonly system: LockSystem;
}

const LOCK_STEPS: ReadonlySet<string> = new Set(['submit', 'pauseAtPhase', 'awaitPhase', 'awaitIdle', 'awaitLeader', 'clock', 'delayLink', 'seedKv', 'expectOk', 'expectPoweredOff']);

export function describeLockStep(step: LockStep): string {
  switch (step.do) {
    case 'submit': {
      const op = step.op;
      return `${step.client}: ${op.f === 'write' ? `lock, work${op.workMs === undefined ? '' : ` ${op.workMs} ms`}, write ${op.key} = ${op.value}, unlock` : op.f === 'buy' ? `buy one ${op.key}` : `read ${op.key}`}`;
    }
    case 'pauseAtPhase':
      return `pause ${step.client} for ${step.ms} ms when it is ${step.phase}`;
    case 'awaitPhase':
      return `wait until ${step.client} is ${step.phase} (within ${step.withinMs} ms)`;
    case 'awaitIdle':
      return `wait until every client is done (within ${step.withinMs} ms)`;
    case 'awaitLeader':
      return `wait for a Raft leader${step.as === undefined ? '' : ` as ${step.as}`} (within ${step.withinMs} ms)`;
    case 'clock':
      return `${step.node}'s clock jumps to ${step.offsetMs >= 0 ? '+' : ''}${step.offsetMs} ms${step.driftPpm === undefined ? '' : `, drift ${step.driftPpm} ppm`}`;
    case 'delayLink':
      return `messages ${step.from} -> ${step.to} take ${step.extraDelayMs} ms longer`;
    case 'seedKv':
      return `put ${Object.entries(step.entries).map(([k, v]) => `${k} = ${v}`).join(', ')} in the KV`;
    case 'expectOk':
      return `expect ${step.client} to have ${step.count} operation(s) ok`;
    case 'expectPoweredOff':
      return `expect ${step.node} powered off`;
  }
}

const until = (cond: () => boolean, withinMs: number) => ({ kind: 'until', until: cond, withinMs }) as const;

/** The lock steps on a LockSystem; one instance per run. */
export class LockScenarioSteps implements ScenarioProtocol<LockStep> {
  constructor(private readonly s: LockSystem) {}

  owns(step: Step<LockStep>): step is LockStep {
    return LOCK_STEPS.has(step.do);
  }

  describe(step: LockStep): string {
    return describeLockStep(step);
  }

  leader(): NodeId | undefined {
    return this.s.readyLeader() ?? this.s.leader();
  }

  leaders(): NodeId[] {
    return this.s.layout.kv.filter((id) => this.s.raft(id)?.status().role === 'leader');
  }

  run(step: LockStep, where: string, ctx: ScenarioContext): ScenarioProgram | void {
    const s = this.s;
    switch (step.do) {
      case 'submit': {
        const client = ctx.resolveOne(step.client, where);
        if (s.driver.isBusy(client)) return ctx.fail(where, `${client} is still busy`);
        s.submit(client, step.op);
        return;
      }
      case 'pauseAtPhase':
        s.pauseAtPhase(ctx.resolveOne(step.client, where), step.phase, step.ms);
        return;
      case 'awaitPhase': {
        const client = ctx.resolveOne(step.client, where);
        return this.expect(until(() => s.phaseOf(client) === step.phase, step.withinMs), () => ctx.fail(where, `${client} is ${s.phaseOf(client) ?? 'nowhere'}, not ${step.phase}`));
      }
      case 'awaitIdle':
        return this.expect(until(() => s.idle(), step.withinMs), () => ctx.fail(where, `busy still: ${s.layout.clients.filter((c) => s.driver.isBusy(c)).join(', ')}`));
      case 'awaitLeader':
        return this.awaitLeader(step, where, ctx);
      case 'clock':
        applyFault(s.sim, { kind: 'clock', target: { kind: 'node', id: ctx.resolveOne(step.node, where) }, offsetMs: step.offsetMs, driftPpm: step.driftPpm ?? 0 });
        return;
      case 'delayLink':
        applyFault(s.sim, { kind: 'link', from: ctx.resolveOne(step.from, where), to: ctx.resolveOne(step.to, where), both: false, change: { extraDelayMs: step.extraDelayMs } });
        return;
      case 'seedKv':
        if (!s.seedKv(step.entries)) ctx.fail(where, 'the KV took no write');
        return;
      case 'expectOk': {
        const client = ctx.resolveOne(step.client, where);
        const ok = s.history().ops.filter((op) => op.process.split("'")[0] === client && op.outcome === 'ok').length;
        if (ok !== step.count) ctx.fail(where, `${client} has ${ok} operation(s) ok, not ${step.count}`);
        return;
      }
      case 'expectPoweredOff': {
        const node = ctx.resolveOne(step.node, where);
        if (!s.poweredOff.some((p) => p.target === node)) ctx.fail(where, `${node} was not powered off (powered off: ${s.poweredOff.map((p) => p.target).join(', ') || 'none'})`);
        return;
      }
    }
  }

  private *awaitLeader(step: Extract<LockStep, { do: 'awaitLeader' }>, where: string, ctx: ScenarioContext): ScenarioProgram {
    const ok = yield until(() => this.s.readyLeader() !== undefined, step.withinMs);
    const leader = this.s.readyLeader();
    if (!ok || leader === undefined) return ctx.fail(where, 'no Raft leader');
    if (step.as !== undefined) ctx.bind(step.as, [leader]);
  }

  private *expect(wait: ReturnType<typeof until>, onFail: () => never): ScenarioProgram {
    if (!(yield wait)) onFail();
  }
}

// ================================================================ the scenarios

const TTL_MS = 300;
/** Long enough for the lease to run out and the next holder to write. */
const PAUSE_MS = 3 * TTL_MS;

const pausePastLease = (write: LockClientOp, second: LockClientOp): Step<LockStep>[] => [
  { do: 'pauseAtPhase', client: 'c1', phase: 'working', ms: PAUSE_MS },
  { do: 'submit', client: 'c1', op: write },
  { do: 'awaitPhase', client: 'c1', phase: 'working', withinMs: 3000 },
  { do: 'submit', client: 'c2', op: second },
  { do: 'awaitIdle', withinMs: 6000 },
];

function kleppmannPause(backend: 'synod' | 'redis', fencing: boolean, expected: LockScenario['expected'], seed: number): LockScenario {
  const who = backend === 'synod' ? 'Synod lock (token: createRevision)' : 'single-Redis lock (token: INCR)';
  return {
    name: `kleppmann-pause-${backend}-${fencing ? 'fenced' : 'unfenced'}`,
    caption: `${who}, ${fencing ? 'fenced' : 'unfenced'} storage: c1 takes the lock, checks that its lease outlasts the work, and is paused for ${PAUSE_MS} ms while it works; the lease expires, c2 takes the lock and writes; c1 wakes and writes. ${fencing ? 'The storage refuses c1\'s lower token.' : 'The storage takes c1\'s stale write over c2\'s.'}`,
    system: { backend, fencing, clients: 2, ttlMs: TTL_MS },
    seed,
    steps: [...(backend === 'synod' ? [{ do: 'awaitLeader', withinMs: 3000 } as const] : []), ...pausePastLease({ f: 'write', key: 'x', value: 1 }, { f: 'write', key: 'x', value: 2 })],
    expected,
  };
}

export const KLEPPMANN_SCENARIOS: readonly LockScenario[] = [
  kleppmannPause('synod', true, { service: 'ok', client: 'violation', clientValid: 'ok', grants: 'ok', resource: 'ok' }, 1),
  kleppmannPause('synod', false, { service: 'ok', client: 'violation', clientValid: 'ok', grants: 'ok', resource: 'violation' }, 1),
  kleppmannPause('redis', true, { service: 'ok', client: 'violation', clientValid: 'ok', grants: 'ok', resource: 'ok' }, 1),
  kleppmannPause('redis', false, { service: 'ok', client: 'violation', clientValid: 'ok', grants: 'ok', resource: 'violation' }, 1),
  {
    name: 'kleppmann-clock-jump-redlock',
    caption: `Redlock over r1..r5: c1 cannot reach r4, r5 and c2 cannot reach r1, r2. c1 locks r1, r2, r3; r3's clock jumps ${TTL_MS + 50} ms ahead, so its key expires at once; c2 locks r3, r4, r5. Both now hold a majority by their own clocks: two holders, and without tokens the storage takes c1's late write over c2's.`,
    system: { backend: 'redlock', fencing: false, clients: 2, ttlMs: TTL_MS },
    seed: 1,
    steps: [
      { do: 'partition', groups: [['c1'], ['r4', 'r5']] },
      { do: 'partition', groups: [['c2'], ['r1', 'r2']] },
      { do: 'submit', client: 'c1', op: { f: 'write', key: 'x', value: 1, workMs: 150 } },
      { do: 'awaitPhase', client: 'c1', phase: 'working', withinMs: 2000 },
      { do: 'clock', node: 'r3', offsetMs: TTL_MS + 50 },
      { do: 'submit', client: 'c2', op: { f: 'write', key: 'x', value: 2, workMs: 10 } },
      { do: 'awaitIdle', withinMs: 3000 },
    ],
    expected: { service: 'ok', client: 'violation', clientValid: 'violation', grants: 'ok', resource: 'violation' },
  },
];

export const SPLIT_BRAIN_SCENARIOS: readonly LockScenario[] = [
  {
    name: 'split-brain-quorum',
    caption: 'Majority quorum: the Raft leader and c1 are cut off from the rest. c1 asks the old leader for the lock, which cannot commit without a majority; c2 gets the lock from the new leader on the majority side. After the heal c1 gets its turn.',
    system: { backend: 'synod', fencing: true, clients: 2, ttlMs: TTL_MS, clientOpTimeoutMs: 1500 },
    seed: 1,
    steps: [
      { do: 'awaitLeader', withinMs: 3000, as: 'L' },
      { do: 'partition', groups: [['L', 'c1'], ['rest']] },
      { do: 'submit', client: 'c1', op: { f: 'write', key: 'x', value: 1 } },
      { do: 'submit', client: 'c2', op: { f: 'write', key: 'x', value: 2 } },
      { do: 'awaitIdle', withinMs: 6000 },
      { do: 'expectOk', client: 'c1', count: 0 },
      { do: 'expectOk', client: 'c2', count: 1 },
      { do: 'heal' },
      { do: 'awaitLeader', withinMs: 3000 },
      { do: 'submit', client: 'c1', op: { f: 'write', key: 'x', value: 3 } },
      { do: 'awaitIdle', withinMs: 6000 },
      { do: 'expectOk', client: 'c1', count: 1 },
    ],
    expected: { service: 'ok', client: 'ok', clientValid: 'ok', grants: 'ok', resource: 'ok', linearizability: 'ok' },
  },
  ...(['fenced', 'unfenced'] as const).map(
    (mode): LockScenario => ({
      name: `split-brain-${mode === 'fenced' ? 'fencing' : 'no-fencing'}`,
      caption: `Fencing tokens: c1 holds the lock and works; its write, when it leaves, is delayed ${PAUSE_MS} ms by a congested path; c1 is cut off from the lock service, its lease expires, and c2 takes the lock and writes. c1's write arrives last: ${mode === 'fenced' ? 'the storage refuses its lower token' : 'without fencing the storage takes it over c2\'s'}.`,
      system: { backend: 'synod', fencing: mode === 'fenced', clients: 2, ttlMs: TTL_MS },
      seed: 1,
      steps: [
        { do: 'awaitLeader', withinMs: 3000 },
        { do: 'submit', client: 'c1', op: { f: 'write', key: 'x', value: 1 } },
        { do: 'awaitPhase', client: 'c1', phase: 'working', withinMs: 3000 },
        { do: 'delayLink', from: 'c1', to: 'db', extraDelayMs: PAUSE_MS },
        { do: 'partition', groups: [['c1'], ['k1', 'k2', 'k3']] },
        { do: 'submit', client: 'c2', op: { f: 'write', key: 'x', value: 2 } },
        { do: 'awaitIdle', withinMs: 6000 },
      ],
      expected: { service: 'ok', grants: 'ok', resource: mode === 'fenced' ? 'ok' : 'violation' },
    }),
  ),
  {
    name: 'split-brain-stonith',
    caption: `STONITH: c1 takes the lock and is paused for ${PAUSE_MS} ms while it works (unfenced storage); its lease expires and c2 takes the lock, finds c1 recorded as the last holder and has the power switch turn c1 off before writing. c1 never writes again.`,
    system: { backend: 'synod', fencing: false, clients: 2, ttlMs: TTL_MS, stonith: true },
    seed: 1,
    steps: [{ do: 'awaitLeader', withinMs: 3000 }, ...pausePastLease({ f: 'write', key: 'x', value: 1 }, { f: 'write', key: 'x', value: 2 }), { do: 'expectPoweredOff', node: 'c1' }, { do: 'expectOk', client: 'c2', count: 1 }],
    expected: { service: 'ok', grants: 'ok', resource: 'ok' },
  },
];

function inventory(name: string, approach: InventoryApproach | 'fenced-lock', caption: string, expected: VerdictValue): LockScenario {
  const buy: LockClientOp = { f: 'buy', key: 'stock', workMs: 40 };
  const locked = approach === 'fenced-lock';
  const system: LockScenario['system'] = locked
    ? { backend: 'synod', fencing: true, clients: 2, ttlMs: TTL_MS, initial: { stock: 1 } }
    : { backend: 'synod', fencing: false, clients: 2, buyers: approach, initial: { stock: 1 } };
  const steps: Step<LockStep>[] = locked
    ? [{ do: 'awaitLeader', withinMs: 3000 }, ...pausePastLease(buy, buy)]
    : [
        ...(approach === 'version-check' ? [{ do: 'awaitLeader', withinMs: 3000 } as const, { do: 'seedKv', entries: { stock: 1 } } as const] : []),
        { do: 'submit', client: 'c1', op: buy },
        { do: 'submit', client: 'c2', op: buy },
        { do: 'awaitIdle', withinMs: 6000 },
      ];
  return { name, caption, system, seed: 1, steps, inventory: { key: 'stock', initial: 1, store: approach === 'version-check' ? 'kv' : 'db' }, expected: { inventory: expected } };
}

export const INVENTORY_SCENARIOS: readonly LockScenario[] = [
  inventory('inventory-lost-update', 'read-then-write', 'Two buyers, one item left: each reads stock = 1, works, writes 0. Both are told they bought it: the second write lost the first\'s update.', 'violation'),
  inventory('inventory-row-lock', 'row-lock', 'Pessimistic: each buyer takes the database\'s row lock (SELECT ... FOR UPDATE) before reading; the second waits, then reads 0 and stops.', 'ok'),
  inventory('inventory-version-check', 'version-check', 'Optimistic: the stock lives in Synod\'s KV; each buyer reads it with its version and writes it back in a txn that compares the version (as casVersion does) and records the order. The second txn fails, the buyer reads again: 0.', 'ok'),
  inventory('inventory-fenced-lock', 'fenced-lock', `A distributed lock with a fenced write: c1 takes the Synod lock, reads 1 and is paused for ${PAUSE_MS} ms; c2 takes the lock after c1's lease, reads 1, writes 0; c1 wakes and its write is refused for its lower token.`, 'ok'),
  inventory('inventory-conditional-decrement', 'conditional-decrement', 'An atomic conditional decrement (UPDATE ... SET n = n - 1 WHERE n > 0): one statement, no race; the second buyer finds 0.', 'ok'),
];

export const LOCK_SCENARIOS: readonly LockScenario[] = [...KLEPPMANN_SCENARIOS, ...SPLIT_BRAIN_SCENARIOS, ...INVENTORY_SCENARIOS];

export function lockScenarioByName(name: string): LockScenario | undefined {
  return LOCK_SCENARIOS.find((s) => s.name === name);
}

// ================================================================ playing them

/** A scenario's program on a system (for drivers that step it, such as a visualizer). */
export function lockScenarioProgram(system: LockSystem, scenario: LockScenario): ScenarioProgram {
  return new ScenarioInterpreter(system.sim, new LockScenarioSteps(system)).steps(scenario.steps);
}

/** One line describing any step of a lock scenario. */
export function describeLockScenarioStep(step: Step<LockStep>): string {
  return describeAnyStep(step, DESCRIBER);
}

const DESCRIBER: ScenarioProtocol<LockStep> = {
  owns: (step): step is LockStep => LOCK_STEPS.has(step.do),
  describe: describeLockStep,
  run: () => undefined,
  leader: () => undefined,
  leaders: () => [],
};

const verdictOf = (ok: boolean): VerdictValue => (ok ? 'ok' : 'violation');

/** The inventory's verdict: no more sold than there was, and the stock left is what was not sold. */
export function checkInventory(initial: number, final: number | null, sold: number): { ok: boolean; message: string } {
  const left = final ?? 0;
  if (sold > initial) return { ok: false, message: `${sold} sold out of ${initial}: oversold (stock left ${left})` };
  if (left !== initial - sold) return { ok: false, message: `${sold} sold out of ${initial}, but the stock says ${left} left: an update was lost` };
  return { ok: true, message: `${sold} sold out of ${initial}, ${left} left` };
}

/** Plays `scenario` with `seed` (default: its recorded one); failed expectations are returned, never thrown. */
export function runLockScenario(scenario: LockScenario, seed = scenario.seed, options: Pick<LockSystemOptions, 'trace'> = {}): LockScenarioResult {
  const system = new LockSystem({ ...scenario.system, ...options, seed });
  system.note(`scenario ${scenario.name}: ${scenario.caption}`);
  const failure = runScenarioProgram(system.sim, lockScenarioProgram(system, scenario));
  if (failure !== undefined) system.note(`scenario failed: ${failure}`);
  const details = system.verdicts();
  let inventory: LockScenarioResult['inventory'];
  if (scenario.inventory !== undefined) {
    const inv = scenario.inventory;
    const raw = inv.store === 'db' ? system.dbValue(inv.key) : system.kvValue(inv.key);
    const final = typeof raw === 'number' ? raw : null;
    const sold = system.purchases();
    inventory = { sold, final, message: checkInventory(inv.initial, final, sold).message };
  }
  const verdicts: Record<VerdictName, VerdictValue | 'n/a'> = {
    service: verdictOf(details.service.ok),
    client: verdictOf(details.client.ok),
    clientValid: verdictOf(details.clientValid.ok),
    grants: verdictOf(details.grants.ok),
    resource: system.writes.length === 0 ? 'n/a' : verdictOf(details.resource.ok),
    linearizability: details.linearizability === 'skipped' || details.linearizability === 'unknown' ? 'n/a' : verdictOf(details.linearizability === 'linearizable'),
    inventory: inventory === undefined || scenario.inventory === undefined ? 'n/a' : verdictOf(checkInventory(scenario.inventory.initial, inventory.final, inventory.sold).ok),
  };
  const mismatches = (Object.entries(scenario.expected) as [VerdictName, VerdictValue][]).filter(([name, want]) => verdicts[name] !== want).map(([name, want]) => `${name}: expected ${want}, got ${verdicts[name]}`);
  return { scenario: scenario.name, seed, failure, verdicts, mismatches, details, inventory, system };
}
