// The consistency spectrum of the leaderless store, measured (docs/consistency.md): every
// configuration of the table — (R,W) = (1,1), (1,3), (2,2), (3,1), with and without sloppy
// quorum and read repair — under the same chaos nemesis for N seeds; for each model, the seeds on
// which it held and the first seed where it did not (replay: synod chaos --protocol quorum is the
// default configuration; scripts/consistency-table.ts --only NAME --seeds 1 --from SEED any other).
// Usage: node --import tsx scripts/consistency-table.ts [--seeds N] [--from S] [--only NAMES] [--json] [--help]
import { CONSISTENCY_MODELS, measureConsistency, tableConfigs, type ConsistencyRow } from '../src/quorum/sim/consistency.js';
import { fail, parseIntFlag, scriptArgs } from './lib/run-args.js';

const USAGE = `usage: node --import tsx scripts/consistency-table.ts [--seeds N] [--from S] [--only NAMES] [--json] [--help]
  --seeds N       seeds per configuration (default 100; the issue's table uses 1000)
  --from S        first seed (default 1)
  --only NAMES    only these configurations, separated by ';' (e.g. 'R=2 W=2;Raft, linearizable reads')
  --json          print the rows as JSON
configurations: ${tableConfigs().map((c) => c.name).join('; ')}
`;

const args = scriptArgs(USAGE, ['--seeds', '--from', '--only'], ['--json']);
const value = (flag: string): string | undefined => args.value(flag);
const seeds = args.has('--seeds') ? parseIntFlag('--seeds', value('--seeds'), 1, 100_000) : 100;
const from = args.has('--from') ? parseIntFlag('--from', value('--from'), 1, 2 ** 31) : 1;
const onlyText = value('--only');
const wanted = onlyText === undefined ? undefined : onlyText.split(';').map((x) => x.trim());
const configs = tableConfigs().filter((c) => wanted === undefined || wanted.includes(c.name));
for (const name of wanted ?? []) if (!configs.some((c) => c.name === name)) fail(`no configuration ${JSON.stringify(name)}\n${USAGE}`);
const rows: ConsistencyRow[] = [];
const started = Date.now();
for (const config of configs) {
  rows.push(measureConsistency(config, from, seeds, (seed) => {
    if ((seed - from + 1) % 50 === 0) process.stderr.write(`  ${config.name}: ${seed - from + 1}/${seeds} seeds\n`);
  }));
  process.stderr.write(`${config.name}: done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
}
if (args.has('--json')) {
  process.stdout.write(`${JSON.stringify({ seeds, from, rows }, null, 2)}\n`);
} else {
  const lines = [`| configuration | ${CONSISTENCY_MODELS.join(' | ')} | stale reads |`, `| --- | ${CONSISTENCY_MODELS.map(() => '---').join(' | ')} | --- |`];
  for (const row of rows) {
    const cells = CONSISTENCY_MODELS.map((m) => {
      const t = row.models[m];
      if (t.judged === 0) return '—';
      return t.firstViolatingSeed === null ? `${t.seedsMet}/${t.judged}` : `${t.seedsMet}/${t.judged} (seed ${t.firstViolatingSeed})`;
    });
    lines.push(`| ${row.config.name} | ${cells.join(' | ')} | ${(row.staleShare * 100).toFixed(2)}% of ${row.reads} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
