// The contract between a sans-I/O protocol core and the host that drives it.
// A core is a deterministic state machine: the host feeds it messages, ticks and client
// requests, and the core answers through an Effects sink that the host drains.

/** A node's name. The simulator names nodes "1".."N"; real clusters may use any string. */
export type NodeId = string;

/** Every protocol message carries a `type`, used for counters, traces and drawings. */
export interface Message {
  readonly type: string;
}

/**
 * What the host gives a core at creation: its identity, the initial membership, and the only
 * sources of time and randomness it may use.
 */
export interface CoreEnv {
  readonly id: NodeId;
  /** All members at bootstrap, this node included, in a stable order. */
  readonly members: readonly NodeId[];
  /** The node's own local clock in ms (in the simulator: skewed and drifting). */
  now(): number;
  /** Uniform in [0, 1), from this node's seeded stream. */
  random(): number;
}

/** How one message or reply relates to the node's writes that are not yet durable. */
export interface OutputOptions {
  /**
   * `false` lets this output leave at once, before the persists of this call and of earlier
   * calls are durable: the core states that nothing the output says depends on them (a Raft
   * leader's appends, thesis §10.2.1; a reply about an entry a quorum already stored). Hosts
   * that ignore it stay correct, only slower. Default `true`.
   */
  readonly awaitPersist?: boolean;
}

/**
 * The sink a core writes its outputs to during one call. The host guarantees:
 * everything passed to `persist` during a call is durable (written and synced) before any
 * message or reply from the same call, or from any later call, leaves the node, except outputs
 * sent with `{ awaitPersist: false }`.
 */
export interface Effects<M extends Message, P, Res> {
  send(to: NodeId, msg: M, options?: OutputOptions): void;
  persist(op: P): void;
  reply(requestId: string, response: Res, options?: OutputOptions): void;
  /** Describes visible state (role, term, ...) for traces, monitors and the visualizer. */
  annotate(key: string, value: string | number | boolean | null): void;
}

/**
 * A protocol core. `P` is the core's durable operation: the host stores the ops in order and,
 * after a crash, hands the synced ones back to `ProtocolSpec.create` so the core can rebuild its
 * durable state by replaying them.
 */
export interface ProtocolCore<M extends Message, Req, Res, P> {
  handleMessage(from: NodeId, msg: M, fx: Effects<M, P, Res>): void;
  handleTick(fx: Effects<M, P, Res>): void;
  handleRequest(requestId: string, request: Req, fx: Effects<M, P, Res>): void;
  /** Called once after creation (and after every restart) before any other input. */
  start?(fx: Effects<M, P, Res>): void;
}

/**
 * How a host builds and restarts a core. `Core` is what `create` returns: a spec may promise a
 * richer core than the contract (Raft's has status and reads of its state), which its hosts then
 * see without casts.
 */
export interface ProtocolSpec<M extends Message, Req, Res, P, Core extends ProtocolCore<M, Req, Res, P> = ProtocolCore<M, Req, Res, P>> {
  readonly name: string;
  /** Interval between ticks on the node's local clock; 0 for a core that needs none. */
  readonly tickIntervalMs: number;
  /** Builds a core; `durable` holds the synced persist ops of an earlier life, oldest first. */
  create(env: CoreEnv, durable: readonly P[]): Core;
  /**
   * Optional: says that `op` makes every earlier persisted op redundant (a snapshot or a full
   * state record), so a host may discard them once `op` is synced. Keeps replay bounded.
   */
  supersedesEarlier?(op: P): boolean;
}
