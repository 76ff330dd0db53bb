// The frame cache: views the simulation page drew earlier, kept by virtual time, so that while
// the scrubber moves back the page can show the nearest earlier frame at once and replay from the
// seed only when the handle rests.
import type { ClusterView } from '../source/types.js';

/** While scrubbing back, a drawn frame this close (virtual ms) stands in until the replay. */
const PREVIEW_SLACK_MS = 150;
const FRAME_SPACING_MS = 25;
const MAX_FRAMES = 1500;

/** Views drawn earlier, by time, for instant previews while scrubbing back. */
export class FrameCache {
  private frames: ClusterView[] = [];

  add(view: ClusterView): void {
    if (view.failure !== null) return;
    const i = this.indexAfter(view.timeMs);
    const before = this.frames[i - 1];
    const after = this.frames[i];
    if ((before !== undefined && view.timeMs - before.timeMs < FRAME_SPACING_MS) || (after !== undefined && after.timeMs - view.timeMs < FRAME_SPACING_MS)) return;
    // monitors are live objects of the session: keep a copy as they are now
    this.frames.splice(i, 0, { ...view, monitors: view.monitors.map((m) => ({ ...m })) });
    if (this.frames.length > MAX_FRAMES) this.frames = this.frames.filter((_, k) => k % 2 === 0);
  }

  /** The latest frame at or before `ms`, if it is within PREVIEW_SLACK_MS. */
  near(ms: number): ClusterView | undefined {
    const f = this.frames[this.indexAfter(ms) - 1];
    return f !== undefined && ms - f.timeMs <= PREVIEW_SLACK_MS ? f : undefined;
  }

  dropAfter(ms: number): void {
    this.frames.length = this.indexAfter(ms);
  }

  /** Index of the first frame later than `ms`. */
  private indexAfter(ms: number): number {
    let lo = 0;
    let hi = this.frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.frames[mid] as ClusterView).timeMs <= ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
