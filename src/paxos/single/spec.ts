// Builds the ProtocolSpec a host runs single-decree Paxos with: validated options (quorum sizes
// and role placement are checked against the members when a core is created).
import type { ProtocolSpec } from '../../core/index.js';
import { PaxosError } from '../errors.js';
import { SynodCore } from './core.js';
import { DEFAULT_SYNOD_OPTIONS, type SynodMessage, type SynodOptions, type SynodPersistOp, type SynodRequest, type SynodResponse } from './types.js';

export type SynodSpec = ProtocolSpec<SynodMessage, SynodRequest, SynodResponse, SynodPersistOp, SynodCore>;

/** Fills in defaults and rejects out-of-range options (PaxosError BAD_OPTION). */
export function resolveSynodOptions(options: Partial<SynodOptions> = {}): SynodOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<SynodOptions>;
  const o: SynodOptions = { ...DEFAULT_SYNOD_OPTIONS, ...defined };
  const bad = (why: string): never => {
    throw new PaxosError('BAD_OPTION', why);
  };
  if (!(o.tickMs > 0) || !Number.isFinite(o.tickMs)) bad(`tickMs must be a finite number > 0, got ${o.tickMs}`);
  for (const name of ['phaseTimeoutTicks', 'backoffMaxTicks', 'askTicks'] as const) {
    if (!Number.isSafeInteger(o[name]) || o[name] < 1) bad(`${name} must be an integer >= 1, got ${String(o[name])}`);
  }
  if (o.backoff !== 'randomized' && o.backoff !== 'none') bad(`backoff must be "randomized" or "none", got ${String(o.backoff)}`);
  return o;
}

export function synodSpec(options: Partial<SynodOptions> = {}): SynodSpec {
  const opts = resolveSynodOptions(options);
  return {
    name: 'paxos-synod',
    tickIntervalMs: opts.tickMs,
    create: (env, durable) => new SynodCore(env, durable, opts),
  };
}
