// The simulation's time bar: play/pause, single step, speed on a log scale, the scrubber, the time
// shown and "Go to". It only reports what the user asks for (TimeBarActions); the page moves the
// clock and tells the bar what to show.
import type { ClusterView } from '../source/types.js';
import { button, formatMs, h } from './dom.js';

const SPEED_MIN = 5;
const SPEED_MAX = 20_000;

function speedToSlider(speed: number): number {
  return Math.round((1000 * Math.log(speed / SPEED_MIN)) / Math.log(SPEED_MAX / SPEED_MIN));
}

function sliderToSpeed(v: number): number {
  const raw = SPEED_MIN * Math.pow(SPEED_MAX / SPEED_MIN, v / 1000);
  const digits = Math.pow(10, Math.floor(Math.log10(raw)) - 1);
  return Math.max(SPEED_MIN, Math.round(raw / digits) * digits);
}

export interface TimeBarActions {
  togglePlay(): void;
  /** The Step button: exactly one simulator event. */
  step(): void;
  /** Virtual ms per real second. */
  setSpeed(speed: number): void;
  /** The scrubber moved to `ms`; `final` once the handle is let go. */
  scrub(ms: number, final: boolean): void;
  goTo(ms: number): void;
}

export class TimeBar {
  readonly el = h('div', { class: 'timebar', 'data-testid': 'timebar' });
  private readonly playButton = h('button', { type: 'button', 'data-testid': 'play', class: 'primary' }, '▶ Play');
  private readonly scrubber = h('input', { type: 'range', min: 0, max: 1000, step: 1, value: 0, 'data-testid': 'scrubber', class: 'scrubber' });
  private readonly speed = h('input', { type: 'range', min: 0, max: 1000, step: 1, 'data-testid': 'speed' });
  private readonly speedLabel = h('span', { class: 'speed-label', 'data-testid': 'speed-label' });
  private readonly timeLabel = h('span', { class: 'time', 'data-testid': 'time' });
  private readonly gotoInput = h('input', { type: 'number', min: 0, step: 10, 'data-testid': 'goto-input', size: 7, placeholder: 'ms' });

  constructor(actions: TimeBarActions) {
    this.playButton.addEventListener('click', () => actions.togglePlay());
    this.speed.addEventListener('input', () => {
      const speed = sliderToSpeed(Number(this.speed.value));
      actions.setSpeed(speed);
      this.speedLabel.textContent = `${speed} ms/s`;
    });
    this.scrubber.addEventListener('input', () => actions.scrub(Number(this.scrubber.value), false));
    this.scrubber.addEventListener('change', () => actions.scrub(Number(this.scrubber.value), true));
    const go = (): void => {
      const v = Number(this.gotoInput.value);
      if (!Number.isFinite(v) || v < 0) return;
      actions.goTo(v);
    };
    this.gotoInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') go();
    });
    this.el.append(
      this.playButton,
      button('Step', 'step', 'Process the next event (→)', () => actions.step()),
      h('label', { class: 'speed', title: 'virtual milliseconds per real second' }, 'Speed ', this.speed, this.speedLabel),
      this.scrubber,
      this.timeLabel,
      h('label', { title: 'jump to a virtual time (ms)' }, 'Go to ', this.gotoInput),
      button('Go', 'goto', 'Jump to this time', go),
    );
  }

  /** Shows the speed of a run just loaded. */
  showSpeed(speed: number): void {
    this.speed.value = String(speedToSlider(speed));
    this.speedLabel.textContent = `${speed} ms/s`;
  }

  render(view: ClusterView, endMs: number, playing: boolean): void {
    this.scrubber.max = String(Math.max(endMs, view.timeMs));
    if (document.activeElement !== this.scrubber) this.scrubber.value = String(view.timeMs);
    this.timeLabel.textContent = `${formatMs(view.timeMs)} / ${formatMs(endMs)}`;
    this.playButton.textContent = playing ? 'Pause' : '▶ Play';
    this.playButton.dataset['playing'] = String(playing);
  }
}
