// End-to-end test of `synod check`: spawns the real CLI on files written to a temporary folder
// and checks verdict lines, JSON lines, per-file error lines and exit codes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { historyOf } from './test/histories.js';
import { runSynodAsync, type CliRun } from '../cli/test/run-cli.js';
import { etcdHistoriesDir } from '../../test/shared-histories.js';
import { porcupineKvText } from '../../test/porcupine-kv.js';

const etcd002 = join(etcdHistoriesDir, 'etcd_002.log');
const dir = mkdtempSync(join(tmpdir(), 'synod-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const good = write(
  'good.json',
  JSON.stringify(historyOf([{ p: 1, f: 'write', input: 1, at: [0, 1] }, { p: 2, f: 'read', output: 1, at: [2, 3] }])),
);
const bad = write(
  'bad.json',
  JSON.stringify(historyOf([{ p: 1, f: 'write', input: 1, at: [0, 1] }, { p: 1, f: 'read', output: null, at: [2, 3] }])),
);
const broken = write('broken.log', 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\t[1\n');

function synod(...args: string[]): Promise<CliRun> {
  return runSynodAsync(['check', ...args]);
}

describe.concurrent('synod check', () => {
  it('exits 0 when every file is linearizable', async () => {
    const run = await synod('--model', 'register', good);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/good\.json: linearizable \(register: 2 operations/);
  });

  it('exits 1 on a violation and explains it', async () => {
    const run = await synod('--model', 'register', '--sessions', good, bad);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/bad\.json: not-linearizable/);
    expect(run.stdout).toContain('none of these can be placed next');
    expect(run.stdout).toContain('read-your-writes: process 1');
  });

  it('prints one JSON line per file, and one message line per unreadable file, exiting 2', async () => {
    const run = await synod('--model', 'register', '--json', good, bad, broken, join(dir, 'missing.log'));
    expect(run.status).toBe(2);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; verdict: string; ms: number; error?: { code: string } });
    expect(lines.map((l) => [l.file, l.verdict])).toEqual([
      [good, 'linearizable'],
      [bad, 'not-linearizable'],
      [broken, 'unknown'],
      [join(dir, 'missing.log'), 'unknown'],
    ]);
    expect(lines.every((l) => typeof l.ms === 'number')).toBe(true);
    expect(lines.map((l) => l.error?.code)).toEqual([undefined, undefined, 'JEPSEN_PARSE', 'READ_FAILED']);
    const errors = run.stderr.trim().split('\n');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^synod: .*broken\.log: line 2: bad value .*\[JEPSEN_PARSE\]$/);
    expect(errors[1]).toMatch(/^synod: .*missing\.log: cannot read: .*\[READ_FAILED\]$/);
  });

  it('refuses empty, blank, operation-less and cut-off files instead of calling them linearizable', async () => {
    const etcd000 = readFileSync(join(etcdHistoriesDir, 'etcd_000.log'), 'utf8');
    const files = [
      write('empty.log', ''),
      write('blank.log', '\n  \n'),
      write('empty.json', ''),
      write('no-ops.json', JSON.stringify({ format: 'synod-history/1', ops: [] })),
      write('other-loggers.log', 'INFO  jepsen.core - Running test\n'),
      write('cut.json', readFileSync(good, 'utf8').slice(0, 40)),
      // cut inside the value of the last line: "[3 0]" becomes "[3", and "4" of "14" becomes "1"
      write('cut-value.log', etcd000.slice(0, etcd000.lastIndexOf('\t') + 1)),
      write('cut-line.log', etcd000.slice(0, etcd000.length - 1)),
    ];
    const run = await synod('--model', 'register', '--json', ...files);
    expect(run.status).toBe(2);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { verdict: string; error?: { code: string } });
    expect(lines.map((l) => [l.verdict, l.error?.code])).toEqual([
      ['unknown', 'EMPTY_HISTORY'],
      ['unknown', 'EMPTY_HISTORY'],
      ['unknown', 'EMPTY_HISTORY'],
      ['unknown', 'EMPTY_HISTORY'],
      ['unknown', 'EMPTY_HISTORY'],
      ['unknown', 'HISTORY_FORMAT'],
      ['unknown', 'TRUNCATED_HISTORY'],
      ['unknown', 'TRUNCATED_HISTORY'],
    ]);
    const errors = run.stderr.trim().split('\n');
    expect(errors).toHaveLength(files.length);
    expect(errors[7]).toMatch(new RegExp(`^synod: .*cut-line\\.log: line ${etcd000.split('\n').length - 1}: the log is cut off .*\\[TRUNCATED_HISTORY\\]$`));
  });

  it('says so when no operation completed ok, and counts the outcomes', async () => {
    const pending = write('pending.log', 'INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:fail\t:read\tnil\n');
    const text = await synod('--model', 'register', pending);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/pending\.log: linearizable .*\n {2}warning: no operation completed ok \(1 failed, 1 unknown of 2\)/);
    const json = await synod('--model', 'register', '--json', pending, good);
    const [first, second] = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { counts: unknown; warning?: string });
    expect(first).toMatchObject({ counts: { ops: 2, ok: 0, fail: 1, unknown: 1 }, warning: expect.stringMatching(/no operation completed ok/) });
    expect(second).toMatchObject({ counts: { ops: 2, ok: 2, fail: 0, unknown: 0 } });
    expect(second?.warning).toBeUndefined();
  });

  it('escapes control characters from file names, values, processes and error excerpts', async () => {
    // eslint-disable-next-line no-control-regex -- finding raw control characters is the point
    const rawControl = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
    const red = '\u001b[31mred\u001b[0m';
    const evilValues = write(
      'values\u001b[2J\u009b.json',
      JSON.stringify(
        historyOf([
          { p: '1\u001b]0;owned\u0007', f: 'write', input: red, at: [0, 1] },
          { p: '2\nfake.json: linearizable', f: 'read', output: '\u009b31m\u0085\u007f', at: [2, 3] },
        ]),
      ),
    );
    const evilLine = write('line\u001b[1A.log', 'INFO  jepsen.util - 0\t:invoke\t:read\t\u001b[31m\u009b\n');
    const text = await synod('--model', 'register', '--sessions', evilValues, evilLine);
    expect(text.status).toBe(2);
    expect(text.stdout).not.toMatch(rawControl);
    expect(text.stderr).not.toMatch(rawControl);
    expect(text.stdout).toContain('values\\u001b[2J\\u009b.json: not-linearizable');
    expect(text.stdout).toContain('p1\\u001b]0;owned\\u0007 write "\\u001b[31mred\\u001b[0m"');
    expect(text.stdout).toContain('p2\\nfake.json: linearizable read → "\\u009b31m\\u0085\\u007f"');
    expect(text.stderr).toMatch(/^synod: .*line\\u001b\[1A\.log: line 1: bad value "\\u001b\[31m\\u009b".*\[JEPSEN_PARSE\]$/m);

    const json = await synod('--model', 'register', '--sessions', '--json', evilValues, evilLine);
    expect(json.stdout).not.toMatch(rawControl);
    expect(json.stderr).not.toMatch(rawControl);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; operations?: { output: unknown }[] });
    expect(lines.map((l) => l.file)).toEqual([evilValues, evilLine]);
    expect(lines[0]?.operations?.map((op) => op.output)).toContain('\u009b31m\u0085\u007f');
  });

  it('exits 2 with verdict unknown when the budget runs out', async () => {
    const run = await synod('--model', 'register', '--max-states', '10', '--json', etcd002);
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ verdict: 'unknown', reason: 'state-budget' });
  });

  it('exits 2 on usage errors', async () => {
    expect((await synod('--model', 'queue', good)).status).toBe(2);
    const sessions = await synod('--model', 'mutex', '--sessions', good);
    expect(sessions.status).toBe(2);
    expect(sessions.stderr).toMatch(/--sessions is not defined for model mutex.*\[BAD_OPTION\]/);
  });

  it('refuses flags of one family of models given to the other', async () => {
    const isolation = await synod('--model', 'register', '--isolation', 'serializable', good);
    expect(isolation.status).toBe(2);
    expect(isolation.stderr).toMatch(/--isolation is for the transactional models.*\[BAD_OPTION\]/);
    const linearOnly = await synod('--model', 'txn-append', '--all', '--html', join(dir, 'never.html'), good);
    expect(linearOnly.status).toBe(2);
    expect(linearOnly.stderr).toMatch(/--all, --html are for the linearizability models, not the transactional model txn-append \[BAD_OPTION\]/);
  });
});

describe.concurrent('synod check: formats, --fail-cas and --all', () => {
  const ednRegister = write(
    'register.edn',
    [
      '{:type :invoke, :f :write, :value 1, :process 0, :time 10, :index 0}',
      '{:type :ok, :f :write, :value 1, :process 0, :time 20, :index 1}',
      '{:type :invoke, :f :cas, :value [1 2], :process 1, :time 30, :index 2}',
      '{:type :fail, :f :cas, :value [1 2], :process 1, :time 40, :index 3}',
      '{:type :info, :f :kill, :value nil, :process :nemesis, :time 45, :index 4}',
      '{:type :invoke, :f :read, :value nil, :process 0, :time 50, :index 5}',
      '{:type :ok, :f :read, :value 1, :process 0, :time 60, :index 6}',
      '',
    ].join('\n'),
  );
  const logRegister = write(
    'register.log',
    ['0\t:invoke\t:write\t1', '0\t:ok\t:write\t1', '1\t:invoke\t:cas\t[1 2]', '1\t:fail\t:cas\t[1 2]', '0\t:invoke\t:read\tnil', '0\t:ok\t:read\t1', '']
      .map((l) => (l === '' ? '' : `INFO  jepsen.util - ${l}`))
      .join('\n'),
  );
  const porcupineBad = write('c01-bad.txt', porcupineKvText('c01-bad'));
  const jsonNamedLog = write('synod-history.log', readFileSync(good, 'utf8'));

  type Line = { file: string; verdict: string; format?: string; failCas?: string; partitions?: { key: string; verdict: string; ms: number | null; reason: string | null }[]; error?: { code: string } };
  const parse = (run: CliRun): Line[] => run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);

  it('detects each format from the file, whatever its name, with the failed-cas default of each', async () => {
    const run = await synod('--model', 'register', '--json', ednRegister, logRegister, jsonNamedLog);
    expect(parse(run).map((l) => [l.format, l.failCas, l.verdict])).toEqual([
      ['edn', 'dropped', 'linearizable'],
      ['jepsen-log', 'observed', 'not-linearizable'],
      ['synod', 'dropped', 'linearizable'],
    ]);
    expect(run.status).toBe(1);
  });

  it('--fail-cas overrides the default', async () => {
    expect((await synod('--model', 'register', '--fail-cas', 'observed', ednRegister)).status).toBe(1);
    expect((await synod('--model', 'register', '--fail-cas', 'dropped', logRegister)).status).toBe(0);
    expect((await synod('--model', 'register', '--fail-cas', 'sometimes', logRegister)).status).toBe(2);
  });

  it('--format forces a reader, and a file that is not in it fails with that reader\'s error', async () => {
    const run = await synod('--model', 'register', '--format', 'jepsen-log', '--json', write('good-nl.json', `${readFileSync(good, 'utf8')}\n`));
    expect(run.status).toBe(2);
    expect(parse(run)[0]?.error?.code).toBe('JEPSEN_PARSE');
    expect((await synod('--model', 'register', '--format', 'edn', ednRegister)).status).toBe(0);
    expect((await synod('--model', 'register', '--format', 'xml', ednRegister)).status).toBe(2);
  });

  it("reads Porcupine's KV logs for the kv model, with per-key verdicts and times in --json", async () => {
    const run = await synod('--model', 'kv', '--json', porcupineBad);
    expect(run.status).toBe(1);
    const [line] = parse(run);
    expect(line).toMatchObject({ format: 'porcupine-kv', verdict: 'not-linearizable' });
    expect(line?.partitions?.length).toBe(8);
    expect(line?.partitions?.every((p) => typeof p.ms === 'number')).toBe(true);
    expect(line?.partitions?.some((p) => p.verdict === 'not-linearizable')).toBe(true);
  });

  it('--all decides every key and lists each one in text', async () => {
    const all = await synod('--model', 'kv', '--all', '--json', porcupineBad);
    const partitions = parse(all)[0]?.partitions ?? [];
    expect(partitions.every((p) => p.verdict !== 'unknown')).toBe(true);
    const text = await synod('--model', 'kv', '--all', porcupineBad);
    expect(text.stdout).toMatch(/^ {2}key "0": (linearizable|not-linearizable), \d+ operations, \d+ states, [\d.]+ ms$/m);
    expect(text.stdout.match(/^ {2}key "/gm)).toHaveLength(8);
  });

  it('a malformed EDN history is one line naming the line and code, exit 2', async () => {
    const broken = write('broken.edn', '{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :read, :process 0, :value [1}\n');
    const run = await synod('--model', 'register', broken);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^synod: .*broken\.edn: line 2: bad map .*"}" closes no bracket opened before it \[EDN_HISTORY\]$/m);
  });
});

describe.concurrent('synod check --html', () => {
  it('writes one self-contained page with a section per file, the violating operation marked', async () => {
    const page = join(dir, 'report.html');
    const run = await synod('--model', 'register', '--html', page, good, bad, join(dir, 'missing.log'));
    expect(run.status).toBe(2);
    const html = readFileSync(page, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<section class="report"/g)).toHaveLength(3);
    expect(html).toContain('data-verdict="linearizable"');
    expect(html).toContain('data-verdict="not-linearizable"');
    // bad.json: the read of null after the write of 1 got stuck
    expect(html).toMatch(/<g class="op unplaceable stuck" data-testid="op" data-index="1" data-outcome="ok"[^>]*><title>#1 p1 read → null \[2, 3\]/);
    expect(html).toContain('<li class="stuck" data-index="1">#1 p1 read → null [2, 3] ← completed before it could take effect</li>');
    expect(html).toMatch(/<p class="error" data-testid="error">cannot read: ENOENT[^<]*\[READ_FAILED\]<\/p>/);
    expect(html).not.toMatch(/(src|href)="(?!#)/);
  });

  it('a page that cannot be written is one line and exit 2, before any check', async () => {
    const run = await synod('--model', 'register', '--html', join(dir, 'no-such-dir', 'r.html'), good);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`synod: --html ${join(dir, 'no-such-dir', 'r.html')}: cannot write the report (ENOENT) [HTML_WRITE]\n`);
  });

  it('refuses to write the page over a history it checks', async () => {
    const copy = write('copy.json', readFileSync(good, 'utf8'));
    const run = await synod('--model', 'register', '--html', copy, copy);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/is one of the histories to check; writing the report would destroy it \[BAD_OPTION\]\n$/);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(good, 'utf8'));
  });

  it("draws Porcupine's KV logs per key, the violating key's chart shown first", async () => {
    const porcupineBad = write('c01-bad-html.txt', porcupineKvText('c01-bad'));
    const page = join(dir, 'kv.html');
    expect((await synod('--model', 'kv', '--html', page, porcupineBad)).status).toBe(1);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('<select class="key-filter" data-testid="key-filter">');
    expect(html).toMatch(/<option value="\d+" selected="selected">/);
    expect(html.match(/class="op[^"]* stuck"/g)?.length).toBe(2); // in the all-keys chart and the key's own
  });
});
