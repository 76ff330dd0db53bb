// STONITH ("shoot the other node in the head") as the simulator models it: a power switch node
// that a new lock holder asks to power off the previous one. The switch reports the request to
// its observer (the harness crashes the node it names) and answers once it is done.
import type { CoreEnv, Effects, NodeId, ProtocolCore, ProtocolSpec } from '../../core/index.js';

export type PowerMessage =
  | { readonly type: 'powerOff'; readonly reqId: string; readonly target: NodeId }
  | { readonly type: 'poweredOff'; readonly reqId: string; readonly target: NodeId };

/** Called inside the core: the host powers `target` off before the answer can arrive (it must not call back into the core). */
export interface PowerObserver {
  powerOff?(switchNode: NodeId, target: NodeId, requester: NodeId): void;
}

type Fx = Effects<PowerMessage, never, never>;

export class PowerSwitchCore implements ProtocolCore<PowerMessage, never, never, never> {
  private count = 0;

  constructor(
    private readonly env: CoreEnv,
    private readonly observer: PowerObserver,
  ) {}

  handleMessage(from: NodeId, msg: PowerMessage, fx: Fx): void {
    if (msg.type !== 'powerOff') return;
    this.count++;
    fx.annotate('poweredOff', this.count);
    fx.annotate('lastTarget', msg.target);
    this.observer.powerOff?.(this.env.id, msg.target, from);
    fx.send(from, { type: 'poweredOff', reqId: msg.reqId, target: msg.target });
  }

  handleTick(): void {}

  handleRequest(): void {}
}

export type PowerSwitchSpec = ProtocolSpec<PowerMessage, never, never, never, PowerSwitchCore>;

export function powerSwitchSpec(observer: PowerObserver): PowerSwitchSpec {
  return { name: 'power', tickIntervalMs: 0, create: (env) => new PowerSwitchCore(env, observer) };
}
