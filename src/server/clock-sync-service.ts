// Clock sync (src/clock/sync-protocol.ts) as a service of the generic node process: node "1" (or
// the `serverId` option) is the reference, every other node samples it NTP-style over the real
// transport and reports its measured offset. A node's clock can be skewed on purpose
// (--clock-offset-ms, or the cluster file's clockOffsetsMs) to watch the estimate find it.
import { createClockSyncSpec, type ClockSyncMessage, type ClockSyncQuery, type ClockSyncReading } from '../clock/index.js';
import type { JsonValue, ProtocolCore } from '../core/index.js';
import { HttpError } from './http.js';
import { ServiceOptionError, type ServiceContext, type ServiceDefinition, type ServiceInstance, type ServiceStore } from './service.js';

type SyncCore = ProtocolCore<ClockSyncMessage, ClockSyncQuery, ClockSyncReading, never>;

/** The clock-sync service's options (cluster file "options", or flags). */
export interface ClockSyncServiceOptions {
  /** The reference node (default "1"). */
  readonly serverId?: string;
  /** Milliseconds added to this node's clock (a skew injected on purpose). */
  readonly clockOffsetMs?: number;
  /** Per-node skews by node id; --clock-offset-ms (clockOffsetMs) wins over it. */
  readonly clockOffsetsMs?: Readonly<Record<string, number>>;
  /** Sampling period: a client asks the server every syncEveryTicks x tickIntervalMs (default 10 x 100 ms). */
  readonly tickIntervalMs?: number;
  readonly syncEveryTicks?: number;
}

/** Nothing is persisted: after a restart a client simply samples again. */
const NO_STORE: ServiceStore<never> = { recovered: [], persist: () => Promise.resolve(), close: () => Promise.resolve() };
const REQUEST_TIMEOUT_MS = 2000;

export const clockSyncService: ServiceDefinition<ClockSyncMessage, ClockSyncQuery, ClockSyncReading, never, SyncCore> = {
  name: 'clock-sync',
  description: 'NTP-style clock synchronisation: clients measure their offset from a reference node',
  // a skew on two clients by default, so a new cluster shows the estimate finding them
  defaults: { nodes: 3, options: { serverId: '1', clockOffsetsMs: { '2': 250, '3': -400 } } },
  stateless: true,
  clock: (ctx) => {
    const offsetMs = injectedOffsetOf(ctx);
    return () => Date.now() + offsetMs;
  },
  openStore: () => Promise.resolve(NO_STORE),
  createSpec: (ctx) => {
    const o = optionsOf(ctx);
    return createClockSyncSpec({ serverId: o.serverId ?? '1', ...(o.tickIntervalMs === undefined ? {} : { tickIntervalMs: o.tickIntervalMs }), ...(o.syncEveryTicks === undefined ? {} : { syncEveryTicks: o.syncEveryTicks }) });
  },
  attach: (ctx, host) => {
    const o = optionsOf(ctx);
    const injectedOffsetMs = injectedOffsetOf(ctx);
    const number = (key: string): number | null => {
      const v = host.annotations().get(key);
      return typeof v === 'number' ? v : null;
    };
    const instance: ServiceInstance = {
      status: () => {
        const role = host.annotations().get('role') === 'server' ? 'server' : 'client';
        const localNowMs = Date.now() + injectedOffsetMs;
        const offsetEstimateMs = role === 'server' ? 0 : number('offsetEstimateMs');
        const delayMs = role === 'server' ? 0 : number('delayMs');
        const status: { role: string } & Record<string, JsonValue> = {
          role,
          serverId: o.serverId ?? '1',
          offsetEstimateMs,
          delayMs,
          // the trusted sample's half round trip, as the core computes it (drift since is not included)
          errorBoundMs: delayMs === null ? null : delayMs / 2,
          injectedOffsetMs,
          localNowMs,
          correctedNowMs: localNowMs + (offsetEstimateMs ?? 0),
        };
        return status;
      },
      readiness: (): Record<string, true | string> => {
        if (host.annotations().get('role') === 'server') return { reference: true };
        // ready once it trusts a sample (the core keeps the best of its recent ones; it does not say how old)
        return { sampled: number('offsetEstimateMs') === null ? 'no sample from the reference node yet' : true };
      },
      addRoutes: (router) => {
        // the core's own reading: corrected time, offset estimate and error bound
        router.add('GET', '/v1/time', async () => {
          const reading = await host.request({ type: 'read_clock' }, REQUEST_TIMEOUT_MS);
          if (reading === undefined) throw new HttpError(503, 'NO_ANSWER', 'the clock did not answer in time', { safeToRetry: true });
          return { status: 200, body: { id: ctx.id, ...reading } };
        }, { access: 'public' });
      },
    };
    return instance;
  },
};

function optionsOf(ctx: ServiceContext<ClockSyncMessage>): ClockSyncServiceOptions {
  return ctx.options as ClockSyncServiceOptions;
}

function injectedOffsetOf(ctx: ServiceContext<ClockSyncMessage>): number {
  const o = optionsOf(ctx);
  const offset = o.clockOffsetMs ?? o.clockOffsetsMs?.[ctx.id] ?? 0;
  if (typeof offset !== 'number' || !Number.isFinite(offset) || Math.abs(offset) > 86_400_000) throw new ServiceOptionError(`clock offset of node ${ctx.id} must be a number of ms within a day, got ${String(offset)}`);
  return offset;
}
