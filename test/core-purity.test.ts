// The rule that protocol cores take time, randomness and I/O from their host is enforced by
// lint. These tests show the rule fires inside core folders and stays quiet in host folders.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function problems(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

const forbidden: [string, string][] = [
  ['Date.now', 'export const t = Date.now();'],
  ['new Date', 'export const t = new Date();'],
  ['Math.random', 'export const r = Math.random();'],
  ['setTimeout', 'setTimeout(() => {}, 10);'],
  ['setInterval', 'setInterval(() => {}, 10);'],
  ['process', 'export const e = process.env;'],
  ['node:fs', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;"],
  ['node:net', "import net from 'node:net';\nexport const n = net;"],
  ['fs', "import fs from 'fs';\nexport const f = fs;"],
];

describe('core purity lint rule', () => {
  for (const folder of ['src/sim', 'src/clock', 'src/raft', 'src/kv', 'src/check', 'src/lockcore', 'src/redislike', 'src/ring', 'src/quorum', 'src/saga', 'src/paxos']) {
    it.each(forbidden)(`forbids %s in ${folder}`, async (_name, code) => {
      const found = await problems(code, `${folder}/example.ts`);
      expect(found.some((p) => /no-restricted-(globals|properties|imports)/.test(p))).toBe(true);
    });
  }

  it.each(['src/cli', 'src/server', 'src/net', 'src/storage', 'src/lock', 'src/election', 'src/gossip-net', 'src/gossip-agent', 'src/txn-kv', 'src/saga-host'])('allows real time and I/O in host folder %s', async (folder) => {
    const found = await problems("import { readFileSync } from 'node:fs';\nexport const t = Date.now() + readFileSync.length;", `${folder}/example.ts`);
    expect(found.filter((p) => p.startsWith('no-restricted'))).toEqual([]);
  });

  it('leaves clean core code alone', async () => {
    expect(await problems('export const double = (x: number): number => 2 * x;', 'src/raft/example.ts')).toEqual([]);
  });

  it.each(['cli', 'server', 'net', 'storage', 'runtime', 'gossip-net'])('forbids a core to import the host folder %s', async (host) => {
    for (const core of ['src/raft', 'src/kv', 'src/core', 'src/primitives', 'src/paxos']) {
      const found = await problems(`import * as h from '../${host}/index.js';\nexport const x = h;`, `${core}/example.ts`);
      expect(found.some((p) => p.includes('Cores know nothing of hosts'))).toBe(true);
    }
  });

  it('lets the visualizer import cores but no host code', async () => {
    expect((await problems("import * as h from '../../../src/server/node.js';\nexport const x = h;", 'web/src/ui/example.ts')).some((p) => p.startsWith('no-restricted-imports'))).toBe(true);
    expect((await problems("import * as r from '../../../src/raft/index.js';\nexport const x = r;", 'web/src/ui/example.ts')).filter((p) => p.startsWith('no-restricted'))).toEqual([]);
  });
});
