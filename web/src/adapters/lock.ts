// The lock adapters: the simulated lock systems of src/lockcore/sim (the Synod lock with fenced
// or unfenced storage, a single Redis-like node, Redlock over five), one per variant the sim CLI
// runs. The nodes are the lock service, the database (the protected resource) and the clients;
// the panels show the lock, the clients' beliefs, the resource and the checkers' verdicts, and
// the guided scenarios are the scripts the tests play (src/lockcore/sim/scenarios.ts), driven by
// the same interpreter and told step by step.
import { kvModel } from '../../../src/check/index.js';
import { LOCK_SCENARIOS, LOCK_SYSTEM_DEFAULTS, LOCK_VARIANTS, LockSystem, lockScenarioProgram, type LockScenario, type LockSystemOptions, type LockVariant } from '../../../src/lockcore/sim/index.js';
import { driveScenarioProgram } from '../../../src/sim/scenario.js';
import type { Message, NodeId, Operation } from '../../../src/sim/index.js';
import { unwrapCore, wrapSpec } from '../engine/wrap.js';
import { clientsTable, lockTable, LockView, resourceTable, storyTable, verdictTable, type Unwrap } from './lock-view.js';
import type { MessageTypeDef, NodeView, PanelDef, ProtocolAdapter, ProtocolRun, SafetyMonitor, Scenario } from './types.js';
import { CheckMonitor } from './check-monitor.js';

/** How often a waiting scenario step looks again (virtual ms). */
const POLL_MS = 5;
/** Where a scenario's story ends on the scrubber (the run may go on). */
const SCENARIO_END_MS = 3000;
const MAX_CLIENTS = 5;

const ROLES = [
  { id: 'leader', label: 'Raft leader (lock service)', color: '#2563eb' },
  { id: 'follower', label: 'Raft follower', color: '#93c5fd' },
  { id: 'candidate', label: 'Raft candidate', color: '#f59e0b' },
  { id: 'redis', label: 'Redis-like node (lock service)', color: '#dc2626' },
  { id: 'db', label: 'database (the protected resource)', color: '#7c3aed' },
  { id: 'holds', label: 'client that believes it holds the lock', color: '#16a34a' },
  { id: 'waiting', label: 'client waiting for the lock', color: '#eab308' },
  { id: 'client', label: 'client, not holding', color: '#94a3b8' },
] as const;

const MESSAGE_TYPES: readonly MessageTypeDef[] = [
  { type: 'kv/kvRequest', label: 'client → lock service (Raft KV)', color: '#2563eb', response: false },
  { type: 'client/kvReply', label: 'lock service → client', color: '#2563eb', response: true },
  { type: 'redis/redisCommand', label: 'client → Redis', color: '#dc2626', response: false },
  { type: 'client/redisReply', label: 'Redis → client', color: '#dc2626', response: true },
  { type: 'db/dbRequest', label: 'client → database', color: '#7c3aed', response: false },
  { type: 'client/dbReply', label: 'database → client', color: '#7c3aed', response: true },
  { type: 'power/powerOff', label: 'STONITH: power off', color: '#111827', response: false },
  { type: 'kv/append', label: 'Raft replication', color: '#64748b', response: false },
  { type: 'kv/heartbeat', label: 'Raft heartbeat', color: '#cbd5e1', response: false },
];

const PANELS: readonly PanelDef[] = [
  { id: 'lock', title: 'Lock', place: 'main', hint: 'The lock as the service holds it: the holder and its fencing token, the waiters in line, each lease’s time left (sim time).' },
  { id: 'lock-story', title: 'What happened', place: 'main', hint: 'Each step of the scenario and each thing the service, the clients and the database did, as it happened.' },
  { id: 'lock-clients', title: 'Beliefs', place: 'side', hint: 'What each client believes: holds, waiting, paused.' },
  { id: 'lock-resource', title: 'Protected resource', place: 'side', hint: 'The database the lock protects: each key’s value, the highest token it accepted, and the last write it refused.' },
  { id: 'lock-verdicts', title: 'Verdicts', place: 'lower', hint: 'The lock checkers (and, for the inventory race, the inventory check), live.' },
];

/** A scenario as the visualizer lists it: its own name is its id. */
function listed(s: LockScenario): Scenario {
  return { id: s.name, title: s.name.replace(/-/g, ' '), summary: s.caption, nodes: s.system.clients ?? LOCK_SYSTEM_DEFAULTS.clients, seed: s.seed, steps: [], driven: true, endMs: SCENARIO_END_MS };
}

/** Which variant shows a scenario: the inventory race with the fenced Synod lock, the rest by backend (and fencing for Synod). */
function showsScenario(v: LockVariant, s: LockScenario): boolean {
  if (s.inventory !== undefined) return v.name === 'lock';
  if (s.system.backend !== v.backend) return false;
  return v.backend !== 'synod' || s.system.fencing === v.fencing;
}

function monitorsFor(view: LockView): SafetyMonitor[] {
  const r = () => view.verdicts();
  const overlap = (m: { ok: boolean; overlaps: readonly { message: string }[] }): string | null => (m.ok ? null : (m.overlaps[0]?.message ?? 'two holders at once'));
  const list: SafetyMonitor[] = [
    new CheckMonitor('lock-service', 'Mutex (service)', 'No two grants overlap as the lock service granted them (checkMutex, service view).', () => overlap(r().service)),
    new CheckMonitor('lock-client', 'Mutex as believed', 'No two clients believe they hold the lock at once (checkMutex, client view): a paused holder breaks it.', () => overlap(r().client)),
    new CheckMonitor('lock-grants', 'Tokens', 'Each grant’s token is above every earlier one (checkGrants).', () => (r().grants.ok ? null : (r().grants.problems[0]?.message ?? 'token out of order'))),
    new CheckMonitor('lock-resource', 'Fenced resource', 'The resource accepted no write whose token is below one it accepted before (checkFencedResource).', () => (r().resource.ok ? null : (r().resource.violations[0]?.message ?? 'stale write accepted'))),
  ];
  return view.system.options.buyers === undefined ? list : [];
}

class LockRun implements ProtocolRun {
  readonly sim: LockSystem['sim'];
  readonly monitors: readonly SafetyMonitor[];
  private readonly view: LockView;

  constructor(
    private readonly system: LockSystem,
    unwrap: Unwrap,
    private readonly scenario: LockScenario | undefined,
    view: (v: LockView) => void,
  ) {
    this.sim = system.sim;
    this.view = new LockView(system, unwrap, scenario);
    view(this.view);
    this.monitors = monitorsFor(this.view);
  }

  nodeIds(): readonly NodeId[] {
    return this.system.nodeIds;
  }

  leader(): NodeId | undefined {
    return this.system.layout.kv.length > 0 ? this.system.leader() : undefined;
  }

  describeNode(id: NodeId): NodeView {
    const s = this.system;
    const up = s.isUp(id);
    if (s.layout.kv.includes(id)) {
      const st = s.raft(id)?.status();
      if (!up || st === undefined) return { id, up: false, role: 'down', details: [] };
      return { id, up, role: st.role, details: [`term ${st.term}`, `commit ${st.commit}`], term: st.term, leader: st.leader };
    }
    if (s.layout.redis.includes(id)) return { id, up, role: up ? 'redis' : 'down', details: [] };
    if (id === s.layout.db) {
      const keys = new Set(s.writes.map((w) => w.resource));
      const inv = this.scenario?.inventory;
      if (inv?.store === 'db') keys.add(inv.key);
      return { id, up, role: up ? 'db' : 'down', details: [...keys].sort().slice(0, 2).map((k) => `${k} = ${s.dbValue(k) ?? '—'}`) };
    }
    const b = this.view.belief(id);
    const phase = this.view.phase(id);
    const role = !up ? 'down' : b.holds ? 'holds' : phase === 'acquiring' ? 'waiting' : 'client';
    return { id, up, role, details: [b.holds && b.token !== null ? `token ${b.token}` : phase] };
  }

  describePanels(): Record<string, ReturnType<typeof lockTable>> {
    this.view.catchUp();
    return { lock: lockTable(this.view), 'lock-story': storyTable(this.view), 'lock-clients': clientsTable(this.view), 'lock-resource': resourceTable(this.view), 'lock-verdicts': verdictTable(this.view) };
  }

  afterStep(): void {
    this.view.catchUp();
  }

  describeMessage(msg: Message): string {
    const body = (msg as { body?: unknown }).body;
    const text = JSON.stringify(body) ?? '';
    return `${msg.type} ${text.length > 90 ? `${text.slice(0, 87)}...` : text}`;
  }

  /** Hands an operation to the chosen client, or to the first idle one. */
  clientOp(op: string, _process: string, node: NodeId | null, value: number): void {
    const s = this.system;
    const clients = s.layout.clients;
    const client = node !== null && clients.includes(node) && !s.driver.isBusy(node) ? node : clients.find((c) => s.isUp(c) && !s.driver.isBusy(c));
    if (client === undefined) {
      s.note('visualizer: every client is busy');
      return;
    }
    if (op === 'buy' || s.options.buyers !== undefined) s.submit(client, { f: 'buy', key: this.scenario?.inventory?.key ?? 'stock' });
    else if (op === 'read') s.submit(client, { f: 'read', key: 'x' });
    else s.submit(client, { f: 'write', key: 'x', value });
  }

  checkable(ops: readonly Operation[]): { readonly ops: readonly Operation[]; readonly note: string | null } {
    const kept = ops.filter((op) => op.f === 'put' || op.f === 'get');
    return { ops: kept, note: kept.length === ops.length ? null : `not checked: ${ops.length - kept.length} purchase(s) (the inventory verdict judges them)` };
  }

  protocolAction(name: string): string {
    return `no action ${name}`;
  }

  startScenario(): void {
    const scenario = this.scenario;
    if (scenario === undefined) return;
    this.system.note(`scenario ${scenario.name}: ${scenario.caption}`);
    driveScenarioProgram(this.system.sim, lockScenarioProgram(this.system, scenario), {
      pollMs: POLL_MS,
      onStep: (where, text) => this.view.stepBegan(where, text),
      onEnd: (failure) => {
        this.view.catchUp();
        this.view.finished = failure === undefined ? 'Scenario complete.' : `Expectation failed: ${failure}`;
        this.system.note(`scenario: ${this.view.finished}`);
      },
    });
  }

  scenarioCaption(): string | null {
    const scenario = this.scenario;
    if (scenario === undefined) return null;
    this.view.catchUp();
    const last = this.view.story.filter((l) => l.who !== 'scenario').slice(-1)[0];
    const lines = [scenario.caption];
    lines.push(this.view.finished === undefined ? `Step ${this.view.step === '' ? '—' : this.view.step}` : `${this.view.finished} ${this.verdictLine()}`);
    if (last !== undefined) lines.push(`${last.atMs} ms · ${last.who} ${last.text}`);
    return lines.join('\n');
  }

  /** The verdicts a finished scenario is judged by, in one line. */
  private verdictLine(): string {
    const inv = this.view.inventory();
    if (inv !== undefined) return inv.verdict === null ? '' : `Inventory: ${inv.verdict.ok ? 'ok' : 'VIOLATION'} (${inv.verdict.message}).`;
    const r = this.view.verdicts();
    const word = (ok: boolean): string => (ok ? 'ok' : 'VIOLATION');
    return `Mutex as granted: ${word(r.service.ok)}; as believed: ${word(r.client.ok)}; fenced resource: ${this.system.writes.length === 0 ? 'no write' : word(r.resource.ok)}.`;
  }
}

function lockAdapter(variant: LockVariant): ProtocolAdapter {
  const scenarios = LOCK_SCENARIOS.filter((s) => showsScenario(variant, s));
  const title = { lock: 'Lock: Synod, fenced', 'lock-unfenced': 'Lock: Synod, unfenced', 'lock-redis': 'Lock: single Redis', redlock: 'Lock: Redlock' }[variant.name] ?? variant.name;
  return {
    id: variant.name,
    title,
    blurb: `${variant.summary[0]?.toUpperCase() ?? ''}${variant.summary.slice(1)}; clients c1..cN take the lock, work and write x to the database db.`,
    nodes: { min: 2, max: MAX_CLIENTS, initial: 2 },
    initialSpeed: 150,
    initialSpanMs: SCENARIO_END_MS,
    hasLeader: variant.backend === 'synod',
    roles: ROLES,
    messageTypes: MESSAGE_TYPES,
    panels: PANELS,
    clientOps: [
      { id: 'lockWrite', label: 'Lock + write', title: 'A client takes the lock, works, writes x with its token, and releases', target: 'node' },
      { id: 'read', label: 'Read x', title: 'A client reads x from the database, without the lock', target: 'node' },
    ],
    nodeActions: [],
    clusterActions: [],
    checker: { model: kvModel, describe: 'kv model over the resource’s writes and reads' },
    scenarios: scenarios.map(listed),
    build(ctx) {
      const scenario = ctx.scenario === undefined ? undefined : scenarios.find((s) => s.name === ctx.scenario);
      const options: LockSystemOptions = scenario !== undefined ? { ...scenario.system, seed: ctx.seed } : { seed: ctx.seed, backend: variant.backend, fencing: variant.fencing, clients: ctx.nodes };
      // an inner wrapper of our own tells the view every message a core sends (the trace carries no bodies)
      let view: LockView | undefined;
      const observe = { sending: (from: NodeId, to: NodeId, msg: Message) => view?.sending(from, to, msg), stepped: () => undefined, extraTicks: () => 0 };
      const unwrap: Unwrap = (core) => unwrapCore(ctx.unwrap(core));
      const system = new LockSystem(options, { wrapSpec: (spec) => ctx.wrap(wrapSpec(spec, observe)), unwrapCore: unwrap });
      return new LockRun(system, unwrap, scenario, (v) => (view = v));
    },
  };
}

/** One adapter per lock variant of the sim CLI (`synod sim run --protocol lock|lock-unfenced|lock-redis|redlock`). */
export const LOCK_ADAPTERS: readonly ProtocolAdapter[] = LOCK_VARIANTS.map(lockAdapter);
