// Time travel over deterministic replay. A timeline is a seed plus the actions of the current
// branch; its session is the simulation at the displayed time. Moving forward runs the session
// (re-applying recorded future actions on the way); moving back builds a fresh session and
// replays from the seed. Acting anywhere but at the end of the branch forks it: the recorded
// future is dropped and the new action becomes the end.
import type { ProtocolAdapter } from '../adapters/types.js';
import type { Action, RunSpec, TimedAction } from './actions.js';
import { SimSession } from './session.js';

export class Timeline {
  private current: SimSession;
  /** The furthest time this branch has been run to (the scrubber's end). */
  private horizon: number;
  /** Wall time spent replaying on the last backward seek (ms), for the status line. */
  lastReplayMs = 0;

  constructor(
    readonly adapter: ProtocolAdapter,
    private readonly base: RunSpec,
  ) {
    this.current = new SimSession(adapter, base);
    this.horizon = Math.max(0, ...base.actions.map((a) => a.at));
  }

  get session(): SimSession {
    return this.current;
  }

  get nowMs(): number {
    return this.current.nowMs;
  }

  get horizonMs(): number {
    return Math.max(this.horizon, this.current.nowMs);
  }

  /** The run as it stands (seed and every action of the branch, future ones included). */
  get run(): RunSpec {
    return { ...this.base, actions: [...this.current.actions] };
  }

  get actions(): readonly TimedAction[] {
    return this.current.actions;
  }

  seek(t: number): void {
    const target = Math.max(0, Math.round(t));
    if (target < this.current.nowMs) {
      const started = performance.now();
      this.current = new SimSession(this.adapter, this.run);
      this.current.advanceTo(target);
      this.lastReplayMs = performance.now() - started;
    } else {
      this.current.advanceTo(target);
    }
    this.horizon = Math.max(this.horizon, this.current.nowMs);
  }

  step(): void {
    this.current.stepOne();
    this.horizon = Math.max(this.horizon, this.current.nowMs);
  }

  act(action: Action): TimedAction {
    const timed = this.current.act(action);
    this.horizon = this.current.nowMs;
    return timed;
  }

  /** Removes every action after the displayed time (keeps the run, forgets its recorded future). */
  forgetFuture(): void {
    this.current.actions.length = this.current.applied;
    this.horizon = this.current.nowMs;
  }
}
