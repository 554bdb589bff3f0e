// Lua scripts of the Redis budget store. Each runs atomically on the server, so a reserve
// checks every cap and adds to every key, or changes nothing, whatever other processes do.
//
// Layout, for a store prefix P (ending in ':') and a limit key K (e.g. 'day:2026-11-26'):
//   P k:K   hash    spent = settled micro-dollars; reserved = sum of live reservations;
//                   r:<id> = amount of reservation <id> (while it holds room)
//   P z:K   zset    reservation ids scored by expiry (epoch ms, Redis server time)
//   P r:<id> hash   amount, expiresAt, limits (JSON [[K, ttlMs], ...]): found by settle/release
// Expired reservations are pruned from a key (their amount leaves `reserved`) by the next
// script that touches the key. Keys live `ttlMs` after their last change (limit.ttlMs).
// Every key a script touches is passed in KEYS: with a hash tag in P ('{kt:budget}:') all of
// them hash to one slot, so the scripts also run on Redis Cluster.
//
// Numbers: micro-dollars are integers below 2^53, exact as Lua doubles; they go back to Redis
// through string.format('%d'), never through Lua's number-to-string (which may print 1e+15).

const COMMON = `
local function int(x) return string.format('%d', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function prune(h, z)
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  if #expired == 0 then return end
  for _, rid in ipairs(expired) do
    local a = redis.call('HGET', h, 'r:' .. rid)
    if a then
      redis.call('HINCRBY', h, 'reserved', int(-tonumber(a)))
      redis.call('HDEL', h, 'r:' .. rid)
    end
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
end
`;

/**
 * KEYS: reservation, then per limit: totals hash, expiry zset.
 * ARGV: id, amount, reservationTtlMs, keepMs (how long an expired reservation stays findable),
 *       then per limit: key, capMicro, ttlMs.
 * Returns {1} (reserved, or already reserved under this id) or {0, limitIndex, usedMicro}.
 */
export const RESERVE_LUA = `${COMMON}
if redis.call('EXISTS', KEYS[1]) == 1 then return {1} end
local n = (#KEYS - 1) / 2
local amount = tonumber(ARGV[2])
for i = 1, n do
  local h, z = KEYS[2 * i], KEYS[2 * i + 1]
  prune(h, z)
  local v = redis.call('HMGET', h, 'spent', 'reserved')
  local used = (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
  if used + amount > tonumber(ARGV[4 + 3 * (i - 1) + 2]) then return {0, i, int(used)} end
end
local expiresAt = now + tonumber(ARGV[3])
local limits = {}
for i = 1, n do
  local h, z = KEYS[2 * i], KEYS[2 * i + 1]
  local ttl = ARGV[4 + 3 * (i - 1) + 3]
  redis.call('HINCRBY', h, 'reserved', ARGV[2])
  redis.call('HSET', h, 'r:' .. ARGV[1], ARGV[2])
  redis.call('ZADD', z, int(expiresAt), ARGV[1])
  redis.call('PEXPIRE', h, ttl)
  redis.call('PEXPIRE', z, ttl)
  limits[i] = { ARGV[4 + 3 * (i - 1) + 1], ttl }
end
redis.call('HSET', KEYS[1], 'amount', ARGV[2], 'expiresAt', int(expiresAt), 'limits', cjson.encode(limits))
redis.call('PEXPIRE', KEYS[1], int(tonumber(ARGV[3]) + tonumber(ARGV[4])))
return {1}
`;

/**
 * KEYS: reservation, then per limit of the reservation: totals hash, expiry zset (in the
 * order reserve stored them). ARGV: id, actualMicro, prefix.
 * Returns {1} settled, {0} no such reservation (already settled, released, or forgotten),
 * {-1, limitsJson} when KEYS do not match the reservation's limits (call again with them).
 */
export const SETTLE_LUA = `${COMMON}
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local limitsJson = redis.call('HGET', KEYS[1], 'limits')
local limits = cjson.decode(limitsJson)
if #limits * 2 + 1 ~= #KEYS then return {-1, limitsJson} end
for i, l in ipairs(limits) do
  if KEYS[2 * i] ~= ARGV[3] .. 'k:' .. l[1] or KEYS[2 * i + 1] ~= ARGV[3] .. 'z:' .. l[1] then return {-1, limitsJson} end
end
local actual = tonumber(ARGV[2])
for i, l in ipairs(limits) do
  local h, z = KEYS[2 * i], KEYS[2 * i + 1]
  local a = redis.call('HGET', h, 'r:' .. ARGV[1])
  if a then
    redis.call('HINCRBY', h, 'reserved', int(-tonumber(a)))
    redis.call('HDEL', h, 'r:' .. ARGV[1])
  end
  redis.call('ZREM', z, ARGV[1])
  if actual > 0 then redis.call('HINCRBY', h, 'spent', ARGV[2]) end
  prune(h, z)
  redis.call('PEXPIRE', h, l[2])
  redis.call('PEXPIRE', z, l[2])
end
redis.call('DEL', KEYS[1])
return {1}
`;

/** KEYS: totals hash, expiry zset. Returns {spentMicro, reservedMicro} as strings, after pruning. */
export const USAGE_LUA = `${COMMON}
prune(KEYS[1], KEYS[2])
local v = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
return {v[1] or '0', v[2] or '0'}
`;
