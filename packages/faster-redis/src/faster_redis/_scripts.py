"""Server-side Lua: each runs atomically on the Redis server, so limits hold across processes.

Times come from the server's own clock (`TIME`), so hosts with skewed clocks agree. Every
rate-limit script returns `{allowed, remaining, reset_ms, retry_ms}`.
"""

from __future__ import annotations

__all__ = [
    "CACHE_INVALIDATE_TAGS",
    "CACHE_SET",
    "FIXED_WINDOW",
    "GCRA",
    "LOCK_EXTEND",
    "LOCK_RELEASE",
    "SLIDING_WINDOW",
]

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# An exact sliding window: a sorted set of the admitted requests of the last `window` ms.
SLIDING_WINDOW = (
    _NOW_MS
    + """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, seq)
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('PEXPIRE', KEYS[2], window)
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {1, limit - count - 1, tonumber(oldest[2]) + window - now, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local retry = tonumber(oldest[2]) + window - now
return {0, 0, retry, retry}
"""
)

FIXED_WINDOW = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
if n > limit then
  return {0, 0, ttl, ttl}
end
return {1, limit - n, ttl, 0}
"""

# GCRA: one key holding the theoretical arrival time; a burst of `limit` then one per interval.
GCRA = (
    _NOW_MS
    + """
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local interval = period / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - period
if now < allow_at then
  return {0, 0, math.ceil(tat - now), math.ceil(allow_at - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
return {1, math.floor((now - allow_at) / interval), math.ceil(new_tat - now), 0}
"""
)

# KEYS: the entry, then its tag sets. ARGV: value, ttl ms. Tag sets live as long as their
# longest-lived entry.
CACHE_SET = """
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1
"""

# KEYS: tag sets. Deletes every entry of every tag and the tag sets, in one atomic step.
CACHE_INVALIDATE_TAGS = """
local removed = 0
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members do
    removed = removed + redis.call('DEL', members[j])
  end
  redis.call('DEL', KEYS[i])
end
return removed
"""

LOCK_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

LOCK_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
