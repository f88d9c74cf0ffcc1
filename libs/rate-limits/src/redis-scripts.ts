/**
 * The Redis limiter's two scripts. Each runs atomically in Redis, so the check and the take of one acquire cannot
 * interleave with another replica's: two replicas can never both take a key's last request, token or slot.
 *
 * Per key, beside the dispatch queue's keys under the same prefix (namesOf in redis-rate-limiter.ts):
 * - `requests`: a sorted set, one member per admitted request, scored by its epoch ms;
 * - `tokens`: a sorted set, one member per charge (`<id>:<tokens>`), scored by the moment it was charged, and
 *   `tokens-sum`, the running total of its members (so an acquire does not sum the whole log);
 * - `leases`: a sorted set of held concurrency slots scored by when each counts as free anyway (a killed replica's).
 * Every key expires by itself once nothing in it can count any more. Times are the calling replica's epoch ms (as the
 * dispatch queue's admission), so replicas' clocks should agree.
 */

/**
 * KEYS: requests, tokens, tokens-sum, leases.
 * ARGV: now, window ms, requests per minute, tokens per minute, max concurrent (0: no such limit), member, lease
 * expiry, concurrency retry ms.
 * Returns {admitted (1/0), requests counted, tokens charged, requests reset ms, tokens reset ms, retry ms, refused by
 * (space-separated names)}; the counts are after this request's own.
 */
export const ACQUIRE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local rpm = tonumber(ARGV[3])
local tpm = tonumber(ARGV[4])
local slots = tonumber(ARGV[5])
local since = now - window

-- Until the 'need'-th oldest request has left the window.
local function until_requests_leave(need)
  local entry = redis.call('ZRANGE', KEYS[1], need - 1, need - 1, 'WITHSCORES')
  if #entry == 0 then return 0 end
  return math.max(0, tonumber(entry[2]) + window - now)
end

-- Until at least 'need' charged tokens have left the window, oldest charge first.
local function until_tokens_leave(need)
  local freed = 0
  local from = 0
  while true do
    local entries = redis.call('ZRANGE', KEYS[2], from, from + 99, 'WITHSCORES')
    if #entries == 0 then return 0 end
    for i = 1, #entries, 2 do
      freed = freed + tonumber(string.match(entries[i], ':(%d+)$'))
      if freed >= need then return math.max(0, tonumber(entries[i + 1]) + window - now) end
    end
    from = from + 100
  end
end

local function until_oldest_leaves(key)
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #oldest == 0 then return 0 end
  return math.max(0, tonumber(oldest[2]) + window - now)
end

local requests = 0
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', since)
  requests = redis.call('ZCARD', KEYS[1])
end

local tokens = 0
if tpm > 0 then
  tokens = tonumber(redis.call('GET', KEYS[3]) or '0')
  local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', since)
  if #gone > 0 then
    for _, member in ipairs(gone) do tokens = tokens - tonumber(string.match(member, ':(%d+)$')) end
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', since)
    if redis.call('ZCARD', KEYS[2]) == 0 then
      tokens = 0
      redis.call('DEL', KEYS[3])
    else
      redis.call('SET', KEYS[3], tokens, 'KEEPTTL')
    end
  end
end

local leases = 0
if slots > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  leases = redis.call('ZCARD', KEYS[4])
end

local refused = {}
local retry = 0
if rpm > 0 and requests >= rpm then
  table.insert(refused, 'requests')
  retry = math.max(retry, until_requests_leave(requests - rpm + 1))
end
if tpm > 0 and tokens >= tpm then
  table.insert(refused, 'tokens')
  retry = math.max(retry, until_tokens_leave(tokens - tpm + 1))
end
if slots > 0 and leases >= slots then
  table.insert(refused, 'concurrent')
  retry = math.max(retry, tonumber(ARGV[8]))
end

local admitted = 0
if #refused == 0 then
  admitted = 1
  if rpm > 0 then
    redis.call('ZADD', KEYS[1], now, ARGV[6])
    redis.call('PEXPIRE', KEYS[1], window)
    requests = requests + 1
  end
  if slots > 0 then
    local expiry = tonumber(ARGV[7])
    redis.call('ZADD', KEYS[4], expiry, ARGV[6])
    if redis.call('PTTL', KEYS[4]) < expiry - now then redis.call('PEXPIRE', KEYS[4], expiry - now) end
  end
end

local requests_reset = 0
if rpm > 0 then requests_reset = until_oldest_leaves(KEYS[1]) end
local tokens_reset = 0
if tpm > 0 then tokens_reset = until_oldest_leaves(KEYS[2]) end
return {admitted, requests, tokens, requests_reset, tokens_reset, retry, table.concat(refused, ' ')}
`;

/**
 * KEYS: tokens, tokens-sum, leases. ARGV: now, window ms, member, tokens to charge (0: none).
 * Frees the request's slot and charges its tokens at this moment.
 */
export const RELEASE = `
redis.call('ZREM', KEYS[3], ARGV[3])
local charge = tonumber(ARGV[4])
if charge > 0 then
  local window = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3] .. ':' .. charge)
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('INCRBY', KEYS[2], charge)
  redis.call('PEXPIRE', KEYS[2], window)
end
return 1
`;
