// The real `synod gossip` commands (spawned from source): an agent started by the CLI, changed and
// read through the client commands with and without --json, watched, and stopped with SIGTERM (it
// leaves gracefully and exits 0); bad input exits 2 with one line, an unreachable agent 1.
import { describe, expect, it } from 'vitest';
import { startSynod } from './test/cli-cluster.js';

async function synod(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return startSynod(args).done;
}

describe('synod gossip', () => {
  it('runs an agent that the client commands read and change, and that leaves on SIGTERM', async () => {
    const agent = startSynod(['gossip', 'agent', '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', '--preset', 'local']);
    let url = '';
    for (let i = 0; i < 600 && url === ''; i++) {
      url = /control API (\S+?),/.exec(agent.stdout())?.[1] ?? '';
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(url, agent.stderr()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const at = ['--agent', url];
    const incr = await synod(['gossip', 'crdt', 'incr', 'hits', '3', ...at]);
    expect(incr.status, incr.stderr).toBe(0);
    expect(incr.stdout).toBe('hits (counter) = 3\n');
    expect((await synod(['gossip', 'crdt', 'add', 'tags', 'blue', ...at])).stdout).toBe('tags (set) = {"blue"}\n');
    expect((await synod(['gossip', 'crdt', 'set', 'mode', 'fast', ...at])).stdout).toBe('mode (register) = "fast"\n');
    expect((await synod(['gossip', 'crdt', 'enable', 'open', ...at])).stdout).toBe('open (flag) = true\n');
    expect((await synod(['gossip', 'crdt', 'get', ...at])).stdout).toBe('hits (counter) = 3\nmode (register) = "fast"\nopen (flag) = true\ntags (set) = {"blue"}\n');
    const json = await synod(['gossip', 'crdt', 'get', 'hits', '--json', ...at]);
    expect(JSON.parse(json.stdout)).toEqual({ entries: [{ kind: 'counter', name: 'hits', value: 3 }] });
    expect((await synod(['gossip', 'members', ...at])).stdout).toMatch(/^127\.0\.0\.1:\d+\talive\tincarnation \d+\n$/);
    expect((await synod(['gossip', 'status', ...at])).stdout).toMatch(/: alive, incarnation \d+, health 0; members alive 1, suspect 0, dead 0, left 0; document version 4\n$/);
    expect((await synod(['gossip', 'watch', '--count', '1', ...at])).stdout).toMatch(/^1\t(doc|member)\t/);
    expect((await synod(['gossip', 'keys', ...at])).stdout).toBe('(no key ring: this agent runs in the clear)\n');
    const keygen = JSON.parse((await synod(['gossip', 'keygen'])).stdout) as { keys: string[]; primary: number };
    expect(Buffer.from(keygen.keys[0] as string, 'base64')).toHaveLength(32);
    agent.child.kill('SIGTERM');
    const done = await agent.done;
    expect(done.status).toBe(0);
    expect(done.stdout).toMatch(/SIGTERM: leaving the group/);
    expect(done.stderr).toMatch(/no --keyring/);
  }, 120_000);

  it('refuses bad input with exit 2 and one line, and an unreachable agent with exit 1', async () => {
    const bad = [
      ['gossip', 'agent', '--bind', 'nonsense'],
      ['gossip', 'agent', '--bind', '127.0.0.1:0', '--gossip-config', '{"probeIntervalMs":-1}'],
      ['gossip', 'agent', '--bind', '127.0.0.1:0', '--gossip-config', '{"bogus":1}'],
      ['gossip', 'agent', '--bind', '127.0.0.1:0', '--gossip-config', '[1'],
      ['gossip', 'agent', '--bind', '127.0.0.1:0', '--preset', 'moon'],
      ['gossip', 'agent', '--bind', '127.0.0.1:0', '--keyring', '/nonexistent/keyring.json'],
      ['gossip', 'agent', '--bind', '127.0.0.1:0', '--join', 'a,b'],
      ['gossip', 'agent', '--bind', '127.0.0.1:0', '--http', '10.1.2.3:80'],
      ['gossip', 'crdt', 'incr', 'hits', 'many'],
      ['gossip', 'members', '--agent', 'ftp://x'],
      ['gossip', 'keys', 'rotate'],
    ];
    for (const args of bad) {
      const run = await synod(args);
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const gone = await synod(['gossip', 'members', '--agent', 'http://127.0.0.1:1']);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/UNREACHABLE/);
  }, 120_000);
});
