// `synod lease grant|keep-alive|revoke|ttl|list`: the KV service's leases from the command line
// (routes in src/server/lease-api.ts, semantics in docs/kv.md "Leases"). `keep-alive` sends one
// keep-alive, or with --every keeps the lease alive until stopped and exits 1 when it is lost.
import type { Command } from 'commander';
import { CliError } from './errors.js';
import { common, run, session, type CommonFlags } from './kv.js';
import { parseIntOption, parseLeaseId } from './options.js';

type LeaseResult = { result?: { id?: number; ttlMs?: number; remainingMs?: number; keys?: string[]; leases?: { id: number; ttlMs: number }[]; more?: boolean; deleted?: boolean; revision?: number; error?: string } };

/** The largest TTL accepted on the command line (ten years, as the server's limit). */
const MAX_TTL_MS = 10 * 365 * 24 * 3600 * 1000;

/** A duration such as 5000, 5000ms, 10s or 2m, in ms. */
export function parseTtlMs(text: string): number {
  const m = /^(\d{1,12})(ms|s|m)?$/.exec(text.trim());
  const ms = m === null ? NaN : Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > MAX_TTL_MS) throw new CliError('BAD_OPTION', `"${text}" is not a TTL (e.g. 5000, 5000ms, 10s, 2m; at most ten years)`);
  return ms;
}

/** The error a lease result carries (lease-not-found, lease-expired, lease-exists), as a one-line failure. */
function failIfError(r: unknown, id: number | undefined): LeaseResult['result'] {
  const result = (r as LeaseResult).result ?? {};
  if (result.error !== undefined) throw new CliError('LEASE_ERROR', `lease ${id ?? result.id ?? '?'}: ${result.error}`, 1);
  return result;
}

/** Milliseconds as a whole number (the leader's clock gives fractions). */
function msText(ms: number | undefined): string {
  return ms === undefined ? '?' : String(Math.ceil(ms));
}


export function registerLeaseCommands(program: Command): void {
  const lease = program.command('lease').description('grant, keep alive, revoke and list leases (keys put with a lease vanish with it)');
  common(lease.command('grant <ttl>').description('grant a lease of TTL (ms, or with s/m: 10s, 2m); prints its id').option('--id <id>', 'ask for this id (default: the cluster picks one)')).action(
    (ttl: string, f: CommonFlags & { id?: string }) => {
      const ttlMs = parseTtlMs(ttl);
      const id = f.id === undefined ? undefined : parseLeaseId(f.id);
      return run(f, 'POST', '/v1/leases', { ttlMs, ...(id === undefined ? {} : { id }), ...session() }, (r) => {
        const result = failIfError(r, id);
        return `lease ${String(result?.id)} granted, TTL ${String(result?.ttlMs)} ms`;
      });
    },
  );
  common(
    lease
      .command('keep-alive <id>')
      .description('renew a lease once; with --every, keep renewing until Ctrl-C (exit 1 when the lease is lost)')
      .option('--every <ms>', 'renew every this many ms (a third of the TTL is usual)'),
  ).action(async (idText: string, f: CommonFlags & { every?: string }) => {
    const id = parseLeaseId(idText);
    const once = (): Promise<void> =>
      run(f, 'POST', `/v1/leases/${id}/keep-alive`, undefined, (r) => {
        const result = failIfError(r, id);
        return `lease ${id} kept alive, ${msText(result?.remainingMs)} ms left`;
      });
    if (f.every === undefined) return once();
    const everyMs = parseIntOption('--every', f.every, 10, 3_600_000);
    // bounded by the user: runs until interrupted or the lease is lost (run throws, exit 1)
    for (;;) {
      await once();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  });
  common(lease.command('revoke <id>').description('revoke a lease: it and every key attached to it are deleted at one revision')).action((idText: string, f: CommonFlags) => {
    const id = parseLeaseId(idText);
    return run(f, 'DELETE', `/v1/leases/${id}`, session(), (r) => {
      const result = failIfError(r, id);
      return `lease ${id} revoked (revision ${String(result?.revision)})`;
    });
  });
  common(lease.command('ttl <id>').description("a lease's granted TTL and time left (from the leader's clock)").option('--keys', 'also list the keys attached')).action(
    (idText: string, f: CommonFlags & { keys?: boolean }) => {
      const id = parseLeaseId(idText);
      return run(f, 'GET', `/v1/leases/${id}${f.keys === true ? '?keys=true' : ''}`, undefined, (r) => {
        const result = failIfError(r, id);
        const keys = result?.keys === undefined ? '' : `, keys: ${result.keys.length === 0 ? '(none)' : result.keys.join(', ')}`;
        return `lease ${id}: TTL ${String(result?.ttlMs)} ms, ${msText(result?.remainingMs)} ms left${keys}`;
      });
    },
  );
  common(lease.command('list').description('list leases (id and granted TTL)').option('--limit <n>', 'at most n leases', '1000')).action((f: CommonFlags & { limit: string }) => {
    const limit = parseIntOption('--limit', f.limit, 1, 100_000);
    return run(f, 'GET', `/v1/leases?limit=${limit}`, undefined, (r) => {
      const result = failIfError(r, undefined);
      const leases = result?.leases ?? [];
      if (leases.length === 0) return 'no leases';
      return leases.map((l) => `lease ${l.id}: TTL ${l.ttlMs} ms`).join('\n') + (result?.more === true ? '\n...' : '');
    });
  });
}
