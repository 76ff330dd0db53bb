// Lamport logical clock: a single counter whose order is consistent with causality
// (a happened-before b implies time(a) < time(b)), though not the converse.

import { failClock } from './errors.js';

export class LamportClock {
  private currentTime: number;

  constructor(initialTime = 0) {
    this.currentTime = requireLamportTime(initialTime);
  }

  /** The time of the latest event, without creating a new one. */
  get time(): number {
    return this.currentTime;
  }

  /** A local event: returns its time. */
  tick(): number {
    this.currentTime = requireLamportTime(this.currentTime + 1);
    return this.currentTime;
  }

  /** A send is a local event whose time travels with the message. */
  send(): number {
    return this.tick();
  }

  /** A receive is ordered after both the local past and the sender's event. */
  receive(remoteTime: number): number {
    requireLamportTime(remoteTime);
    this.currentTime = requireLamportTime(Math.max(this.currentTime, remoteTime) + 1);
    return this.currentTime;
  }
}

function requireLamportTime(time: number): number {
  if (!Number.isSafeInteger(time) || time < 0) failClock('LAMPORT_INVALID_TIME', `Lamport time must be a non-negative safe integer, got ${time}`);
  return time;
}
