// End-to-end tests of the lock protocols through `synod sim run` and `synod chaos`: the registry
// knows them, a run reports every verdict, and a failing chaos seed prints its replay command.
import { describe, expect, it } from 'vitest';
import { runSynod } from './test/run-cli.js';

describe('synod sim run / chaos --protocol lock', () => {
  it('runs the lock with fenced storage: the paused holder is refused, the storage stays safe', () => {
    const run = runSynod(['sim', 'run', '--protocol', 'lock', '--seed', '7']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('nodes: service k1; storage db; clients c1,c2,c3');
    expect(run.stdout).toMatch(/mutex, as the clients believed: \d+ violation/);
    expect(run.stdout).toMatch(/storage writes accepted \d+, refused [1-9]/);
    expect(run.stdout).toContain('fenced resource (no superseded write accepted): ok');
    const unfenced = runSynod(['sim', 'run', '--protocol', 'lock-unfenced', '--seed', '7']);
    expect(unfenced.stdout).toMatch(/fenced resource \(no superseded write accepted\): 1 violation/);
  });

  it('chaos: no violation for the fenced lock; a replayable failing seed without fencing and with Redlock', () => {
    const fenced = runSynod(['chaos', '--protocol', 'lock', '--seeds', '5']);
    expect(fenced.status).toBe(0);
    expect(fenced.stdout).toContain('lock chaos: 5 seed(s) 1..5, 7 nodes');
    const unfenced = runSynod(['chaos', '--protocol', 'lock-unfenced', '--seeds', '1', '--first-seed', '5']);
    expect(unfenced.status).toBe(1);
    expect(unfenced.stdout).toContain('replay: synod chaos --protocol lock-unfenced --seeds 1 --first-seed 5 --nodes 7 --duration-ms 3000');
    const redlock = runSynod(['chaos', '--protocol', 'redlock', '--seeds', '1', '--first-seed', '115']);
    expect(redlock.stdout).toContain('mutex-client');
  });

  it('refuses too few nodes for Redlock', () => {
    const run = runSynod(['sim', 'run', '--protocol', 'redlock']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--nodes must be a whole number from 7/);
  });
});
