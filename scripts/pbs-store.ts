// PBS on the store itself: the real quorum core in the simulator with each message leg drawn from
// the paper's fitted distributions (src/quorum/sim/pbs-store.ts), next to the WARS model's
// numbers for the same profile and quorum. Prints P(consistent) at each t and the 99.9%
// t-visibility of both (docs/pbs.md, "The store itself").
// Usage: node --import tsx scripts/pbs-store.ts [--trials N] [--seed S] [--json] [--help]
import { performance } from 'node:perf_hooks';
import { LNKD_DISK, LNKD_SSD, simulateWars, YMMR, type WarsProfile } from '../src/quorum/pbs/index.js';
import { firstTReaching, measureStoreVisibility, type StoreVisibilityPoint } from '../src/quorum/sim/pbs-store.js';
import { RandomSource } from '../src/sim/rng.js';
import { fail, parseIntFlag } from './lib/run-args.js';

const USAGE = `usage: node --import tsx scripts/pbs-store.ts [--trials N] [--seed S] [--json] [--help]
  --trials N   write-then-read pairs per t on the store (default 5000; 100..200000)
  --seed S     simulator seed (default 2012)
  --json       print the results as JSON
`;

interface Case {
  readonly profile: WarsProfile;
  readonly r: number;
  readonly w: number;
  readonly grid: readonly number[];
}

const CASES: readonly Case[] = [
  { profile: LNKD_SSD, r: 1, w: 1, grid: [0, 0.25, 0.5, 1, 1.5, 2, 3, 5, 8] },
  { profile: LNKD_DISK, r: 1, w: 1, grid: [0, 1, 2, 5, 10, 20, 30, 40, 45, 50, 60, 80, 100] },
  { profile: LNKD_DISK, r: 2, w: 2, grid: [0] },
  { profile: YMMR, r: 1, w: 1, grid: [0, 10, 50, 100, 250, 500, 1000, 1250, 1500, 2000, 3000] },
  { profile: YMMR, r: 2, w: 1, grid: [0, 10, 50, 100, 150, 200, 250, 300, 500] },
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) return void process.stdout.write(USAGE);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--trials' || a === '--seed') i++;
    else if (a !== '--json') fail(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
  }
  const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const trials = args.includes('--trials') ? parseIntFlag('--trials', flag('--trials'), 100, 200_000) : 5_000;
  const seed = args.includes('--seed') ? parseIntFlag('--seed', flag('--seed'), 0, 2 ** 31) : 2012;
  const results: { name: string; store: StoreVisibilityPoint[]; warsAt: Record<string, number>; storeT999: number | null; warsT999: number }[] = [];
  for (const c of CASES) {
    const name = `${c.profile.name} N=3 R=${c.r} W=${c.w}`;
    const t0 = performance.now();
    process.stderr.write(`${name}: the store, ${trials} pairs per t...\n`);
    const store = measureStoreVisibility({ profile: c.profile, seed, replicas: 3, readQuorum: c.r, writeQuorum: c.w, tValuesMs: c.grid, trialsPerT: trials });
    const stream = new RandomSource(seed).stream('wars');
    const [wars] = simulateWars({ profile: c.profile, replicas: 3, quorums: [{ readQuorum: c.r, writeQuorum: c.w }], trials: 200_000 }, () => stream.float());
    const warsModel = wars as NonNullable<typeof wars>;
    results.push({
      name,
      store,
      warsAt: Object.fromEntries(c.grid.map((t) => [String(t), warsModel.probabilityConsistent(t)])),
      storeT999: firstTReaching(store, 0.999) ?? null,
      warsT999: warsModel.tVisibilityMs(0.999),
    });
    process.stderr.write(`  ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  if (args.includes('--json')) return void process.stdout.write(`${JSON.stringify({ trials, seed, results }, null, 2)}\n`);
  const lines: string[] = [`PBS on the store (the real core in the simulator, ${trials} write-then-read pairs per t, seed ${seed}) vs the WARS model (200,000 trials)`];
  for (const r of results) {
    lines.push(`${r.name}: 99.9% t-visibility store ${r.storeT999 === null ? 'beyond the grid' : `<= ${r.storeT999} ms (first grid point)`}, WARS ${r.warsT999.toFixed(2)} ms`);
    lines.push(`  t ms       ${r.store.map((p) => String(p.tMs).padStart(7)).join('')}`);
    lines.push(`  store  %   ${r.store.map((p) => (p.probability * 100).toFixed(2).padStart(7)).join('')}`);
    lines.push(`  WARS   %   ${r.store.map((p) => ((r.warsAt[String(p.tMs)] as number) * 100).toFixed(2).padStart(7)).join('')}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
