// The leaderless store (src/quorum) as a service of the generic node process: `synod cluster up
// --service quorum` runs it as real processes over the peer transport, each node persisting key
// states and hints in a checkpointed op log (fsync before a replica acknowledges), with the dkv
// HTTP API (/v1/dkv/BUCKET/KEY, /v1/dkv-repair, /v1/ring) that `synod dkv` and `synod ring` call,
// authenticated and authorized from the node's auth file when it has one (auth-file.ts).
import { Gauge } from 'prom-client';
import type { JsonValue } from '../core/index.js';
import { decodeKeyState, decodeRingRecord, quorumSpec, ringMembersOf, type RingStatus, QuorumError, resolveQuorumConfig, type QuorumConfig, type QuorumMessage, type QuorumNode, type QuorumPersistOp, type QuorumRequest, type QuorumResponse } from '../quorum/index.js';
import { describeRing, positionOf } from '../ring/index.js';
import { OpLogStore, type OpFolder } from '../storage/index.js';
import { Authenticator, type RouteAccess } from './auth.js';
import { addLoginRoutes } from './auth-api.js';
import { AuthFileState, loadAuthFile, NO_AUTH_FILE } from './auth-file.js';
import { HttpError, type ApiRequest, type ApiResponse } from './http.js';
import { ServiceOptionError, type ServiceContext, type ServiceDefinition, type ServiceInstance } from './service.js';
import type { NodeHost } from '../runtime/index.js';
import { isAbsolute, join } from 'node:path';
import { parseHostPort } from './node.js';

type QuorumHost = NodeHost<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp, QuorumNode>;

/** Ops between checkpoints of the op log at least (each checkpoint holds the latest state per key and the live hints; OpLogStore waits for as many ops as the last one held). */
const COMPACT_EVERY_OPS = 50_000;
/** How long a route waits for the core beyond its own request timeout (forwarding adds a hop). */
const ROUTE_SLACK_MS = 2_000;
/** How often the service looks for members' addresses in a new ring record. */
const ADDRESS_POLL_MS = 200;

/**
 * The service's options in the cluster file: any QuorumConfig field (docs/quorum.md,
 * "Configuration"), and the node's own authentication settings (docs/quorum.md, "Authentication").
 */
export interface QuorumServiceOptions extends Partial<QuorumConfig> {
  /** The auth file (an absolute path) with users and roles for the dkv routes; without one, every route is public. */
  readonly authFile?: string;
  /** How long a login token stays valid (default 10 minutes, as on the Raft KV). */
  readonly authTokenTtlMs?: number;
}

/** Options the node process uses itself: they are not the store's configuration. */
const NODE_AUTH_OPTIONS = ['authFile', 'authTokenTtlMs'] as const;

function configOf(ctx: Pick<ServiceContext<QuorumMessage>, 'options'>, members: number): QuorumConfig {
  const storeOptions: Record<string, JsonValue> = { ...ctx.options };
  for (const name of NODE_AUTH_OPTIONS) delete storeOptions[name];
  try {
    return resolveQuorumConfig(storeOptions as QuorumServiceOptions, members);
  } catch (err) {
    if (err instanceof QuorumError) throw new ServiceOptionError(`quorum service: ${err.message}`);
    throw err;
  }
}

/** The authentication options, checked. */
function authOptionsOf(options: Readonly<Record<string, JsonValue>>): { file?: string; tokenTtlMs?: number } {
  const file = options['authFile'];
  const ttl = options['authTokenTtlMs'];
  if (file !== undefined && (typeof file !== 'string' || !isAbsolute(file))) throw new ServiceOptionError(`quorum service: authFile is the absolute path of the auth file, got ${JSON.stringify(file)}`);
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1000 || ttl > 86_400_000)) throw new ServiceOptionError(`quorum service: authTokenTtlMs is a whole number of milliseconds from 1000 to 86400000, got ${JSON.stringify(ttl)}`);
  return { ...(file === undefined ? {} : { file }), ...(ttl === undefined ? {} : { tokenTtlMs: ttl }) };
}

/** The key a dkv route reads or writes, as permissions see it: "BUCKET/KEY" (a role's prefix "orders/" covers the bucket orders). */
const storeKeyOfRoute = (req: Pick<ApiRequest, 'params'>): string => `${req.params['bucket'] ?? ''}/${req.params['key'] ?? ''}`;
const READ_KEY: { access: RouteAccess } = { access: { key: 'read', keyOf: storeKeyOfRoute } };
const WRITE_KEY: { access: RouteAccess } = { access: { key: 'write', keyOf: storeKeyOfRoute } };

/**
 * The folded log, kept op by op: the latest state per key (collected keys dropped), live hints,
 * the dot counter's floor, the latest ring record; never more ops than it was given.
 */
export class QuorumOpFolder implements OpFolder<QuorumPersistOp> {
  private readonly states = new Map<string, QuorumPersistOp>();
  private readonly hints = new Map<string, QuorumPersistOp>();
  private floor = 0;
  private ring: Extract<QuorumPersistOp, { op: 'ring' }> | undefined;

  add(op: QuorumPersistOp): void {
    if (op.op === 'state') this.states.set(op.key, op);
    else if (op.op === 'forget') this.states.delete(op.key);
    else if (op.op === 'hint') this.hints.set(op.hint.id, op);
    else if (op.op === 'hint-done') this.hints.delete(op.id);
    else if (op.op === 'ring') this.ring = this.ring !== undefined && this.ring.record.epoch > op.record.epoch ? this.ring : op;
    else this.floor = Math.max(this.floor, op.floor);
  }

  ops(): QuorumPersistOp[] {
    // no dots op where the log had none: a log of distinct keys only (a replica that never coordinated
    // a write, a bulk load) must not fold into more ops than it holds (OpLogStore checks that)
    const folded: QuorumPersistOp[] = [];
    if (this.floor > 0) folded.push({ op: 'dots', floor: this.floor });
    if (this.ring !== undefined) folded.push(this.ring);
    for (const op of this.states.values()) folded.push(op);
    for (const op of this.hints.values()) folded.push(op);
    return folded;
  }
}

/** Folds a whole log at once (what a checkpoint holds). */
export function compactQuorumOps(ops: readonly QuorumPersistOp[]): QuorumPersistOp[] {
  const folder = new QuorumOpFolder();
  for (const op of ops) folder.add(op);
  return folder.ops();
}

/** A node's op log, as the service opens it (and `npm run bench -- quorum-storage` measures it). */
export function openQuorumOpLog(dir: string, writeInline?: () => boolean): Promise<OpLogStore<QuorumPersistOp>> {
  return OpLogStore.open<QuorumPersistOp>(dir, { decodeOp: decodeQuorumOp, folder: () => new QuorumOpFolder(), compactEveryOps: COMPACT_EVERY_OPS, ...(writeInline === undefined ? {} : { writeInline }) });
}

/** Checks one op read back from disk (a damaged or foreign log is refused, not replayed). */
export function decodeQuorumOp(value: unknown): { readonly op: QuorumPersistOp } | { readonly problem: string } {
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null) return { problem: 'not an object' };
  try {
    switch (v['op']) {
      case 'state':
        if (typeof v['key'] !== 'string') return { problem: 'state op without a key' };
        return { op: { op: 'state', key: v['key'], state: decodeKeyState(v['state'], Number.MAX_SAFE_INTEGER) } };
      case 'forget':
        return typeof v['key'] === 'string' ? { op: { op: 'forget', key: v['key'] } } : { problem: 'forget op without a key' };
      case 'dots':
        return Number.isSafeInteger(v['floor']) ? { op: { op: 'dots', floor: v['floor'] as number } } : { problem: 'dots op without a floor' };
      case 'hint': {
        const h = v['hint'] as Record<string, unknown> | null;
        if (typeof h !== 'object' || h === null || typeof h['id'] !== 'string' || typeof h['target'] !== 'string' || typeof h['key'] !== 'string' || typeof h['createdAtMs'] !== 'number') return { problem: 'malformed hint' };
        return { op: { op: 'hint', hint: { id: h['id'], target: h['target'], key: h['key'], createdAtMs: h['createdAtMs'], state: decodeKeyState(h['state'], Number.MAX_SAFE_INTEGER) } } };
      }
      case 'hint-done':
        return typeof v['id'] === 'string' ? { op: { op: 'hint-done', id: v['id'] } } : { problem: 'hint-done op without an id' };
      case 'ring': {
        // the partition count is the record's own; the node checks it against its configuration when it builds the rings
        const owners = (v['record'] as { owners?: unknown } | null)?.owners;
        return { op: { op: 'ring', record: decodeRingRecord(v['record'], { partitionCount: Array.isArray(owners) ? owners.length : 0, targetN: 1 }) } };
      }
      default:
        return { problem: `unknown op ${JSON.stringify(v['op'])}` };
    }
  } catch (err) {
    return { problem: err instanceof Error ? err.message : String(err) };
  }
}

export const quorumService: ServiceDefinition<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp, QuorumNode> = {
  name: 'quorum',
  description: 'a leaderless Dynamo-style key-value store: N replicas, per-request R and W, siblings, hinted handoff, read repair, anti-entropy',
  defaults: { nodes: 5, options: {} },
  openStore: async ({ dataDir, writeInline }) => {
    const store = await openQuorumOpLog(join(dataDir, 'quorum'), writeInline);
    return { recovered: store.recovered, persist: (ops) => store.persist(ops), close: () => store.close(), get stats() { return store.stats; } };
  },
  // a node started with --join is outside the ring: its core waits for the ring record from its peers
  startMembers: (members, self, joining) => members.filter((id) => !joining || id !== self),
  // before anything opens: a bad option or auth file is one line, and the node does not start
  checkOptions: (options, memberCount) => {
    configOf({ options }, memberCount);
    const auth = authOptionsOf(options);
    if (auth.file !== undefined) loadAuthFile(auth.file);
  },
  createSpec: (ctx) => quorumSpec(configOf(ctx, ctx.directory.size)),
  attach: (ctx, host) => attachQuorum(ctx, host),
};

function attachQuorum(ctx: ServiceContext<QuorumMessage>, host: QuorumHost): ServiceInstance {
  const config = configOf(ctx, ctx.directory.size);
  const members = (): string[] => [...new Set([...ctx.directory.keys(), ...ringMembersOf(host.running?.ringRecord() ?? { epoch: 0, members: [], owners: [] })])].sort();
  // members that joined after bootstrap come with their addresses in the ring record: connect to them
  let learnedEpoch = -1;
  const learnAddresses = (): void => {
    const record = host.running?.ringRecord();
    if (record === undefined || record.epoch === learnedEpoch) return;
    learnedEpoch = record.epoch;
    for (const [id, address] of Object.entries(record.addresses ?? {})) {
      if (id === ctx.id || (ctx.directory.get(id)?.peer === address.peer && ctx.directory.get(id)?.client === address.client)) continue;
      try {
        ctx.transport.addPeer(id, parseHostPort(address.peer));
        ctx.directory.set(id, address);
        ctx.logger.info({ member: id, peer: address.peer }, 'learned a member\'s address from the ring record');
      } catch (err) {
        ctx.logger.warn({ member: id, err }, 'a member\'s address in the ring record is unusable');
      }
    }
  };
  // Every node writes its log on its own thread, as a Raft follower does: most of a node's persists
  // are replica writes with nothing else to do until they are durable, and a trip through the I/O
  // thread pool costs two thread wakeups, more than the write on this machine. Under load the
  // blocked loop also gathers larger group commits (docs/PERFORMANCE.md, "The store writes its log
  // on its own thread").
  ctx.setWriteInline(() => true);
  const learning = setInterval(learnAddresses, ADDRESS_POLL_MS);
  learning.unref();
  const core = (): QuorumNode => {
    const running = host.running;
    if (running === undefined) throw new HttpError(503, 'NOT_STARTED', 'the node has not started its core yet', {}, { 'retry-after': '1' });
    return running;
  };
  new Gauge({ name: 'synod_dkv_keys', help: 'keys this node holds a copy of', registers: [ctx.registry], collect() { this.set(host.running?.keys().length ?? 0); } });
  new Gauge({ name: 'synod_dkv_hints', help: 'hints this node keeps for home replicas that missed writes', registers: [ctx.registry], collect() { this.set(host.running?.hints().length ?? 0); } });
  // the core checks every request it is handed (decodeQuorumRequest) and answers a bad one with its code: 400 below
  const ask = async (request: Record<string, unknown>): Promise<ApiResponse> => {
    const response = await host.request(request as unknown as QuorumRequest, 2 * config.requestTimeoutMs + ROUTE_SLACK_MS);
    if (response === undefined) throw new HttpError(503, 'NO_ANSWER', 'the node did not answer in time', { safeToRetry: request['op'] === 'get' });
    if (response.ok) return { status: 200, body: response };
    throw new HttpError(statusOf(response.code), response.code, response.message, response.acks === undefined ? {} : { acks: response.acks });
  };
  const addressed = (req: ApiRequest): { bucket: string; key: string } => ({ bucket: req.params['bucket'] as string, key: req.params['key'] as string });
  const body = (req: ApiRequest): Record<string, unknown> => {
    if (req.body === undefined) return {};
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) throw new HttpError(400, 'QUORUM_BAD_REQUEST', 'the body is a JSON object');
    return req.body as Record<string, unknown>;
  };
  const level = (text: string | null): string | number | undefined => (text === null ? undefined : /^\d{1,3}$/.test(text) ? Number(text) : text);
  const { auth, authStatus, reloadAuth } = fileAuth(ctx);
  return {
    status: () => {
      const node = host.running;
      const status: { role: string } & Record<string, JsonValue> = {
        role: 'replica',
        keys: node?.keys().length ?? 0,
        hints: node?.hints().length ?? 0,
        peersUp: members().filter((m) => m !== ctx.id && node?.isUp(m) === true),
        ringEpoch: node?.ringRecord()?.epoch ?? null,
        replicas: config.replicas,
        readQuorum: config.readQuorum,
        writeQuorum: config.writeQuorum,
        sloppyQuorum: config.sloppyQuorum,
        authFile: authStatus(),
      };
      return status;
    },
    auth,
    reload: reloadAuth,
    readiness: () => ({ core: host.running === undefined ? 'the core has not started' : true }),
    close: () => clearInterval(learning),
    addRoutes: (router) => {
      addLoginRoutes(router, auth);
      // with an auth file that has "enabled": reads need read and writes read-write on "BUCKET/KEY";
      // repair and ring changes are root's; the ring itself any user's
      router
        .add('GET', '/v1/dkv/:bucket/:key', (req) => ask({ op: 'get', ...addressed(req), ...opt('r', level(req.query.get('r'))), ...opt('n', level(req.query.get('n'))) }), { query: ['r', 'n'], ...READ_KEY })
        .add('PUT', '/v1/dkv/:bucket/:key', (req) => ask({ ...body(req), op: 'put', ...addressed(req) }), WRITE_KEY)
        .add('DELETE', '/v1/dkv/:bucket/:key', (req) => ask({ ...body(req), op: 'delete', ...addressed(req) }), WRITE_KEY)
        .add('POST', '/v1/dkv/:bucket/:key/:op', (req) => {
          const op = req.params['op'] as string;
          if (!['increment', 'add', 'remove'].includes(op)) throw new HttpError(404, 'NOT_FOUND', `no operation ${JSON.stringify(op)}: increment, add or remove`);
          return ask({ ...body(req), op, ...addressed(req) });
        }, WRITE_KEY)
        .add('POST', '/v1/dkv-repair', () => ask({ op: 'anti-entropy' }), { access: 'root' })
        // this node's own copy of a key, unmerged (tests and operators comparing replicas)
        .add('GET', '/v1/dkv-local/:bucket/:key', (req) => {
          const { bucket, key } = addressed(req);
          return { status: 200, body: { node: ctx.id, state: core().stateOf(`${bucket}/${key}`) ?? null, hints: core().hints().filter((h) => h.key === `${bucket}/${key}`).length } };
        }, READ_KEY)
        // membership (docs/quorum.md): the claimant makes the change, any member passes it on
        .add('POST', '/v1/ring/join', (req) => ask({ ...body(req), op: 'ring-join' }), { access: 'root' })
        .add('POST', '/v1/ring/leave', (req) => ask({ ...body(req), op: 'ring-leave' }), { access: 'root' })
        .add('GET', '/v1/ring', async (req) => {
          const bucket = req.query.get('bucket') ?? 'default';
          const key = req.query.get('key');
          const status = (await ask({ op: 'ring-status' })).body as RingStatus;
          const ring = core().ring;
          const description = describeRing(ring);
          const answer: Record<string, JsonValue> = {
            epoch: status.epoch,
            ...(status.next === undefined ? {} : { next: [...status.next] }),
            ...(status.waitingFor === undefined ? {} : { waitingFor: [...status.waitingFor] }),
            handoff: { ...status.handoff },
            members: [...ring.members],
            replicas: config.replicas,
            standIns: config.standIns,
            partitionCount: config.partitionCount,
            ownership: Object.fromEntries([...ring.partitionCounts()].map(([node, count]) => [node, count])),
            partitions: description.strategy === 'partitions' ? description.partitions.map((p) => ({ start: p.start, node: p.node })) : [],
          };
          if (key !== null) {
            const storeKey = `${bucket}/${key}`;
            const list = core().preferenceList(storeKey);
            answer['key'] = { bucket, key, position: positionOf(storeKey), partition: ring.partitionOf(positionOf(storeKey)), homeReplicas: list.slice(0, config.replicas), standIns: list.slice(config.replicas) };
          }
          return { status: 200, body: answer };
        }, { query: ['bucket', 'key'], access: 'user' });
    },
  };
}

/**
 * The node's users and roles from its auth file (none without one: authentication off), for the
 * shared Authenticator; reloaded on SIGHUP, keeping the old file when the new one cannot be used.
 */
function fileAuth(ctx: ServiceContext<QuorumMessage>): { auth: Authenticator; authStatus: () => JsonValue; reloadAuth: () => void } {
  const options = authOptionsOf(ctx.options);
  const file = options.file;
  const state = new AuthFileState(file === undefined ? NO_AUTH_FILE : loadAuthFile(file));
  let loadedAt = new Date().toISOString();
  let reloadFailedAt: string | undefined;
  const loaded = (what: string): void => {
    const c = state.current;
    ctx.logger.info({ authFile: file, fingerprint: c.fingerprint, enabled: c.enabled, users: c.users.size, roles: c.roles.size }, what);
    for (const warning of c.warnings) ctx.logger.warn({ authFile: file }, `auth file: ${warning}`);
  };
  if (file !== undefined) loaded('auth file loaded');
  const auth = new Authenticator({
    clusterSecret: ctx.secret,
    state,
    ...(options.tokenTtlMs === undefined ? {} : { tokenTtlMs: options.tokenTtlMs }),
    onFailure: (reason) => ctx.countRefusal(`auth_${reason}`),
  });
  return {
    auth,
    // public (as /v1/status is): whether it is on and which file, never who is in it
    authStatus: () => (file === undefined ? null : { enabled: state.current.enabled, fingerprint: state.current.fingerprint, loadedAt, ...(reloadFailedAt === undefined ? {} : { reloadFailedAt }) }),
    reloadAuth: () => {
      if (file === undefined) return;
      try {
        state.replace(loadAuthFile(file));
        loadedAt = new Date().toISOString();
        reloadFailedAt = undefined;
        loaded('auth file reloaded');
      } catch (err) {
        reloadFailedAt = new Date().toISOString();
        ctx.logger.error({ code: (err as { code?: unknown }).code }, `${(err as Error).message}; still using the file loaded at ${loadedAt}`);
      }
    },
  };
}

function opt(name: string, value: string | number | undefined): Record<string, string | number> {
  return value === undefined ? {} : { [name]: value };
}

function statusOf(code: string): number {
  switch (code) {
    case 'QUORUM_NOT_REACHED':
    case 'QUORUM_UNAVAILABLE':
      return 503;
    case 'QUORUM_NOT_JOINED':
      return 503;
    case 'QUORUM_SIBLING_LIMIT':
    case 'QUORUM_RING_CHANGING':
      return 409;
    default:
      return 400;
  }
}
