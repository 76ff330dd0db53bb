// The models the checker ships, by the names the CLI and callers use. Adding a model means
// adding it here and to MODEL_NAMES.
import { CheckError } from '../errors.js';
import type { Model } from '../model.js';
import { kvModel } from './kv.js';
import { mutexModel } from './mutex.js';
import { registerModel } from './register.js';

export { kvModel, type KvCall, type KvState } from './kv.js';
export { KvMap, type KvEntry } from './kv-state.js';
export { mutexModel, type MutexCall, type MutexState } from './mutex.js';
export { registerModel, type RegisterCall, type CasResult } from './register.js';

export const MODEL_NAMES = ['register', 'kv', 'mutex'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export function modelByName(name: string): Model<unknown, unknown> {
  switch (name) {
    case 'register':
      return registerModel as Model<unknown, unknown>;
    case 'kv':
      return kvModel as Model<unknown, unknown>;
    case 'mutex':
      return mutexModel as Model<unknown, unknown>;
    default:
      throw new CheckError('UNKNOWN_MODEL', `no model "${name}" (${MODEL_NAMES.join(', ')})`);
  }
}
