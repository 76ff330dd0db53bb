// What a primitive gives the generic node process to run as real processes: how to open its
// durable store, how to build its core, which HTTP routes it adds, its status, readiness checks
// and metrics, and its defaults. The node process (node.ts) owns everything else: identity,
// TLS, the peer transport, the HTTP server and its guards, health, failure handling, shutdown.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { JsonValue, Message, ProtocolCore, ProtocolSpec } from '../core/index.js';
import type { Transport } from '../net/index.js';
import type { DurableStore, NodeHost } from '../runtime/index.js';
import type { Authenticator } from './auth.js';
import type { Router } from './http.js';
import type { NodeIdentity } from './identity.js';
import type { TlsMaterial } from './tls.js';
import type { WalStats } from '../storage/index.js';

/** The addresses of one member: host:port of its peer listener, http(s)://host:port of its API. */
export interface MemberAddress {
  readonly peer: string;
  readonly client: string;
}

/** A store of a core's persisted ops, as the node process opens and closes it. */
export interface ServiceStore<P> extends DurableStore<P> {
  close(): Promise<void>;
  /** Write-ahead log counters for metrics, when the store is one. */
  readonly stats?: Readonly<WalStats>;
}

/** What a store is opened with. */
export interface StoreContext {
  readonly dataDir: string;
  readonly logger: Logger;
  /** Asked before each durable write: true blocks this thread until it is durable (see WalOptions.writeInline). */
  readonly writeInline: () => boolean;
}

/** What the node process hands a service when it attaches to the running node. */
export interface ServiceContext<M extends Message> {
  readonly id: string;
  /** The service's own options from the cluster file (the node process does not read them). */
  readonly options: Readonly<Record<string, JsonValue>>;
  readonly logger: Logger;
  /** The shared cluster secret (e.g. to sign login tokens every member accepts). */
  readonly secret: string;
  readonly transport: Transport<M>;
  readonly identity: NodeIdentity;
  /** Every member's addresses as known now; a service that learns new members adds them. */
  readonly directory: Map<string, MemberAddress>;
  /** The node's Prometheus registry: the service registers its own gauges and counters. */
  readonly registry: Registry;
  /** The client API's TLS material, when it serves HTTPS (for a service that calls other members). */
  clientTls(): TlsMaterial | undefined;
  /** Why the node stopped serving (its storage failed), or undefined while it serves. */
  failure(): Error | undefined;
  /** Counts a refused request in the node's metrics (e.g. a failed authentication). */
  countRefusal(reason: string): void;
  /** Replaces the policy for blocking log writes (default: never block). */
  setWriteInline(policy: () => boolean): void;
}

/** The service as it runs on one node. */
export interface ServiceInstance {
  /** Adds the service's routes; /health, /readyz, /metrics, /v1/status and /v1/faults are the node's. */
  addRoutes(router: Router): void;
  /** The body of GET /v1/status (the node adds `id` and `service`); must say `role`. */
  status(): { readonly role: string } & Readonly<Record<string, JsonValue>>;
  /** Readiness checks of the service by name: true when passing, otherwise why not (storage and identity are the node's). */
  readiness(): Readonly<Record<string, true | string>>;
  /** When present and enabled, requests are authenticated and authorised by it. */
  readonly auth?: Authenticator;
  /**
   * How many times the membership record of `peer` was rewritten (an operator removed it and added
   * it back): a peer whose data directory changed is accepted again at a newer revision. Default 0.
   */
  memberRevision?(peer: string): number;
  /** The client API's certificate was reloaded (e.g. re-create clients that call other members). */
  reloadTls?(): void;
  /** Reread the service's own files (SIGHUP; e.g. the quorum store's auth file); a file that cannot be used is logged and the old one kept. */
  reload?(): void;
  /** Called on shutdown before the transport and store close. */
  close?(): void;
}

export interface ServiceDefaults {
  /** Nodes `synod cluster up --service NAME` starts without --nodes. */
  readonly nodes: number;
  /** Options written to a new cluster file's "options" (the service reads them back through ServiceContext.options). */
  readonly options: Readonly<Record<string, JsonValue>>;
}

/** One primitive as a service of the generic node process. */
export interface ServiceDefinition<M extends Message, Req, Res, P, Core extends ProtocolCore<M, Req, Res, P> = ProtocolCore<M, Req, Res, P>> {
  /** As in `synod node --service NAME`, and what GET /v1/status and the supervisor's /api/cluster report. */
  readonly name: string;
  readonly description: string;
  readonly defaults: ServiceDefaults;
  /**
   * The core persists nothing (it starts afresh after a restart, as clock sync does): an empty
   * data directory is then no sign of lost state, whatever --initial-cluster-state says.
   */
  readonly stateless?: boolean;
  /** The clock the core reads (CoreEnv.now); default Date.now. A service may skew it on purpose (fault injection). */
  clock?(ctx: ServiceContext<M>): () => number;
  /** Opens the node's durable store in its data directory (an empty one for a core that persists nothing). */
  openStore(ctx: StoreContext): Promise<ServiceStore<P>>;
  /** The members the core starts with (default: every member). A joiner may leave itself out. */
  startMembers?(members: readonly string[], self: string, joining: boolean): string[];
  /**
   * Checks the service's options before the node opens anything (store, ports), so that a bad
   * option or an unusable file it names is one error and nothing is left running.
   * `memberCount`: the bootstrap members, this node included.
   */
  checkOptions?(options: Readonly<Record<string, JsonValue>>, memberCount: number): void;
  /** Builds the core's spec; `ctx` lets it observe the node (e.g. learn member addresses from applied entries). */
  createSpec(ctx: ServiceContext<M>): ProtocolSpec<M, Req, Res, P, Core>;
  /** Attaches to the started host: routes, status, readiness, metrics. */
  attach(ctx: ServiceContext<M>, host: NodeHost<M, Req, Res, P, Core>): ServiceInstance;
}

/** A service definition with its type parameters erased, as registries and the CLI hold them. */
export interface AnyServiceDefinition {
  readonly name: string;
  readonly description: string;
  readonly defaults: ServiceDefaults;
}

/** A service option that cannot be used (the node refuses to start, saying which). */
export class ServiceOptionError extends Error {
  readonly code = 'BAD_SERVICE_OPTION';
}
