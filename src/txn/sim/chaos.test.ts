import { describe, expect, it } from 'vitest';
import { simProtocol } from '../../primitives/index.js';
import type { CommitChaosResult } from './chaos.js';
import { paxosCommitLayout, runPaxosCommitChaos, runTwoPcChaos } from './chaos.js';

/** Bounded here; `node --import tsx scripts/txn-chaos.ts` runs the long version. */
const SEEDS = 10;

/** Runs seeds 1..SEEDS through the registered protocol (what `synod chaos --protocol NAME` runs). */
function chaosThroughRegistry(name: string): { failures: string[]; committed: number; aborted: number } {
  const protocol = simProtocol(name);
  if (protocol?.chaos === undefined) throw new Error(`${name} is not registered with chaos`);
  const failures: string[] = [];
  let committed = 0;
  let aborted = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = protocol.chaos.run({ seed, ...protocol.chaos.defaults }) as CommitChaosResult;
    if (!r.ok) failures.push(`seed ${seed}: ${r.violations.map((v) => `${v.kind}: ${v.message}`).join('; ')}`);
    // the commit checker judged the whole history, and the money adds up
    expect(r.commit.transactions).toBeGreaterThan(0);
    expect(r.money.final).toBe(r.money.expected);
    committed += r.commit.committed;
    aborted += r.commit.aborted;
  }
  return { failures, committed, aborted };
}

describe.each(['2pc', 'paxos-commit'])('%s under the random nemesis (partitions, crashes, pauses, clocks, loss, duplication, reordering)', (name) => {
  it(`keeps atomicity, validity and the money total, and settles after healing, seeds 1..${SEEDS}`, () => {
    const { failures, committed, aborted } = chaosThroughRegistry(name);
    expect(failures).toEqual([]);
    expect(committed).toBeGreaterThan(SEEDS * 50);
    expect(aborted).toBeGreaterThan(0);
  });
});

describe('replay', () => {
  it('replays a seed exactly, for each protocol', () => {
    expect(runTwoPcChaos({ seed: 4 }).traceSha256).toBe(runTwoPcChaos({ seed: 4 }).traceSha256);
    expect(runPaxosCommitChaos({ seed: 4 }).traceSha256).toBe(runPaxosCommitChaos({ seed: 4 }).traceSha256);
  });

  it.each([['2pc', 4], ['paxos-commit', 5], ['paxos-commit', 7]] as const)('`synod sim run --protocol %s --nodes %i` runs, summarizes and replays', (name, nodes) => {
    const run = (): string[] => {
      const built = simProtocol(name)?.build({ seed: 3, nodes, durationMs: 2000, trace: false });
      if (built === undefined) throw new Error(name);
      built.sim.runFor(2000);
      return built.summarize();
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(first[1]).toMatch(/atomicity and validity hold/);
  });
});

describe('the Paxos Commit layout', () => {
  it('uses 3 acceptors from 6 nodes on, 1 below, and refuses fewer than 4 nodes', () => {
    expect(paxosCommitLayout(7)).toEqual({ participants: 3, acceptors: 3 });
    expect(paxosCommitLayout(5)).toEqual({ participants: 3, acceptors: 1 });
    expect(paxosCommitLayout(4)).toEqual({ participants: 2, acceptors: 1 });
    expect(() => paxosCommitLayout(3)).toThrow(RangeError);
  });
});
