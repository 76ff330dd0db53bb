// The protocol adapter: everything the visualizer needs to know about one protocol. The engine,
// the drawing and the controls are protocol-neutral; an adapter says how to build a simulation
// of N nodes from a seed, how to describe a node for drawing (a neutral NodeView: id, up, role,
// details, and only the parts the protocol has: term, vote, leader, timer, log), which extra
// panels it shows, which client operations and protocol actions to offer, which safety monitors
// to run and which checker model the history is checked against. See docs/visualizer.md.
import type { Model } from '../../../src/check/index.js';
import type { FaultableSim, Message, NodeId, Operation, ProtocolCore, ProtocolSpec, Simulation } from '../../../src/sim/index.js';
import type { Action } from '../engine/actions.js';

/**
 * The simulator methods the engine uses; none depends on a protocol's message or request types.
 * It is a FaultableSim: the engine applies every fault with the simulator's applyFault.
 */
export type SimControl = FaultableSim &
  Pick<
    Simulation<Message, unknown, unknown, unknown>,
    'seed' | 'nowMs' | 'stats' | 'runUntil' | 'runUntilTrue' | 'step' | 'isCut' | 'link' | 'subscribe' | 'invoke' | 'complete' | 'historySnapshot' | 'after' | 'note'
  >;

/** One entry of a node's log as drawn: coloured by term, labelled by its command. */
export interface LogCell {
  readonly index: number;
  readonly term: number;
  /** Short text inside or under the cell ("x=3", "cfg", "noop"). */
  readonly label: string;
  /** Full text for the tooltip. */
  readonly title: string;
  /** Drawn hatched (e.g. configuration or no-op entries). */
  readonly special: boolean;
}

export interface LogView {
  /** The newest entries (at most the window asked for), oldest first. */
  readonly cells: readonly LogCell[];
  readonly lastIndex: number;
  /** Entries up to here are committed (null: the protocol has no commit point). */
  readonly commit: number | null;
  readonly applied: number | null;
  /** Entries up to here are compacted into a snapshot (0: none). */
  readonly snapshotIndex: number;
}

/** A timer drawn as the arc around a node (the part left), in ticks. */
export interface NodeTimer {
  readonly elapsed: number;
  readonly timeout: number;
}

/**
 * A node's state at the displayed time, for drawing. Every protocol gives the first four; the
 * others are optional and drawn only when present: no log, no log strip; no term, no term badge.
 */
export interface NodeView {
  readonly id: NodeId;
  readonly up: boolean;
  /** One of the adapter's roles (its colour and legend entry), or "down" / "unknown". */
  readonly role: string;
  /** A few short lines ("commit 5", "holds 3"): the first inside the node when it has no term, the rest under it. */
  readonly details: readonly string[];
  /** Absent: the protocol has no terms; null: it has, but this node's is not known now. */
  readonly term?: number | null;
  /** Whom the node voted for in its term (absent: the protocol has no votes). */
  readonly vote?: NodeId | null;
  /** The leader this node follows (absent: the protocol has no leader). */
  readonly leader?: NodeId | null;
  /** E.g. Raft's election timer; null while it does not run (a leader, a down node). */
  readonly timer?: NodeTimer | null;
  readonly log?: LogView;
  /** False when the node is not a voting or learning member of the configuration (removed, or not yet added); absent: always a member. */
  readonly member?: boolean;
  /** One of the adapter's marks (NodeStyle.marks), drawn as a coloured ring around the node; absent or null: none. */
  readonly mark?: string | null;
}

/** What the ring needs to know about a protocol: its colours and what its timer arc means. */
export interface NodeStyle {
  readonly roles: readonly RoleDef[];
  readonly messageTypes: readonly MessageTypeDef[];
  /** The name of the timer drawn as the arc around a node ("election timer"); absent: no timer. */
  readonly timerLabel?: string;
  /** What the ring around a node means (NodeView.mark), for the drawing and the legend; absent: no marks. */
  readonly marks?: readonly RoleDef[];
}

// ---------------------------------------------------------------- adapter panels

/** Where the page mounts an adapter's panel: beside the ring, under it (with the logs), or in the bottom row. */
export type PanelPlace = 'side' | 'main' | 'lower';

/** An extra panel an adapter adds to the page. Its content comes with every view (ClusterView.panels). */
export interface PanelDef {
  /** The section's data-testid is `panel-${id}`. */
  readonly id: string;
  readonly title: string;
  readonly place: PanelPlace;
  /** One line on what it shows, under the title. */
  readonly hint?: string;
  /**
   * Controls above the content: rows of fields and buttons. A button issues a client action
   * built from the fields: in a simulation it is recorded, replayed and kept in links like every
   * other action; in live mode the live source carries it out (the live Watch panel's button).
   */
  readonly controls?: readonly (readonly PanelControl[])[];
}

/** A field, a button or a line of text in an adapter panel's controls. */
export type PanelControl = PanelField | PanelButton | { readonly kind: 'note'; readonly text: string };

export interface PanelField {
  /** Its data-testid is `${panel id}-${id}`; buttons read it by this id. */
  readonly id: string;
  /** text, number, a checkbox, a JSON box (with presets that fill it), or a list of the nodes (with "any node" when `any`). */
  readonly kind: 'text' | 'number' | 'check' | 'json' | 'node';
  readonly label?: string;
  readonly initial?: string;
  readonly title?: string;
  readonly size?: number;
  readonly any?: boolean;
  readonly presets?: readonly { readonly label: string; readonly text: string }[];
}

export interface PanelButton {
  readonly kind: 'button';
  /** Its data-testid is `${panel id}-${id}`. */
  readonly id: string;
  readonly label: string;
  readonly title: string;
  /** The client action the fields' values make (`values` by field id; a check is "true" or ""), or why there is none. */
  build(values: ReadonlyMap<string, string>): { readonly op: string; readonly node: NodeId | null; readonly arg?: string } | { readonly problem: string };
}

/**
 * What an adapter panel shows at one moment, as plain data: the page keeps it with the frame (so
 * previews while scrubbing show it too) and draws it with its own widgets (ui/panel-views.ts).
 */
export type PanelContent = TableContent | SequencesContent;

/** Panel contents by panel id; a panel without content this time is left as it was. */
export type PanelContents = Readonly<Record<string, PanelContent>>;

export type Tone = 'good' | 'bad' | 'warn' | 'dim';

export interface TableCell {
  readonly text: string;
  readonly tone?: Tone;
  /** Tooltip. */
  readonly title?: string;
}

export interface TableRow {
  /** The row's data-testid is `${panel id}-row-${key}`. */
  readonly key: string;
  readonly cells: readonly (string | TableCell)[];
  /** The whole row faded (e.g. values a node can no longer report) or marked. */
  readonly tone?: Tone;
}

/** A table: a membership matrix, a node's counters, a transaction's participants, ... */
export interface TableContent {
  readonly kind: 'table';
  readonly columns: readonly string[];
  readonly rows: readonly TableRow[];
  /** Shown in place of the table when there are no rows. */
  readonly empty?: string;
  /** A line above the table (what it is of, how far it got), toned like a cell. */
  readonly caption?: TableCell;
}

/** One row of cells per node, aligned by index, drawn like the logs (the values a node holds, ...). */
export interface SequencesContent {
  readonly kind: 'sequences';
  /** Each row's data-testid is `${rowTestId}-${node}`. */
  readonly rowTestId: string;
  readonly rows: readonly SequenceRow[];
}

export interface SequenceRow {
  readonly node: NodeId;
  readonly up: boolean;
  readonly log: LogView;
}

export interface RoleDef {
  readonly id: string;
  readonly label: string;
  readonly color: string;
}

export interface MessageTypeDef {
  readonly type: string;
  readonly label: string;
  readonly color: string;
  /** Responses are drawn hollow, requests filled. */
  readonly response: boolean;
}

export interface ActionDef {
  readonly id: string;
  readonly label: string;
  /** What it does (tooltip). */
  readonly title: string;
  /** Whether it acts on a node (chosen in the UI) or on the cluster. */
  readonly target: 'node' | 'none';
}

/**
 * A guided story: a seed, a node count and either timed actions with captions (`steps`) or a
 * script the adapter drives itself as the run goes (`driven`: ProtocolRun.startScenario), e.g.
 * one that waits for a leader before it crashes it.
 */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly nodes: number;
  readonly seed: number;
  readonly steps: readonly ScenarioStep[];
  readonly driven?: boolean;
  /** Where the story ends (the scrubber range); the run may continue past it. */
  readonly endMs: number;
}

export interface ScenarioStep {
  readonly atMs: number;
  readonly action?: Action;
  /** Shown from `atMs` until the next caption. */
  readonly caption?: string;
}

/**
 * A safety property checked after every step of every node (a step: a node handled one message,
 * tick or request). `afterStep` must be cheap; it returns a description of a new violation, or null.
 */
export interface SafetyMonitor {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  afterStep(node: NodeId): string | null;
}

/** What the engine gives an adapter to build one simulation. */
export interface BuildContext {
  readonly seed: number;
  readonly nodes: number;
  /** The scenario the run plays, if any (some need their own settings). */
  readonly scenario: string | undefined;
  /**
   * Wraps the protocol's spec so the engine sees every message a core sends and receives and
   * every step it takes. The adapter must build its Simulation with the wrapped spec.
   */
  wrap<M extends Message, Req, Res, P>(spec: ProtocolSpec<M, Req, Res, P>): ProtocolSpec<M, Req, Res, P>;
  /** The protocol's own core inside a wrapped one (sim.core(id) returns the wrapper). */
  unwrap<M extends Message, Req, Res, P>(core: ProtocolCore<M, Req, Res, P> | undefined): ProtocolCore<M, Req, Res, P> | undefined;
  /**
   * At the node's next tick, runs `count()` more ticks at once (e.g. to make an election timer
   * expire now). Done inside the simulator's tick event, so everything the core sends leaves normally.
   */
  forceTicks(node: NodeId, count: () => number): void;
}

/** One simulation built by an adapter; rebuilt from scratch for every replay. */
export interface ProtocolRun {
  readonly sim: SimControl;
  /** State of a node now; `logWindow` is how many of the newest entries to return. */
  describeNode(id: NodeId, logWindow: number): NodeView;
  /** The content of the adapter's panels now (a fresh copy: frames keep it); `logWindow` as above. */
  describePanels?(logWindow: number): PanelContents;
  /** One line for a message's tooltip. */
  describeMessage(msg: Message): string;
  /**
   * Starts one client operation `op` (one of the adapter's clientOps) as client `process`,
   * recording it with sim.invoke/sim.complete; `value` is a fresh number for writes.
   * `node` is the node chosen in the UI, or null to let the client find one.
   */
  clientOp(op: string, process: string, node: NodeId | null, value: number, arg?: string): void;
  /**
   * Called after every step of every node (after the monitors): for views that follow the run
   * step by step, e.g. a watcher pulling from a node's state. Must not change the simulation.
   */
  afterStep?(node: NodeId): void;
  /**
   * The operations of the history the checker's model can judge, when not all of them: an
   * adapter leaves out operations the model does not know and those on keys they changed, and
   * says so in `note`.
   */
  checkable?(ops: readonly Operation[]): { readonly ops: readonly Operation[]; readonly note: string | null };
  /** Carries out a protocol action (one of nodeActions / clusterActions); returns a note for the trace. */
  protocolAction(name: string, node: NodeId | null): string;
  /** Fresh, stateful monitors for this run. */
  readonly monitors: readonly SafetyMonitor[];
  /** The ids of every node that exists (grows when a node is added). */
  nodeIds(): readonly NodeId[];
  /** The current leader, if the protocol has one (used to resolve "leader" in actions). */
  leader(): NodeId | undefined;
  /**
   * The node selected on the page (right-click, the Node panel), or null: called before the run is
   * described, for views drawn from one node's perspective (a gossip member's view of the group).
   * Only what is drawn may depend on it, never the simulation.
   */
  select?(node: NodeId | null): void;
  /** Starts a driven scenario (one of the adapter's scenarios with `driven`). */
  startScenario?(id: string): void;
  /** The caption of the driven scenario now (null when none). */
  scenarioCaption?(): string | null;
}

export interface ProtocolAdapter extends NodeStyle {
  readonly id: string;
  readonly title: string;
  /** One sentence about what is shown. */
  readonly blurb: string;
  /** Cluster sizes offered: every size from min to max, or only `sizes` when given. */
  readonly nodes: { readonly min: number; readonly max: number; readonly initial: number; readonly sizes?: readonly number[] };
  /** Initial speed: virtual milliseconds per real second. */
  readonly initialSpeed: number;
  /** Scrubber range for a fresh run before anything happened (ms). */
  readonly initialSpanMs: number;
  /** Whether the protocol elects a leader (the ★, "Isolate leader", "Leader in minority"). */
  readonly hasLeader: boolean;
  /** A short explanation of the log drawing; absent: the nodes have no log (no Logs panel). */
  readonly logLegend?: string;
  /** Extra panels, filled by ProtocolRun.describePanels. */
  readonly panels?: readonly PanelDef[];
  readonly clientOps: readonly ActionDef[];
  readonly nodeActions: readonly ActionDef[];
  readonly clusterActions: readonly ActionDef[];
  /** The linearizability checker's model for the client history (null: no check). */
  readonly checker: { readonly model: Model<unknown, unknown>; readonly describe: string } | null;
  readonly scenarios: readonly Scenario[];
  build(ctx: BuildContext): ProtocolRun;
}
