// The Lua scripts of the Redis backend (lock, semaphore, read-write lock, election) and of each
// Redlock instance. Each script runs atomically on one server, which is what makes a grant and its
// fencing token one step, and release and extend compare-then-act. docs/locks.md explains them.
//
// Conventions. A waiter id is `<client id>.<sequence>` (plus `.r`/`.w` for a read-write lock); the
// script wakes a waiter by PUBLISHing its id on `<wake prefix><client id>`, the one channel its
// client listens on. A holder is `<token>:<waiter id>`. Waiting queues are two sorted sets: `queue`
// (waiter -> arrival time in us, the order) and `alive` (waiter -> when its place lapses, ms, by
// the server's clock); a waiter that stops renewing its place is dropped. Every loop is bounded.
import { luaScript, type LuaScript } from './redis-connection.js';

/** The most lapsed waiters one script call drops (the rest go on the next call). */
export const PRUNE_BATCH = 64;
/** The most waiters one script call wakes at once (each grant wakes the next in turn). */
export const WAKE_BATCH = 64;

const PRELUDE = `
local clock = redis.call('TIME')
local NOW_MS = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local NOW_US = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local function int(x) return string.format('%.0f', x) end
local function client_of(id) return string.match(id, '^([^.:]+)%.') or id end
local function wake(prefix, id) redis.call('PUBLISH', prefix .. client_of(id), id) end
local function ends_with(s, suffix) return #s >= #suffix and string.sub(s, -#suffix) == suffix end
-- drop waiters whose place lapsed (from the queue, its liveness set, and the writers' queue if any)
local function prune_waiters(queue, alive, writers)
  local dead = redis.call('ZRANGEBYSCORE', alive, '-inf', '(' .. int(NOW_MS), 'LIMIT', 0, ${PRUNE_BATCH})
  for i = 1, #dead do
    redis.call('ZREM', queue, dead[i])
    redis.call('ZREM', alive, dead[i])
    if writers then redis.call('ZREM', writers, dead[i]) end
  end
end
-- the queue's keys expire when the last waiter's place would lapse, so abandoned queues go away
local function keep_waiters(queue, alive, writers)
  local last = redis.call('ZRANGE', alive, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', queue, last[2])
    redis.call('PEXPIREAT', alive, last[2])
    if writers and redis.call('EXISTS', writers) == 1 then redis.call('PEXPIREAT', writers, last[2]) end
  end
end
-- join the queue (at the back, once) and renew the place; false when the queue is full
local function enqueue(queue, alive, id, lease_ms, max_waiters, writers)
  if not redis.call('ZSCORE', queue, id) then
    if redis.call('ZCARD', queue) >= max_waiters then return false end
    redis.call('ZADD', queue, int(NOW_US), id)
    if writers then redis.call('ZADD', writers, int(NOW_US), id) end
  end
  redis.call('ZADD', alive, int(NOW_MS + lease_ms), id)
  keep_waiters(queue, alive, writers)
  return true
end
local function dequeue(queue, alive, id, writers)
  redis.call('ZREM', queue, id)
  redis.call('ZREM', alive, id)
  if writers then redis.call('ZREM', writers, id) end
end
local function head_of(queue) return redis.call('ZRANGE', queue, 0, 0)[1] end
-- holders kept in a sorted set (holder -> lease end, ms): drop the lapsed, expire the set with the last
local function prune_holders(holders) redis.call('ZREMRANGEBYSCORE', holders, '-inf', int(NOW_MS)) end
local function keep_holders(holders)
  local last = redis.call('ZRANGE', holders, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', holders, last[2]) end
end
-- ms until the first holder's lease ends, or -1 when none
local function first_lease_left(holders)
  local first = redis.call('ZRANGE', holders, 0, 0, 'WITHSCORES')
  if first[2] then return math.max(0, tonumber(first[2]) - NOW_MS) end
  return -1
end
local function notify(channel, message) if channel ~= '' then redis.call('PUBLISH', channel, message) end end
`;

function withPrelude(name: string, body: string): LuaScript {
  return luaScript(name, `${PRELUDE}\n${body}`);
}

/**
 * Lock: one attempt. The owner key is SET NX PX (the EXISTS check and the SET are one step here),
 * with the fencing counter INCR'd in the same step, only when the lock is free and the caller is
 * the queue's head (or the queue is empty).
 * KEYS: owner, fence, queue, alive [, value]. ARGV: waiter id, ttl ms, 'try'|'wait', waiter lease
 * ms, max waiters, wake prefix, notify channel ('' = none) [, value].
 * Returns {1, token, holder} | {0, owner's ms left (-2: free), 1 if head} | {-1, ms left} (queue full).
 */
export const LOCK_ACQUIRE = withPrelude('lock-acquire', `
local owner, fence, queue, alive, value = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id = ARGV[1]
prune_waiters(queue, alive)
if redis.call('EXISTS', owner) == 0 then
  local head = head_of(queue)
  if head == nil or head == id then
    local token = redis.call('INCR', fence)
    local holder = int(token) .. ':' .. id
    redis.call('SET', owner, holder, 'NX', 'PX', ARGV[2])
    if value then redis.call('SET', value, ARGV[8], 'PX', ARGV[2]) end
    dequeue(queue, alive, id)
    keep_waiters(queue, alive)
    notify(ARGV[7], holder)
    return {1, token, holder}
  end
  -- free, and kept for the head: wake it again in case it missed its wake-up
  wake(ARGV[6], head)
end
local left = redis.call('PTTL', owner)
if ARGV[3] == 'try' then return {0, left, 0} end
if not enqueue(queue, alive, id, tonumber(ARGV[4]), tonumber(ARGV[5])) then return {-1, left, 0} end
if head_of(queue) == id then return {0, left, 1} end
return {0, left, 0}
`);

/**
 * Lock: compare-and-delete, then wake the queue's head.
 * KEYS: owner, queue, alive [, value]. ARGV: holder, wake prefix, notify channel. Returns 1, or 0 when not ours.
 */
export const LOCK_RELEASE = withPrelude('lock-release', `
local owner, queue, alive, value = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('GET', owner) ~= ARGV[1] then return 0 end
redis.call('DEL', owner)
if value then redis.call('DEL', value) end
prune_waiters(queue, alive)
local head = head_of(queue)
if head then wake(ARGV[2], head) end
notify(ARGV[3], '')
return 1
`);

/**
 * Lock: a waiter gives up (timeout, abort, error). Leaves the queue, drops a grant the waiter may
 * have been given by an attempt whose answer it never saw, and wakes the head if the lock is free.
 * KEYS: owner, queue, alive [, value]. ARGV: waiter id, wake prefix, notify channel.
 */
export const LOCK_LEAVE = withPrelude('lock-leave', `
local owner, queue, alive, value = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
dequeue(queue, alive, ARGV[1])
local current = redis.call('GET', owner)
if current and ends_with(current, ':' .. ARGV[1]) then
  redis.call('DEL', owner)
  if value then redis.call('DEL', value) end
  notify(ARGV[3], '')
  current = false
end
if not current then
  prune_waiters(queue, alive)
  local head = head_of(queue)
  if head then wake(ARGV[2], head) end
end
return 1
`);

/**
 * Compare-and-extend (Redis lock and election, and each Redlock instance): renews the owner key
 * (and the value key) only if it still holds this holder.
 * KEYS: owner [, value]. ARGV: holder, ttl ms. Returns 1, or 0 when not ours.
 */
export const COMPARE_AND_EXTEND = luaScript('compare-and-extend', `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if KEYS[2] then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1
`);

/**
 * Compare-and-delete (each Redlock instance): deletes the owner key (and the value key) only if
 * it holds this holder. KEYS: owner [, value]. ARGV: holder. Returns 1, or 0 when not ours.
 */
export const COMPARE_AND_DELETE = luaScript('compare-and-delete', `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if KEYS[2] then redis.call('DEL', KEYS[2]) end
return 1
`);

/**
 * Redlock instance, election: SET NX PX the owner key and, with it, the value key.
 * KEYS: owner, value. ARGV: holder, ttl ms, value. Returns 1, or 0 when held.
 */
export const SET_OWNER_AND_VALUE = luaScript('set-owner-and-value', `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1
`);

/**
 * Election: a leader changes the value it announces, kept for the rest of its lease.
 * KEYS: owner, value. ARGV: holder, value, notify channel. Returns 1, or 0 when not the leader.
 */
export const PROCLAIM = luaScript('proclaim', `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left <= 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', left)
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], '') end
return 1
`);

/**
 * Semaphore: one attempt. Holders are a sorted set (holder -> lease end by the server's clock);
 * a caller is granted when fewer than \`permits\` hold it and fewer waiters than the free permits
 * are ahead of it in the queue. Each grant wakes the next waiters that may go.
 * KEYS: holders, fence, queue, alive. ARGV: waiter id, ttl ms, 'try'|'wait', waiter lease ms, max
 * waiters, wake prefix, permits.
 * Returns {1, token, holder} | {0, ms until the first lease ends (-1: none), 1 if next} | {-1, ms}.
 */
export const SEMAPHORE_ACQUIRE = withPrelude('semaphore-acquire', `
local holders, fence, queue, alive = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, permits = ARGV[1], tonumber(ARGV[7])
prune_holders(holders)
prune_waiters(queue, alive)
local free = permits - redis.call('ZCARD', holders)
local rank = redis.call('ZRANK', queue, id)
local ahead = rank or redis.call('ZCARD', queue)
local function wake_first(n)
  if n <= 0 then return end
  local ids = redis.call('ZRANGE', queue, 0, math.min(n, ${WAKE_BATCH}) - 1)
  for i = 1, #ids do wake(ARGV[6], ids[i]) end
end
if free > 0 and ahead < free then
  local token = redis.call('INCR', fence)
  local holder = int(token) .. ':' .. id
  redis.call('ZADD', holders, int(NOW_MS + tonumber(ARGV[2])), holder)
  keep_holders(holders)
  dequeue(queue, alive, id)
  keep_waiters(queue, alive)
  wake_first(free - 1)
  return {1, token, holder}
end
wake_first(free)
local left = first_lease_left(holders)
if ARGV[3] == 'try' then return {0, left, 0} end
if not enqueue(queue, alive, id, tonumber(ARGV[4]), tonumber(ARGV[5])) then return {-1, left, 0} end
if redis.call('ZRANK', queue, id) < permits then return {0, left, 1} end
return {0, left, 0}
`);

/**
 * Semaphore: gives a permit back (0 when it had lapsed or was never ours) and wakes the head.
 * KEYS: holders, queue, alive. ARGV: holder, wake prefix.
 */
export const SEMAPHORE_RELEASE = withPrelude('semaphore-release', `
local holders, queue, alive = KEYS[1], KEYS[2], KEYS[3]
local ends = redis.call('ZSCORE', holders, ARGV[1])
if not ends then return 0 end
redis.call('ZREM', holders, ARGV[1])
prune_waiters(queue, alive)
local head = head_of(queue)
if head then wake(ARGV[2], head) end
if tonumber(ends) <= NOW_MS then return 0 end
return 1
`);

/** Semaphore: renews a permit still held. KEYS: holders. ARGV: holder, ttl ms. Returns 1 or 0. */
export const SEMAPHORE_EXTEND = withPrelude('semaphore-extend', `
local ends = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not ends then return 0 end
if tonumber(ends) <= NOW_MS then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', int(NOW_MS + tonumber(ARGV[2])), ARGV[1])
keep_holders(KEYS[1])
return 1
`);

/** Semaphore: a waiter gives up; the head is woken. KEYS: queue, alive. ARGV: waiter id, wake prefix. */
export const SEMAPHORE_LEAVE = withPrelude('semaphore-leave', `
dequeue(KEYS[1], KEYS[2], ARGV[1])
prune_waiters(KEYS[1], KEYS[2])
local head = head_of(KEYS[1])
if head then wake(ARGV[2], head) end
return 1
`);

const RW_COMMON = `
local writer, readers, fence, queue, alive, writers = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local function is_writer(id) return ends_with(id, '.w') end
-- wake whoever may go now: the head if it is a reader and no writer holds, or a writer and nobody holds
local function wake_runnable(prefix)
  if redis.call('EXISTS', writer) == 1 then return end
  local head = head_of(queue)
  if not head then return end
  if not is_writer(head) or redis.call('ZCARD', readers) == 0 then wake(prefix, head) end
end
`;

/**
 * Read-write lock: one attempt. A writer goes when nobody holds and it heads the queue; a reader
 * goes when no writer holds and no writer waits ahead of it (so later readers never starve a
 * waiting writer). \`writers\` mirrors the writers in the queue with their arrival times.
 * KEYS: writer, readers, fence, queue, alive, writers. ARGV: waiter id (ends .r or .w), ttl ms,
 * 'try'|'wait', waiter lease ms, max waiters, wake prefix.
 * Returns {1, token, holder} | {0, ms until a holder's lease ends (-1: none), 1 if next} | {-1, ms}.
 */
export const RW_ACQUIRE = withPrelude('rw-acquire', `${RW_COMMON}
local id = ARGV[1]
prune_holders(readers)
prune_waiters(queue, alive, writers)
local go = false
if redis.call('EXISTS', writer) == 0 then
  if is_writer(id) then
    if redis.call('ZCARD', readers) == 0 then
      local head = head_of(queue)
      go = head == nil or head == id
    end
  else
    local first = redis.call('ZRANGE', writers, 0, 0, 'WITHSCORES')
    local mine = redis.call('ZSCORE', queue, id)
    go = first[2] == nil or (mine and tonumber(mine) < tonumber(first[2]))
  end
end
if go then
  local token = redis.call('INCR', fence)
  local holder = int(token) .. ':' .. id
  if is_writer(id) then
    redis.call('SET', writer, holder, 'NX', 'PX', ARGV[2])
  else
    redis.call('ZADD', readers, int(NOW_MS + tonumber(ARGV[2])), holder)
    keep_holders(readers)
  end
  dequeue(queue, alive, id, writers)
  keep_waiters(queue, alive, writers)
  wake_runnable(ARGV[6])
  return {1, token, holder}
end
wake_runnable(ARGV[6])
local left = redis.call('PTTL', writer)
if left < 0 then left = first_lease_left(readers) end
if ARGV[3] == 'try' then return {0, left, 0} end
local w = nil
if is_writer(id) then w = writers end
if not enqueue(queue, alive, id, tonumber(ARGV[4]), tonumber(ARGV[5]), w) then return {-1, left, 0} end
if head_of(queue) == id then return {0, left, 1} end
return {0, left, 0}
`);

/**
 * Read-write lock: gives a read or write grant back (0 when it had lapsed or was never ours) and
 * wakes who may go. KEYS as RW_ACQUIRE. ARGV: holder, wake prefix.
 */
export const RW_RELEASE = withPrelude('rw-release', `${RW_COMMON}
local holder = ARGV[1]
local ok = 0
if is_writer(holder) then
  if redis.call('GET', writer) == holder then
    redis.call('DEL', writer)
    ok = 1
  end
else
  local ends = redis.call('ZSCORE', readers, holder)
  if ends then
    redis.call('ZREM', readers, holder)
    if tonumber(ends) > NOW_MS then ok = 1 end
  end
end
prune_holders(readers)
prune_waiters(queue, alive, writers)
wake_runnable(ARGV[2])
return ok
`);

/** Read-write lock: renews a read or write grant still held. KEYS as RW_ACQUIRE. ARGV: holder, ttl ms. */
export const RW_EXTEND = withPrelude('rw-extend', `${RW_COMMON}
local holder = ARGV[1]
if is_writer(holder) then
  if redis.call('GET', writer) ~= holder then return 0 end
  redis.call('PEXPIRE', writer, ARGV[2])
  return 1
end
local ends = redis.call('ZSCORE', readers, holder)
if not ends then return 0 end
if tonumber(ends) <= NOW_MS then
  redis.call('ZREM', readers, holder)
  return 0
end
redis.call('ZADD', readers, 'XX', int(NOW_MS + tonumber(ARGV[2])), holder)
keep_holders(readers)
return 1
`);

/**
 * Read-write lock: a waiter gives up; drops a write grant it may have been given unawares, and
 * wakes who may go. KEYS as RW_ACQUIRE. ARGV: waiter id, wake prefix.
 */
export const RW_LEAVE = withPrelude('rw-leave', `${RW_COMMON}
dequeue(queue, alive, ARGV[1], writers)
local current = redis.call('GET', writer)
if current and ends_with(current, ':' .. ARGV[1]) then redis.call('DEL', writer) end
prune_waiters(queue, alive, writers)
wake_runnable(ARGV[2])
return 1
`);

/**
 * A fenced write (the guard's, guard.ts): sets the data keys only if the token is at least the
 * highest one stored at the fence key, and stores it there, in one step.
 * KEYS: fence, then the data keys. ARGV: token (a whole number), then one value per data key.
 * Returns {1, token} (written) | {0, highest} (stale: nothing changed) | {-1, what the fence key holds} (not a token).
 */
export const FENCED_SET = luaScript('fenced-set', `
local held = redis.call('GET', KEYS[1])
if held then
  if not string.match(held, '^%d+$') then return {-1, held} end
  if tonumber(held) > tonumber(ARGV[1]) then return {0, held} end
end
redis.call('SET', KEYS[1], ARGV[1])
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[i]) end
return {1, ARGV[1]}
`);
