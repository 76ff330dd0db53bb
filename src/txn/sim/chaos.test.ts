import { describe, expect, it } from 'vitest';
import { simProtocol } from '../../primitives/index.js';
import type { CommitChaosResult } from './chaos.js';
import { PARTITION_ONLY_NEMESIS, paxosCommitLayout, runPaxosCommitChaos, runThreePcChaos, runTwoPcChaos } from './chaos.js';

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

describe('3pc under its own fault model: crashes with restart, bounded delays', () => {
  it(`keeps atomicity, validity and the money total, and settles after healing, seeds 1..${SEEDS}`, () => {
    const { failures, committed } = chaosThroughRegistry('3pc');
    expect(failures).toEqual([]);
    expect(committed).toBeGreaterThan(SEEDS * 50);
  });
});

describe('3pc under a network partition (found by searching seeds with partitions only)', () => {
  /** `synod chaos --protocol 3pc-partition --seeds 1 --first-seed 5` */
  const SEED = 5;

  it(`seed ${SEED}: the coordinator, cut off just after sending PRE-COMMIT, commits; the participants' backup aborts`, () => {
    const r = runThreePcChaos({ seed: SEED, nemesis: PARTITION_ONLY_NEMESIS });
    expect(r.ok).toBe(false);
    const atomicity = r.commit.violations.filter((v) => v.kind === 'atomicity');
    expect(atomicity[0]?.message).toBe('t1.41 decided both ways: 1:commit@592 4:abort@997 5:abort@1001');
    // the registered variant finds the same, and the seed replays exactly
    const again = simProtocol('3pc-partition')?.chaos?.run({ seed: SEED, nodes: 5, durationMs: 4000 });
    expect(again?.traceSha256).toBe(r.traceSha256);
    expect(again?.violations).toEqual(r.violations);
  });

  it('the same seed without the partition (crashes only) is clean: the fault, not the load, breaks it', () => {
    expect(runThreePcChaos({ seed: SEED }).ok).toBe(true);
  });
});

describe('replay', () => {
  it('replays a seed exactly, for each protocol', () => {
    expect(runTwoPcChaos({ seed: 4 }).traceSha256).toBe(runTwoPcChaos({ seed: 4 }).traceSha256);
    expect(runPaxosCommitChaos({ seed: 4 }).traceSha256).toBe(runPaxosCommitChaos({ seed: 4 }).traceSha256);
    expect(runThreePcChaos({ seed: 4 }).traceSha256).toBe(runThreePcChaos({ seed: 4 }).traceSha256);
  });

  it.each([['2pc', 4], ['3pc', 4], ['paxos-commit', 5], ['paxos-commit', 7]] as const)('`synod sim run --protocol %s --nodes %i` runs, summarizes and replays', (name, nodes) => {
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
