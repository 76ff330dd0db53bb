// Converts the histories Elle's public repository ships (histories/*.edn in jepsen-io/elle) into
// test fixtures: each small history gzipped as it is (EDN) and as Synod's txn JSON, with a README
// naming the source and licence. With --check, also checks every history found (huge-scc too, which
// is never committed) against the verdicts Elle's tests state, and prints the times.
// Usage: node --import tsx scripts/convert-elle-histories.ts [--repo GIT_DIR] [--out DIR] [--check]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { checkTxnHistory, historyToJson, parseTxnHistory, type IsolationLevel } from '../src/check/txn/index.js';
import { ELLE_EXPECTATIONS } from '../test/fixtures/elle/expected.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback;
};
const repo = option('--repo', '/work/.mirror/jepsen-io+elle/repo');
const out = option('--out', fileURLToPath(new URL('../test/fixtures/elle/', import.meta.url)));
const check = args.includes('--check');
/** Files over this size are not committed (huge-scc is 2.8 MB); --check still reads them. */
const MAX_FIXTURE_BYTES = 64 * 1024;

function git(...gitArgs: string[]): Buffer {
  return execFileSync('git', ['-C', repo, ...gitArgs], { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
}

const commit = git('rev-parse', 'HEAD').toString().trim();
const names = git('ls-tree', '--name-only', 'HEAD', 'histories/')
  .toString()
  .split('\n')
  .filter((p) => p.endsWith('.edn'));
mkdirSync(out, { recursive: true });
const written: string[] = [];
const missing: string[] = [];
let disagreements = 0;
for (const path of names) {
  const name = path.replace(/^histories\//, '').replace(/\.edn$/, '');
  let bytes: Buffer;
  try {
    bytes = git('show', `HEAD:${path}`);
  } catch {
    missing.push(name);
    continue;
  }
  const text = bytes.toString('utf8');
  const started = performance.now();
  const history = parseTxnHistory(text, 'edn');
  const parseMs = performance.now() - started;
  if (bytes.length <= MAX_FIXTURE_BYTES) {
    writeFileSync(join(out, `${name}.edn.gz`), gzipSync(bytes, { level: 9 }));
    writeFileSync(join(out, `${name}.json.gz`), gzipSync(historyToJson(history), { level: 9 }));
    written.push(name);
  }
  if (!check) continue;
  const expected = ELLE_EXPECTATIONS[name];
  for (const [isolation, verdict] of Object.entries(expected?.verdicts ?? {})) {
    const t = performance.now();
    const r = checkTxnHistory(history, { model: 'txn-append', isolation: isolation as IsolationLevel });
    const ok = r.verdict === verdict;
    if (!ok) disagreements++;
    process.stdout.write(
      `${name} (${history.txns.length} txns, read in ${parseMs.toFixed(0)} ms): ${isolation} ${r.verdict} [${r.anomalyTypes.join(', ')}] in ${(performance.now() - t).toFixed(0)} ms — Elle: ${verdict} ${ok ? 'agree' : 'DISAGREE'}\n`,
    );
  }
}
const readme = `# Elle's shipped histories

Data only, converted by \`scripts/convert-elle-histories.ts\` from
[jepsen-io/elle](https://github.com/jepsen-io/elle) at commit \`${commit}\`, directory \`histories/\`.
Elle is © Jepsen, LLC and contributors, distributed under the Eclipse Public License 2.0
(or GPL-2.0-or-later with the Classpath exception); these files are unmodified copies of its
test data (\`NAME.edn.gz\`, gzipped) and the same events in Synod's txn JSON form (\`NAME.json.gz\`).

Included: ${written.map((n) => `\`${n}\``).join(', ')}.
Not committed: files over ${MAX_FIXTURE_BYTES / 1024} KiB (\`huge-scc\`, 2.8 MB: run the script with \`--check\`
to check it from the repository)${missing.length > 0 ? `, and ${missing.map((n) => `\`${n}\``).join(', ')}, whose contents the mirror used here did not hold` : ''}.

The verdicts expected of each (\`expected.ts\`) are those Elle's own tests and the Elle paper state;
see that file for the source of each.
`;
writeFileSync(join(out, 'README.md'), readme);
process.stdout.write(`wrote ${written.join(', ')} to ${out}${missing.length > 0 ? `; missing from the mirror: ${missing.join(', ')}` : ''}\n`);
if (disagreements > 0) process.exitCode = 1;
