// The one fault vocabulary of the simulator: every fault a test, a chaos run, a scenario or the
// visualizer can inject is a Fault, and applyFault is the only code that turns one into calls
// on a simulation. The nemesis text grammar (nemesis.ts), scenario steps (scenario.ts) and the
// visualizer's actions (web/src/engine/actions.ts) are syntaxes over it.
import type { Message, NodeId } from '../core/index.js';
import type { LinkConfig } from './network.js';
import type { Simulation } from './simulation.js';

/** A target: a node id, the current leader (by the `role`/`term` annotations), or a random node. */
export type Target = { readonly kind: 'node'; readonly id: NodeId } | { readonly kind: 'leader' } | { readonly kind: 'random' };

/** The link settings a fault may change. */
export type LinkChange = Partial<LinkConfig>;

export type Fault =
  /** Cuts every link between nodes of different groups, both ways; nodes in no group stay connected. */
  | { readonly kind: 'partition'; readonly groups: readonly (readonly NodeId[])[] }
  /** Cuts the links from `from` to `to` only. */
  | { readonly kind: 'partition-one-way'; readonly from: readonly NodeId[]; readonly to: readonly NodeId[] }
  | { readonly kind: 'isolate'; readonly target: Target }
  /** Removes every partition. */
  | { readonly kind: 'heal' }
  /** A crash loses what was not synced (and may tear the last write). */
  | { readonly kind: 'crash'; readonly target: Target }
  | { readonly kind: 'restart'; readonly target: Target | { readonly kind: 'all' } }
  /** Stop-the-world: the node handles nothing for `durationMs`. */
  | { readonly kind: 'pause'; readonly target: Target; readonly durationMs: number }
  /** Each input the node handles costs it `processingMs` (0: back to normal). */
  | { readonly kind: 'slow'; readonly target: Target; readonly processingMs: number }
  | { readonly kind: 'clock'; readonly target: Target; readonly offsetMs: number; readonly driftPpm: number }
  /** Changes the links from `from` to `to` ("*": every node), and back when `both`. */
  | { readonly kind: 'link'; readonly from: NodeId | '*'; readonly to: NodeId | '*'; readonly both: boolean; readonly change: LinkChange }
  /** Drops the message in flight with this number (its position among all messages sent). */
  | { readonly kind: 'drop'; readonly msg: number };

export type FaultKind = Fault['kind'];

/**
 * What applyFault uses of a simulation. None of it depends on the protocol's types, so any
 * Simulation is one, and so is a protocol-neutral view of one (the visualizer's engine).
 */
export type FaultableSim = Pick<
  Simulation<Message, unknown, unknown, unknown>,
  'nodeIds' | 'isUp' | 'annotations' | 'random' | 'partition' | 'partitionOneWay' | 'isolate' | 'heal' | 'crash' | 'restart' | 'pause' | 'setSlow' | 'setClock' | 'setLink' | 'dropInFlight'
>;

/** The up node that calls itself leader with the highest term, if any. */
export function findLeader(sim: Pick<FaultableSim, 'nodeIds' | 'isUp' | 'annotations'>): NodeId | undefined {
  let best: NodeId | undefined;
  let bestTerm = -Infinity;
  for (const id of sim.nodeIds) {
    if (!sim.isUp(id)) continue;
    const a = sim.annotations(id);
    if (a.get('role') !== 'leader') continue;
    const term = Number(a.get('term') ?? 0);
    if (term > bestTerm) {
      best = id;
      bestTerm = term;
    }
  }
  return best;
}

/** The node a target names now; undefined when there is none (no leader). Random targets draw from the "nemesis" stream. */
export function resolveTarget(sim: FaultableSim, target: Target): NodeId | undefined {
  switch (target.kind) {
    case 'node':
      return target.id;
    case 'leader':
      return findLeader(sim);
    case 'random':
      return sim.random.stream('nemesis').pick(sim.nodeIds);
  }
}

/** A link change on every link that sets one rate only: the nemesis words "loss", "duplicate", "reorder". */
export function linkRateFault(kind: 'loss' | 'duplicate' | 'reorder', rate: number): Fault {
  const name = kind === 'loss' ? 'lossRate' : kind === 'duplicate' ? 'duplicateRate' : 'reorderRate';
  return { kind: 'link', from: '*', to: '*', both: false, change: { [name]: rate } };
}

/** "loss 0.1" for a fault linkRateFault made; undefined for other link changes. */
function rateWord(f: Extract<Fault, { kind: 'link' }>): string | undefined {
  const keys = Object.keys(f.change);
  if (f.from !== '*' || f.to !== '*' || keys.length !== 1) return undefined;
  const word = { lossRate: 'loss', duplicateRate: 'duplicate', reorderRate: 'reorder' }[keys[0] as string];
  return word === undefined ? undefined : `${word} ${String(f.change[keys[0] as keyof LinkChange])}`;
}

/** Carries out one fault now. Returns a short description for the trace. */
export function applyFault(sim: FaultableSim, fault: Fault): string {
  const on = (target: Target, fn: (id: NodeId) => void, verb: string, detail = ''): string => {
    const id = resolveTarget(sim, target);
    if (id === undefined) return `${verb}: no ${target.kind} to act on`;
    fn(id);
    return `${verb} ${id}${detail}`;
  };
  switch (fault.kind) {
    case 'partition':
      sim.partition(fault.groups);
      return `partition ${fault.groups.map((g) => `{${g.join(',')}}`).join(' | ')}`;
    case 'partition-one-way':
      sim.partitionOneWay(fault.from, fault.to);
      return `partition {${fault.from.join(',')}} -> {${fault.to.join(',')}}`;
    case 'isolate':
      return on(fault.target, (id) => sim.isolate(id), 'isolate');
    case 'heal':
      sim.heal();
      return 'heal';
    case 'crash':
      return on(fault.target, (id) => sim.crash(id), 'crash');
    case 'restart':
      if (fault.target.kind === 'all') {
        for (const id of sim.nodeIds) sim.restart(id);
        return 'restart all';
      }
      return on(fault.target, (id) => sim.restart(id), 'restart');
    case 'pause':
      return on(fault.target, (id) => sim.pause(id, fault.durationMs), 'pause', ` for ${fault.durationMs} ms`);
    case 'slow':
      return on(fault.target, (id) => sim.setSlow(id, fault.processingMs), 'slow', ` ${fault.processingMs} ms per input`);
    case 'clock':
      return on(fault.target, (id) => sim.setClock(id, fault.offsetMs, fault.driftPpm), 'clock', ` offset ${fault.offsetMs} ms, drift ${fault.driftPpm} ppm`);
    case 'link': {
      sim.setLink(fault.from, fault.to, fault.change);
      if (fault.both) sim.setLink(fault.to, fault.from, fault.change);
      return rateWord(fault) ?? `link ${fault.from} ${fault.both ? '<->' : '->'} ${fault.to}: ${JSON.stringify(fault.change)}`;
    }
    case 'drop':
      sim.dropInFlight(fault.msg);
      return `drop message #${fault.msg}`;
  }
}
