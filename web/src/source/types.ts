// The seam between where cluster state comes from and how it is drawn. The UI only knows
// ClusterSource: the simulation source (source/simulation.ts) computes views from a simulated
// run it can rewind; the live source (source/live.ts) builds the same views from the state of
// real node processes that the local-cluster supervisor streams over server-sent events, and
// sends actions to the supervisor as HTTP requests.
import type { Operation } from '../../../src/sim/index.js';
import type { NodeStyle, NodeView, PanelContents } from '../adapters/types.js';
import type { Action } from '../engine/actions.js';
import type { MonitorState } from '../engine/session.js';

/** What a source adds to a node's view: whether it is paused and, live, its process. */
export interface NodeProcess {
  readonly paused: boolean;
  /** Live mode: the state of the node's process (a simulated node has none). */
  readonly process?: 'running' | 'paused' | 'stopped';
  /** Live mode: false when the process runs but its API did not answer (role and term unknown). */
  readonly reachable?: boolean;
}

/** A node as drawn; `V` is the view its adapter gives (a live adapter may promise more, e.g. a log). */
export type NodeDisplay<V extends NodeView = NodeView> = V & NodeProcess;

export interface MessageDisplay {
  readonly id: number;
  readonly from: string;
  readonly to: string;
  readonly type: string;
  /** 0 at the sender, 1 at the receiver. */
  readonly progress: number;
  readonly state: 'flight' | 'delivered' | 'dropped';
  /** Drop reason (loss, partition, down, stale, manual: dropped by the user). */
  readonly reason: string;
  readonly text: string;
}

export interface LinkDisplay {
  readonly from: string;
  readonly to: string;
  readonly loss: number;
  readonly delayMs: number;
}

export interface CheckDisplay {
  readonly verdict: 'linearizable' | 'not-linearizable' | 'unknown' | 'none';
  readonly text: string;
  /** Operation indices the checker could not place (a violation), and the one that got stuck. */
  readonly unplaceable: readonly number[];
  readonly stuck: number | null;
}

export interface ClusterView<N extends NodeDisplay = NodeDisplay> {
  readonly timeMs: number;
  /** Events processed so far. */
  readonly events: number;
  readonly nodes: readonly N[];
  readonly messages: readonly MessageDisplay[];
  /** Directed links that are cut, as [from, to]. */
  readonly cuts: readonly (readonly [string, string])[];
  /** Links with loss or added delay. */
  readonly links: readonly LinkDisplay[];
  readonly monitors: readonly MonitorState[];
  readonly history: readonly Operation[];
  readonly check: CheckDisplay;
  readonly caption: string | null;
  readonly recent: readonly string[];
  /** Fingerprint of every event up to now; equal runs, equal hashes. */
  readonly traceHash: string;
  /** Fingerprint of the drawn node states. */
  readonly stateHash: string;
  readonly leader: string | null;
  readonly failure: string | null;
  readonly workload: boolean;
  /** The content of the adapter's own panels (ProtocolAdapter.panels / LiveAdapter.panels). */
  readonly panels: PanelContents;
}

export interface SourceCapabilities {
  /** Scrubbing back, single steps, speed: a simulation has them, a live cluster does not. */
  readonly timeTravel: boolean;
  /** Dropping a given message in flight. */
  readonly dropMessages: boolean;
  readonly linkFaults: boolean;
}

export interface ClusterSource {
  readonly kind: 'simulation' | 'live';
  /** How nodes are drawn (roles, message types, timer). */
  readonly style: NodeStyle;
  readonly capabilities: SourceCapabilities;
  /** The state to draw now. `logWindow`: entries per log to include. */
  view(logWindow: number): ClusterView;
  /** Carries out (or requests) an action. */
  dispatch(action: Action): void;
  /** Called after anything that changes the view (not every animation frame). */
  onChange(listener: () => void): () => void;
  dispose(): void;
}

/** The clock of a source that has one of its own (the simulation). */
export interface TimeControl {
  readonly playing: boolean;
  /** Virtual ms per real second. */
  speed: number;
  readonly nowMs: number;
  readonly endMs: number;
  play(): void;
  pause(): void;
  step(): void;
  seek(ms: number): void;
  /** Advances by `realMs` of wall time when playing (called once per animation frame). */
  tick(realMs: number): boolean;
}
