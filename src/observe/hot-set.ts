/**
 * @module The fleet's hot set in Redis: every isolate merges the request counts its sketch (./hot-keys.ts)
 * gathered since its last merge — at most once per merge interval (never more often than δ), in
 * `waitUntil`, one scripted Upstash request — into one sorted set, trimmed to {@link FLEET_HOT_KEYS}
 * members. Warming "the hot set" (src/warm/) and the stats route read it back.
 *
 * Counts only grow while keys stay in the set; the set expires {@link HOT_SET_TTL_MS} after the last merge,
 * so a fleet that goes quiet starts afresh. (A decaying score would track shifting popularity better; the
 * trim to the top keys already drops what stopped being requested once newer keys outgrow it.)
 */
import type { Redis } from '@upstash/redis/cloudflare'
import { RedisScript } from '../tiers/redis-script.ts'
import type { RedisHealth } from '../tiers/redis-health.ts'
import type { HotKeys, ServedBy } from './hot-keys.ts'

/** Members kept in the fleet's set. */
export const FLEET_HOT_KEYS = 256

/** The set (and its metadata) expire this long after the last merge. */
export const HOT_SET_TTL_MS = 24 * 3600_000

/** A key of the fleet's hot set. */
export interface FleetHotKey {
  key: string
  count: number
  bytes: number
  tier: ServedBy
}

// KEYS[1]: the sorted set, KEYS[2]: a hash key → "bytes tier". ARGV[1]: members kept, ARGV[2]: ttl ms,
// then key, count, meta triples.
const MERGE = `
local keep = tonumber(ARGV[1])
for i = 3, #ARGV, 3 do
  redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
end
local n = redis.call('ZCARD', KEYS[1])
if n > keep then
  local gone = redis.call('ZRANGE', KEYS[1], 0, n - keep - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1)
  redis.call('HDEL', KEYS[2], unpack(gone))
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return n
`

// KEYS as above; ARGV[1]: how many. Returns key, count, meta triples, highest count first.
const READ = `
local top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local out = {}
for i = 1, #top, 2 do
  out[#out + 1] = top[i]
  out[#out + 1] = top[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], top[i]) or ''
end
return out
`

const TIERS = new Set<ServedBy>(['memory', 'edge', 'redis', 'origin'])

export class HotSet {
  readonly #client: Redis
  readonly #health: RedisHealth
  readonly #keys: [string, string]
  readonly #merge = new RedisScript(MERGE)
  readonly #read = new RedisScript(READ)

  constructor(client: Redis, prefix: string, health: RedisHealth) {
    this.#client = client
    this.#health = health
    this.#keys = [`${prefix}hot`, `${prefix}hot:meta`]
  }

  /**
   * Merges what `sketch` counted since its last merge. No request when nothing was counted, or while the
   * breaker is not closed (the counts wait for the next merge). Best effort: a failure loses these counts,
   * and it is neither a Redis error `/health` reports nor a breaker trial — those belong to the request
   * path, and a background merge must not keep `/health` degraded after Redis recovered.
   */
  async merge(sketch: HotKeys): Promise<boolean> {
    if (!sketch.hasUnsent || this.#health.breakerState() !== 'closed') return false
    const counts = sketch.takeUnsent()
    const args: string[] = [String(FLEET_HOT_KEYS), String(HOT_SET_TTL_MS)]
    for (const { key, count, bytes, tier } of counts) args.push(key, String(count), `${bytes} ${tier}`)
    await this.#merge.run(this.#client, this.#keys, args)
    return true
  }

  /** The `limit` hottest keys of the fleet, hottest first. */
  async top(limit: number): Promise<FleetHotKey[]> {
    // Operator reads (stats, warming), outside the request path's error record and breaker, as merges are.
    if (this.#health.breakerState() !== 'closed') throw new Error('the Redis breaker is open')
    const flat = await this.#read.run<string[], unknown[]>(this.#client, this.#keys, [String(limit)])
    const out: FleetHotKey[] = []
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const [bytes, tier] = String(flat[i + 2]).split(' ')
      out.push({
        key: String(flat[i]),
        count: Number(flat[i + 1]),
        bytes: Number(bytes) || 0,
        tier: TIERS.has(tier as ServedBy) ? (tier as ServedBy) : 'origin',
      })
    }
    return out
  }
}
