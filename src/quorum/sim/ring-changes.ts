// Membership changes in the simulator, as an operator makes them: a new node is started outside
// the ring, asked to join through any member, and once that change is committed a member is
// asked to leave. Each request is retried until the ring shows it done, whatever faults hit.
import type { NodeId } from '../../core/index.js';
import type { RandomStream } from '../../sim/rng.js';
import type { QuorumRequest } from '../requests.js';
import type { QuorumCluster } from './cluster.js';

export interface RingChangePlan {
  /** A node added (outside the ring) at `addAtMs` and joined from then on. */
  readonly joiner: NodeId;
  /** A member asked to leave once the join is committed. */
  readonly leaver?: NodeId;
  readonly addAtMs: number;
  /** Between two attempts (status, then the change if it is not there yet). */
  readonly retryMs?: number;
}

export class RingChanges {
  private step = 0;
  private readonly steps: QuorumRequest[];

  constructor(
    private readonly cluster: QuorumCluster,
    private readonly plan: RingChangePlan,
    private readonly rng: RandomStream,
  ) {
    this.steps = [{ op: 'ring-join', node: plan.joiner }, ...(plan.leaver === undefined ? [] : [{ op: 'ring-leave', node: plan.leaver } as const])];
  }

  start(): void {
    const members = [...this.cluster.nodeIds];
    this.cluster.sim.after(this.plan.addAtMs, () => {
      this.cluster.sim.addNode(this.plan.joiner, members);
      this.attempt();
    });
  }

  /** Every change asked for is committed (no change under way) on every node that is up, at one epoch. */
  done(): boolean {
    if (this.step < this.steps.length) return false;
    const epochs = new Set<number>();
    for (const id of this.cluster.nodeIds) {
      const node = this.cluster.node(id);
      if (node === undefined) continue;
      const record = node.ringRecord();
      if (record === undefined || record.next !== undefined || node.strayCount() > 0) return false;
      epochs.add(record.epoch);
    }
    return epochs.size === 1;
  }

  /** Asks a random node for the ring; sends the current step's change when the ring does not show it yet. */
  private attempt(): void {
    if (this.step >= this.steps.length) return;
    const to = this.rng.pick(this.cluster.nodeIds.filter((id) => id !== this.plan.joiner));
    this.cluster.send(to, { op: 'ring-status' }, 'operator', (res) => {
      if (res?.ok === true && res.op === 'ring') {
        const request = this.steps[this.step] as Extract<QuorumRequest, { op: 'ring-join' | 'ring-leave' }>;
        const target = res.next ?? res.members;
        const reached = request.op === 'ring-join' ? target.includes(request.node) : !target.includes(request.node);
        if (reached && res.next === undefined) this.step++;
        else if (!reached && res.next === undefined) this.cluster.send(to, request, 'operator', () => undefined);
      }
      this.cluster.sim.after(this.plan.retryMs ?? 200, () => this.attempt());
    });
  }
}
