// Plays the project's Raft scenario scripts (src/raft/scenarios.ts) inside a visualized run.
// The project's runner drives the simulation itself (it runs the simulator until each
// expectation holds), which a visualizer cannot let it do; this driver gives the same steps the
// same meaning but runs as host callbacks in virtual time: a step that waits polls every few
// milliseconds, so the run stays deterministic and replays exactly. Captions come from the
// scenario's caption and describeStep.
import { describeStep, SCENARIOS, type Scenario as RaftScenario, type ScenarioStep } from '../../../src/raft/scenarios.js';
import { startWorkload, type Workload } from '../../../src/raft/workload.js';
import type { NodeId, RandomStream } from '../../../src/sim/index.js';
import type { VizRaftCluster } from './raft-cluster.js';
import type { Scenario } from './types.js';

const POLL_MS = 5;

/** The project's scenarios as the visualizer lists them (ids prefixed "raft-"). */
export const RAFT_SCENARIOS: readonly Scenario[] = SCENARIOS.map((s) => ({
  id: `raft-${s.name}`,
  title: s.name.replace(/-/g, ' '),
  summary: s.caption,
  nodes: s.nodes,
  seed: 1,
  steps: [],
  driven: true,
  endMs: 6000,
}));

export function raftScenario(id: string): RaftScenario | undefined {
  return SCENARIOS.find((s) => `raft-${s.name}` === id);
}

class StepFailed extends Error {}

export class ScenarioDriver {
  private readonly bindings = new Map<string, NodeId[]>();
  private readonly isolated = new Set<NodeId>();
  private readonly rng: RandomStream;
  private workload: Workload | undefined;
  private workloads = 0;
  private writes = 0;
  private asyncClients = 0;
  private current = '';
  private status = '';
  private finished = false;

  constructor(
    private readonly c: VizRaftCluster,
    private readonly scenario: RaftScenario,
  ) {
    this.rng = c.sim.random.stream('scenario');
  }

  caption(): string {
    const what = this.finished ? this.status : `Step ${this.current}${this.status === '' ? '' : ` — ${this.status}`}`;
    return `${this.scenario.caption}\n${what}`;
  }

  start(): void {
    this.c.note(`scenario ${this.scenario.name}: ${this.scenario.caption}`);
    this.runSteps(this.scenario.steps, '', () => this.end('Scenario complete. Every expectation held; keep playing or act on the cluster.'));
  }

  private end(text: string): void {
    this.finished = true;
    this.status = text;
    this.workload?.stop();
    this.c.note(`scenario: ${text}`);
  }

  private fail(where: string, what: string): never {
    throw new StepFailed(`step ${where}: ${what} (at ${this.c.nowMs} ms)`);
  }

  /** Runs `fn`; a failed expectation ends the scenario (the run itself goes on). */
  private guarded(fn: () => void): void {
    if (this.finished) return;
    try {
      fn();
    } catch (err) {
      if (!(err instanceof StepFailed)) throw err;
      this.end(`Expectation failed: ${err.message}`);
    }
  }

  private runSteps(steps: readonly ScenarioStep[], path: string, done: () => void): void {
    let i = 0;
    const next = (): void => {
      if (this.finished) return;
      if (i >= steps.length) return done();
      const step = steps[i++] as ScenarioStep;
      const where = `${path}${i}`;
      // every step starts in its own event, so long scripts never grow the stack
      this.c.sim.after(0, () =>
        this.guarded(() => {
          this.current = `${where}: ${describeStep(step)}`;
          this.status = '';
          this.c.note(`step ${where}: ${describeStep(step)}`);
          this.runStep(step, where, next);
        }),
      );
    };
    next();
  }

  /** Calls `ok` once `pred` holds, or `timeout` after `withinMs`, polling in virtual time. */
  private waitFor(pred: () => boolean, withinMs: number, ok: () => void, timeout: () => void): void {
    const deadline = this.c.nowMs + withinMs;
    const poll = (): void =>
      this.guarded(() => {
        if (pred()) return ok();
        if (this.c.nowMs >= deadline) return timeout();
        this.c.sim.after(Math.min(POLL_MS, Math.max(1, deadline - this.c.nowMs)), poll);
      });
    poll();
  }

  private resolve(ref: string, where: string): NodeId[] {
    if (ref === 'leader') {
      const leader = this.c.readyLeader() ?? this.c.leader();
      return leader === undefined ? [] : [leader];
    }
    if (ref === 'leaders') return this.c.leaders();
    const bound = this.bindings.get(ref);
    if (bound !== undefined) return bound;
    if (this.c.nodeIds.includes(ref)) return [ref];
    return this.fail(where, `unknown node reference "${ref}"`);
  }

  private resolveAll(refs: readonly string[], where: string): NodeId[] {
    const named = [...new Set(refs.filter((r) => r !== 'rest').flatMap((r) => this.resolve(r, where)))];
    if (!refs.includes('rest')) return named;
    return [...named, ...this.c.nodeIds.filter((id) => !named.includes(id))];
  }

  private bind(name: string, ids: NodeId[]): void {
    this.bindings.set(name, ids);
    this.status = `${name} = ${ids.join(',')}`;
    this.c.note(this.status);
  }

  private runStep(step: ScenarioStep, where: string, next: () => void): void {
    const c = this.c;
    const wait = (ms: number): void => c.sim.after(Math.max(0, ms), () => this.guarded(next));
    switch (step.do) {
      case 'run':
        return wait(step.ms);
      case 'runRandom':
        return wait(this.rng.int(step.minMs, step.maxMs));
      case 'note':
        this.status = step.text;
        return next();
      case 'pick': {
        const excluded = new Set(this.resolveAll(step.notIn ?? [], where));
        const pool = c.nodeIds.filter((id) => !excluded.has(id) && (step.up !== true || c.isUp(id)));
        const count = step.count ?? 1;
        if (pool.length < count) this.fail(where, `only ${pool.length} node(s) to pick ${count} from`);
        this.bind(step.as, this.rng.shuffled(pool).slice(0, count));
        return next();
      }
      case 'expectLeader': {
        const excluded = new Set(this.resolveAll(step.notIn ?? [], where));
        const found = (): NodeId | undefined => {
          const l = c.readyLeader();
          return l !== undefined && !excluded.has(l) ? l : undefined;
        };
        return this.waitFor(
          () => found() !== undefined,
          step.withinMs,
          () => {
            if (step.as !== undefined) this.bind(step.as, [found() as NodeId]);
            next();
          },
          () => this.fail(where, `no leader${excluded.size > 0 ? ` outside {${[...excluded].join(',')}}` : ''} within ${step.withinMs} ms`),
        );
      }
      case 'expectOneLeader':
        return this.waitFor(() => c.leaders().length === 1, step.withinMs, next, () => this.fail(where, `leaders: ${c.leaders().join(', ') || 'none'}`));
      case 'expectNoLeader':
        return c.sim.after(step.graceMs ?? 400, () =>
          this.guarded(() => {
            const among = this.resolveAll(step.among, where);
            const found = (): NodeId | undefined => among.find((id) => c.core(id)?.status().role === 'leader');
            this.waitFor(() => found() !== undefined, step.forMs, () => this.fail(where, `node ${found() ?? '?'} became leader`), next);
          }),
        );
      case 'expectStableLeader': {
        const leader = c.readyLeader();
        if (leader === undefined) return this.fail(where, 'no leader to begin with');
        const term = c.core(leader)?.status().term;
        const changed = (): boolean => c.readyLeader() !== leader || c.nodeIds.some((id) => c.isUp(id) && c.core(id)?.status().term !== term);
        return this.waitFor(changed, step.forMs, () => this.fail(where, `leader ${leader} of term ${String(term)} did not stay (now ${c.leader() ?? 'none'})`), next);
      }
      case 'partition': {
        this.isolated.clear();
        const named = step.groups.map((g) => this.resolveAll(g.filter((r) => r !== 'rest'), where));
        const used = new Set(named.flat());
        const rest = c.nodeIds.filter((id) => !used.has(id));
        c.sim.partition(step.groups.map((g, i) => (g.includes('rest') ? [...(named[i] as NodeId[]), ...rest] : (named[i] as NodeId[]))));
        return next();
      }
      case 'isolate':
        for (const id of this.resolveAll(step.nodes, where)) {
          c.sim.isolate(id);
          this.isolated.add(id);
        }
        return next();
      case 'heal':
        this.isolated.clear();
        c.sim.heal();
        return next();
      case 'crash':
        for (const id of step.nodes === 'all' ? c.nodeIds : this.resolveAll(step.nodes, where)) c.sim.crash(id);
        return next();
      case 'restart':
        for (const id of step.nodes === 'all' ? c.nodeIds : this.resolveAll(step.nodes, where)) c.sim.restart(id);
        return next();
      case 'restartQuorum': {
        const majority = Math.floor(c.nodeIds.length / 2) + 1;
        for (const id of this.rng.shuffled(c.nodeIds)) {
          if (c.nodeIds.filter((n) => c.isUp(n)).length >= majority) break;
          if (!c.isUp(id)) c.sim.restart(id);
        }
        return next();
      }
      case 'reconnectQuorum': {
        const majority = Math.floor(c.nodeIds.length / 2) + 1;
        if (c.nodeIds.length - this.isolated.size >= majority) return next();
        for (const id of this.rng.shuffled([...this.isolated])) {
          if (c.nodeIds.length - this.isolated.size >= majority) break;
          this.isolated.delete(id);
        }
        c.sim.heal();
        for (const id of this.isolated) c.sim.isolate(id);
        return next();
      }
      case 'pause':
        for (const id of this.resolve(step.node, where)) c.sim.pause(id, step.ms);
        return next();
      case 'link':
        c.sim.setLink('*', '*', step.change);
        return next();
      case 'write':
        return this.write(step.count, step.expect ?? 'ok', where, next);
      case 'writeAsync':
        for (const target of this.resolve(step.via, where)) {
          for (let k = 0; k < step.count; k++) {
            const n = ++this.writes;
            c.client(`async${++this.asyncClients}`).submit({ op: 'put', key: `w${n}`, value: n }, { retry: false, target });
          }
        }
        return next();
      case 'clients':
        this.workload?.stop();
        this.workload = startWorkload(c, { clients: step.count, keys: step.keys ?? 3, thinkMs: step.thinkMs ?? 20, prefix: `bg${++this.workloads}-` });
        return next();
      case 'stopClients': {
        const clients = this.workload?.clients ?? [];
        this.workload?.stop();
        this.workload = undefined;
        return this.waitFor(() => clients.every((k) => !k.busy), step.drainMs ?? c.clientOptions.opTimeoutMs + 100, next, next);
      }
      case 'expectAgreement':
        return this.waitFor(
          () => c.caughtUp(),
          step.withinMs,
          () => {
            const before = c.monitor.violationCount;
            c.monitor.checkConvergence(c.readyLeader());
            c.monitor.checkLogs();
            if (c.monitor.violationCount > before) this.fail(where, c.monitor.violations[c.monitor.violations.length - 1]?.message ?? 'members disagree');
            next();
          },
          () => this.fail(where, 'members did not catch up'),
        );
      case 'expectNoCommit': {
        const among = this.resolveAll(step.among, where);
        const committed = Math.max(...c.nodeIds.map((id) => c.core(id)?.status().commit ?? 0));
        const advanced = (): NodeId | undefined => among.find((id) => (c.core(id)?.status().commit ?? 0) > committed);
        return this.waitFor(() => advanced() !== undefined, step.forMs, () => this.fail(where, `node ${advanced() ?? '?'} committed without a majority`), next);
      }
      case 'expectSnapshot':
        for (const id of step.nodes ? this.resolveAll(step.nodes, where) : c.nodeIds.filter((n) => c.isUp(n))) {
          if ((c.core(id)?.status().snapshotIndex ?? 0) === 0) this.fail(where, `node ${id} has not taken or installed a snapshot`);
        }
        return next();
      case 'expectSnapshotSent':
        if ((c.sim.stats.byType.get('snapshot')?.delivered ?? 0) === 0) this.fail(where, 'no snapshot chunk was delivered');
        return next();
      case 'addNode':
        if (!c.nodeIds.includes(step.id)) c.addNode(step.id);
        return next();
      case 'admin': {
        const [node] = this.resolve(step.node, where);
        if (node === undefined) return this.fail(where, `no node for "${step.node}"`);
        const expect = step.expect ?? 'ok';
        return c.adminAsync(step.type, node, step.withinMs ?? 10_000, (r) =>
          this.guarded(() => {
            if (expect === 'ok' && !r.ok) this.fail(where, `${step.type} ${node} failed: ${r.error ?? ''}`);
            if (expect === 'fail' && r.ok) this.fail(where, `${step.type} ${node} succeeded but should not have`);
            next();
          }),
        );
      }
      case 'expectMembers': {
        const config = c.membership();
        if (config === undefined) return this.fail(where, 'no node to ask for the configuration');
        const want = this.resolveAll(step.voters, where).sort();
        if ([...config.voters].join(',') !== want.join(',')) this.fail(where, `voters are {${config.voters.join(',')}}, expected {${want.join(',')}}`);
        if (step.learners !== undefined) {
          const wantL = this.resolveAll(step.learners, where).sort();
          if ([...config.learners].join(',') !== wantL.join(',')) this.fail(where, `learners are {${config.learners.join(',')}}, expected {${wantL.join(',')}}`);
        }
        return next();
      }
      case 'expectLeaderIs': {
        const [target] = this.resolve(step.node, where);
        if (target === undefined) return this.fail(where, `no node for "${step.node}"`);
        return this.waitFor(() => c.readyLeader() === target, step.withinMs, next, () => this.fail(where, `leader is ${c.leader() ?? 'nobody'}, not ${target}`));
      }
      case 'repeat': {
        let round = 0;
        const again = (): void => {
          if (round >= step.times) return next();
          round++;
          this.runSteps(step.steps, `${where}.${round}.`, again);
        };
        return again();
      }
      case 'maybe':
        if (this.rng.chance(step.probability)) return this.runSteps(step.steps, `${where}.`, next);
        return next();
    }
  }

  private write(count: number, expect: 'ok' | 'any', where: string, next: () => void): void {
    const writer = this.c.client('writer');
    let done = 0;
    const one = (): void => {
      if (done >= count) return next();
      const go = (): void => {
        const n = ++this.writes;
        this.status = `write ${done + 1} of ${count}`;
        writer.submit(
          { op: 'put', key: `w${n}`, value: n },
          {
            onDone: (handle) =>
              this.guarded(() => {
                if (expect === 'ok' && handle.outcome !== 'ok') this.fail(where, `write ${n} ended ${handle.outcome ?? 'unfinished'} (${handle.error ?? ''})`);
                done++;
                this.c.sim.after(0, () => this.guarded(one));
              }),
          },
        );
      };
      if (writer.busy) this.waitFor(() => !writer.busy, this.c.clientOptions.opTimeoutMs + 10, go, go);
      else go();
    };
    one();
  }
}
