// `synod auth hash-password` (the password from standard input, never the command line) and
// `synod auth check-file`, as the real command: help, the hash a node's auth file takes, and exit
// 2 with one line for bad input.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAuthFile } from '../server/auth-file.js';
import { startSynod } from './test/cli-cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'synod-auth-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const synod = (args: string[], input?: string) => startSynod(args, input === undefined ? {} : { input }).done;

describe('synod auth hash-password', () => {
  it('prints a hash an auth file takes, with a fresh salt each time', async () => {
    const [a, b] = await Promise.all([synod(['auth', 'hash-password'], 'correct-horse-battery\n'), synod(['auth', 'hash-password'], 'correct-horse-battery')]);
    for (const run of [a, b]) expect([run.status, run.stderr]).toEqual([0, '']);
    const hash = JSON.parse(a.stdout) as Record<string, unknown>;
    expect(hash).toMatchObject({ alg: 'scrypt', N: 32768, r: 8, p: 1 });
    expect((JSON.parse(b.stdout) as { salt: string }).salt).not.toBe(hash['salt']);
    expect(a.stdout).not.toContain('correct-horse');
    const file = parseAuthFile(Buffer.from(JSON.stringify({ enabled: true, users: { alice: { password: hash, roles: [] } } })), 'x');
    expect(file.users.get('alice')?.password).toEqual(hash);
  });

  it('says how to use it, and refuses bad input with exit 2 and one line', async () => {
    const help = await synod(['auth', 'hash-password', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/read from standard input \(never the command line\)/);
    expect(help.stdout).toContain('| synod auth hash-password');
    const cases: [string[], string | undefined, RegExp][] = [
      [[], '', /no password on standard input.*\[BAD_INPUT\]/],
      [[], '\n', /no password on standard input/],
      [[], 'short\n', /a password has 8 to 1024 characters; this one has 5 \[BAD_PASSWORD\]/],
      [[], `${'x'.repeat(1025)}\n`, /this one has 1025 \[BAD_PASSWORD\]/],
      [[], 'first-password\nsecond-password\n', /more than one line.*\[BAD_INPUT\]/],
      [[], 'y'.repeat(70_000), /longer than 65536 bytes.*\[BAD_INPUT\]/],
      [['on-the-command-line'], 'correct-horse-battery\n', /too many arguments/],
    ];
    for (const [args, input, message] of cases) {
      const run = await synod(['auth', 'hash-password', ...args], input);
      expect([run.status, run.stdout], JSON.stringify(input?.slice(0, 20))).toEqual([2, '']);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('synod auth check-file', () => {
  it('prints what a node would load and its fingerprint, or the problem with exit 2', async () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ enabled: true, users: { alice: { password: null, roles: ['app'] } }, roles: { app: { permissions: [{ prefix: 'orders/', access: 'readwrite' }] } } }));
    const ok = await synod(['auth', 'check-file', good]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/good\.json: authentication on, 1 users, 1 roles, fingerprint [0-9a-f]{16}\nwarning: no user has the role "root"/);
    const json = await synod(['auth', 'check-file', good, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ enabled: true, users: ['alice'], roles: ['app'], fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ enabled: true, users: { alice: { password: null, roles: ['ops'] } } }));
    const refused = await synod(['auth', 'check-file', bad]);
    expect([refused.status, refused.stdout, refused.stderr]).toEqual([2, '', `synod: auth file ${bad}: users.alice.roles[0]: there is no role ops in "roles" [AUTH_FILE_INVALID]\n`]);
    const missing = await synod(['auth', 'check-file', join(dir, 'nope.json')]);
    expect([missing.status, missing.stderr]).toEqual([2, expect.stringMatching(/nope\.json: does not exist \[AUTH_FILE_INVALID\]\n$/)]);
  });
});
