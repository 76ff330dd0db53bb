// What a primitive registers to be run by `synod sim run --protocol NAME` (a simulation with its
// clients, summarized after the run) and, when it has a checker, by `synod chaos --protocol
// NAME` (seeded chaos runs). The list of registered primitives is src/primitives/index.ts.
import type { Message } from '../core/index.js';
import type { ChaosResult } from './chaos.js';
import type { LinkConfig } from './network.js';
import type { Simulation } from './simulation.js';

export interface SimRunOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly durationMs: number;
  readonly trace: false | { readonly sink?: (line: string) => void };
  readonly link?: Partial<LinkConfig>;
}

/** A simulation of some protocol, as the generic commands drive it. */
export type AnySimulation = Simulation<Message, unknown, unknown, unknown>;

/** A built simulation, with its type parameters erased for the generic command. */
export interface BuiltSimulation {
  readonly sim: AnySimulation;
  /** Lines describing the outcome, after the run. */
  summarize(): string[];
}

export interface ChaosRunOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly durationMs: number;
}

export interface SimProtocol {
  readonly name: string;
  readonly description: string;
  readonly minNodes: number;
  build(options: SimRunOptions): BuiltSimulation;
  /** Seeded chaos runs, for a primitive with monitors and a checker. */
  readonly chaos?: {
    /** What a run does and checks, for `synod chaos --help`. */
    readonly explanation: string;
    readonly defaults: { readonly nodes: number; readonly durationMs: number };
    run(options: ChaosRunOptions): ChaosResult;
  };
}

/**
 * Forgets a simulation's message, request and persisted-op types: the generic commands only run
 * it, inject faults and read its records, none of which depends on them.
 */
export function eraseSimulation<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>): AnySimulation {
  return sim as unknown as AnySimulation;
}
