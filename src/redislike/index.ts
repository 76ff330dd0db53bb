// `synod/redislike`: a sans-I/O Redis-like node (SET NX PX, GET, compare-and-delete,
// compare-and-extend, INCR; expiry on the node's own clock; persistence none or fsync-always), so
// that Redis and Redlock locks run in the simulator beside Synod's Raft KV (docs/locks.md).
export { describeRedisCommand, isWriteCommand, MAX_KEY_CHARS, MAX_TTL_MS, MAX_VALUE_CHARS, redisCommandProblem, type RedisCommand, type RedisCommandName, type RedisErrorCode, type RedisReply } from './commands.js';
export {
  REDIS_LIKE_DEFAULTS,
  RedisLikeCore,
  redisLikeSpec,
  type RedisKeyEvent,
  type RedisLikeOptions,
  type RedisLikeSpec,
  type RedisMessage,
  type RedisObserver,
  type RedisOp,
  type RedisPersistence,
} from './core.js';
