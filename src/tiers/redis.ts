/**
 * @module The Redis tier (L2): Upstash over REST, shared by every isolate in every data centre.
 *
 * Cost model (design.md §8): a hit is one Upstash request; a miss is at most two. The first request
 * is a script that reads the key and, when it is empty, tries to take the fill lease (`SET NX PX`) in
 * the same round trip, so one fetcher per key goes to the origin across isolates. The second request
 * writes the filled entry and releases the lease. Every call carries a deadline and no retries, and a
 * circuit breaker skips Redis for a cool-down after repeated failures (design.md §6).
 */
import type { Redis } from '@upstash/redis/cloudflare'
import type { Stored } from '../entry.ts'
import { decodeFromRedis, encodeForRedis, redisTextBytes } from '../codec.ts'
import { logKeys } from '../coherence/purge-log.ts'
import { urlOfKey } from '../coherence/purge-record.ts'
import { RedisHealth } from './redis-health.ts'
import type { ReplicaReader } from './redis-replica.ts'
import { RedisScript } from './redis-script.ts'
import { TierName, type SharedTier } from './tier.ts'
import type { RequestKind } from '../stack/hit-for-miss.ts'

/**
 * How often a waiter asks Redis again while another isolate's fill holds the lease (the HTTP stack and
 * the data API wait the same way).
 */
export const LEASE_POLL_MS = 25

/**
 * Most members a URL's key index holds (its variants, and the vary index). The index only lets a purge
 * delete entries from Redis at once; the purge log is what makes them invisible. An entry filled into a
 * full index is not indexed (after one member whose value expired is dropped to make room, if one is
 * found): a purge leaves it in Redis until it expires, and every isolate refuses it through the log.
 */
export const URL_INDEX_CAP = 256
/** Most members a tag's key index holds; see {@link URL_INDEX_CAP} for what happens past it. */
export const TAG_INDEX_CAP = 4096

/** Settings for {@link RedisTier}. */
export interface RedisTierConfig {
  prefix: string
  maxEntryBytes: number
  breakerFailures: number
  breakerCooldownMs: number
  now: () => number
  /** The database's shared breaker and error record (the purge log uses the same). @default one of its own */
  health?: RedisHealth
  /** Upstash Global: lookups read the replica first (redis-replica.ts). @default none */
  replica?: ReplicaReader
}

/**
 * Outcome of {@link RedisTier.lookup}; `seq` is the purge-log position at the time of the lookup, and
 * `requests` the Upstash requests it took (2 when a global database's replica missed and the primary was asked).
 */
export type RedisLookup = { seq: number; requests: number } & (
  | { kind: 'value'; value: Stored; bytes: number }
  /** A recent fill found the response unshareable: go to the origin without waiting. */
  | { kind: 'uncacheable' }
  /** Empty, and this caller now holds the fill lease. */
  | { kind: 'leader' }
  /** Empty, and another fetcher holds the lease: wait for its fill, then poll again. */
  | { kind: 'follower' }
)

/**
 * What a fill did: `stored`; `fenced` (a purge covering the entry landed while the origin was asked, so
 * nothing was written); or `skipped` (no value fits the tier's size limit — not a fence).
 */
export type FillOutcome = { outcome: 'stored' | 'fenced' | 'skipped'; bytes: number }

/** What a fill is fenced by: the log position it started from and the scope a purge could cover. */
export interface FillFence {
  purgeSeq: number
  primaryKey: string
  tags: string[]
}

// KEYS: value, lease, hit-for-miss marker, purge-log seq. ARGV: lease token, lease ms.
// Returns {code, seq, value?}: 1 value | 2 uncacheable | 3 lease taken by us | 4 lease held by another.
// The purge-log position comes back in the same round trip: a fill started now is fenced from it.
const LOOKUP_SCRIPT = `
local seq = tonumber(redis.call('GET', KEYS[4]) or '0')
local v = redis.call('GET', KEYS[1])
if v then return {1, seq, v} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {2, seq} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {3, seq} end
return {4, seq}`

// The fenced fill (design.md §5 "no stale sets"). KEYS: lease, purge log, URL index, then value keys.
// ARGV: lease token, fill's purge seq, URL, tags (JSON), tag-index key prefix, index ttl ms, then a
// (value, ttl ms) pair per value key. If any purge after the fill's start covers this URL, one of its
// tags, a prefix of it, or everything — or if records after its start were already trimmed from the log,
// so that cannot be known — nothing is written (returns 0); else values are written and indexed by URL and
// tag so a purge can find them (returns 1). The lease is released either way.
const FILL_SCRIPT = `
local tags = cjson.decode(ARGV[4])
local function covered(r)
  if r.all == true then return true end
  if type(r.urls) == 'table' then for _, u in ipairs(r.urls) do if u == ARGV[3] then return true end end end
  if type(r.prefixes) == 'table' then
    for _, p in ipairs(r.prefixes) do if string.sub(ARGV[3], 1, #p) == p then return true end end
  end
  if type(r.tags) == 'table' then
    for _, t in ipairs(r.tags) do for _, mine in ipairs(tags) do if t == mine then return true end end end
  end
  return false
end
local release = function()
  if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
end
-- Records after the fill's start that were already trimmed cannot be checked: refuse rather than guess.
local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2]
if oldest and tonumber(oldest) > tonumber(ARGV[2]) + 1 then release() return 0 end
for _, raw in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[2], '+inf')) do
  if covered(cjson.decode(raw)) then release() return 0 end
end
local ttl = tonumber(ARGV[6])
-- Index sets are capped: past the cap one member whose value is gone makes room, else the new member
-- stays unindexed (the purge log still covers it) and the set is not kept alive by it.
local function index(set, member, cap)
  if redis.call('SADD', set, member) == 1 and redis.call('SCARD', set) > cap then
    local picks = redis.call('SRANDMEMBER', set, 2)
    local other = picks[1] == member and picks[2] or picks[1]
    if redis.call('EXISTS', other) == 1 then
      redis.call('SREM', set, member)
      return
    end
    redis.call('SREM', set, other)
  end
  if redis.call('PTTL', set) < ttl then redis.call('PEXPIRE', set, ttl) end
end
for i = 4, #KEYS do
  redis.call('SET', KEYS[i], ARGV[(i - 4) * 2 + 7], 'PX', ARGV[(i - 4) * 2 + 8])
  index(KEYS[3], KEYS[i], ${URL_INDEX_CAP})
  for _, t in ipairs(tags) do index(ARGV[5] .. t, KEYS[i], ${TAG_INDEX_CAP}) end
end
release()
return 1`

// KEYS: lease, hit-for-miss marker. ARGV: lease token, marker ms.
const UNCACHEABLE_SCRIPT = `
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`

// KEYS: lease. ARGV: lease token. Deletes the lease only if this token still holds it.
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

/**
 * Bytes of an encoded record besides its body, at most: the binary header and length, and the metadata
 * JSON, whose fields are bounded by the header and tag text (JSON escaping at most doubles it) plus the
 * fixed fields.
 */
const metaUpperBound = (value: Stored): number => {
  let text = 0
  if (value.kind === 'entry') {
    for (const [name, v] of value.headers) text += name.length + v.length + 6
    for (const tag of value.tags) text += tag.length + 3
  } else {
    for (const name of value.varyOn) text += name.length + 3
    for (const variant of value.variants) text += variant.length + 3
  }
  return 2 * text + 512
}

export class RedisTier implements SharedTier {
  readonly name = TierName.Redis
  readonly #client: Redis
  readonly #config: RedisTierConfig
  readonly #health: RedisHealth
  readonly #logKeys: ReturnType<typeof logKeys>
  // Per client: the script cache belongs to the Redis behind it.
  readonly #scripts = {
    lookup: new RedisScript(LOOKUP_SCRIPT),
    fill: new RedisScript(FILL_SCRIPT),
    uncacheable: new RedisScript(UNCACHEABLE_SCRIPT),
    release: new RedisScript(RELEASE_SCRIPT),
  }

  constructor(client: Redis, config: RedisTierConfig) {
    this.#client = client
    this.#config = config
    this.#health = config.health ?? new RedisHealth(config)
    this.#logKeys = logKeys(config.prefix)
  }

  /** The breaker and recent errors this tier shares with the purge log. */
  get health(): RedisHealth {
    return this.#health
  }

  /** Breaker state, for stats. */
  breakerState(): string {
    return this.#health.breakerState()
  }

  unavailableReason(_now: number): string | undefined {
    return this.#health.allow() ? undefined : 'circuit-open'
  }

  /**
   * Health probe: a small write with a short expiry, so a Redis that answers reads but refuses writes
   * (out of memory, read-only replica) shows. Goes out even while the breaker is open; its outcome
   * counts like any call's.
   */
  async probe(): Promise<void> {
    await this.#call('health probe', () => this.#client.set(`${this.#config.prefix}health-probe`, String(this.#config.now()), { px: 60_000 }))
  }

  #key(key: string): string {
    return this.#config.prefix + key
  }
  #leaseKey(key: string): string {
    return `${this.#config.prefix}lease:${key}`
  }
  /** Hit-for-miss markers are per kind of request (src/stack/hit-for-miss.ts). */
  #uncacheableKey(key: string, kind: RequestKind): string {
    return `${this.#config.prefix}${kind === 'credentialed' ? 'hfm-c:' : 'hfm:'}${key}`
  }

  #call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return this.#health.call(what, operation)
  }

  async get(key: string): Promise<Stored | undefined> {
    const text = await this.#call('GET', () => this.#client.get<string>(this.#key(key)))
    return typeof text === 'string' ? decodeFromRedis(text) : undefined
  }

  /**
   * Reads `key`; when empty, tries to take its fill lease in the same round trip.
   * @param leaseToken unique per fetch attempt, so only its owner releases the lease
   * @param kind whose hit-for-miss marker applies (credentialed answers never block anonymous requests)
   */
  async lookup(key: string, leaseToken: string, leaseMs: number, kind: RequestKind = 'anonymous'): Promise<RedisLookup> {
    const replica = this.#config.replica
    if (replica) {
      const peek = await this.#call('replica lookup', () => replica.peek(this.#key(key), this.#uncacheableKey(key, kind), this.#logKeys.seq))
      if (peek.kind === 'value') return { kind: 'value', seq: peek.seq, requests: 1, value: await decodeFromRedis(peek.text), bytes: redisTextBytes(peek.text) }
      if (peek.kind === 'uncacheable') return { kind: 'uncacheable', seq: peek.seq, requests: 1 }
      return { ...(await this.#primaryLookup(key, leaseToken, leaseMs, kind)), requests: 2 }
    }
    return this.#primaryLookup(key, leaseToken, leaseMs, kind)
  }

  /** The lookup script (it may take the lease, so on a global database it runs on the primary). */
  async #primaryLookup(key: string, leaseToken: string, leaseMs: number, kind: RequestKind): Promise<RedisLookup> {
    const result = await this.#call('lookup', () =>
      this.#scripts.lookup.run<[string, string], [number, number, string?]>(
        this.#client,
        [this.#key(key), this.#leaseKey(key), this.#uncacheableKey(key, kind), this.#logKeys.seq],
        [leaseToken, String(leaseMs)]
      )
    )
    const code = Number(result[0])
    const seq = Number(result[1])
    if (code === 1 && typeof result[2] === 'string') {
      return { kind: 'value', seq, requests: 1, value: await decodeFromRedis(result[2]), bytes: redisTextBytes(result[2]) }
    }
    if (code === 2) return { kind: 'uncacheable', seq, requests: 1 }
    if (code === 3) return { kind: 'leader', seq, requests: 1 }
    return { kind: 'follower', seq, requests: 1 }
  }

  /**
   * Whether `value` is sure to fit `maxEntryBytes` once encoded: base64 (4/3) of the body and an upper
   * bound of the rest. Decided before the write, so `Cache-Status` can say whether Redis stores it;
   * a value that would fit only after compression is left out rather than guessed at.
   */
  fits(value: Stored): boolean {
    const body = value.kind === 'entry' ? value.body.byteLength : 0
    return Math.ceil((body + metaUpperBound(value)) / 3) * 4 <= this.#config.maxEntryBytes
  }

  async set(key: string, value: Stored, ttlMs: number): Promise<void> {
    const tags = value.kind === 'entry' ? value.tags : []
    const purgeSeq = value.kind === 'entry' ? value.purgeSeq : 0
    await this.fill([{ key, value, ttlMs }], key, '', { purgeSeq, primaryKey: key, tags })
  }

  /**
   * Writes values (an entry and, for varying URLs, the vary index) unless a purge after
   * `fence.purgeSeq` covers them, indexes them by URL and tag, and releases `leaseKeyOf`'s lease when
   * `leaseToken` still holds it. Values larger than the tier's limit are skipped; when none is left the
   * outcome is `skipped` (the lease is still released).
   */
  async fill(
    values: Array<{ key: string; value: Stored; ttlMs: number }>,
    leaseKeyOf: string,
    leaseToken: string,
    fence: FillFence
  ): Promise<FillOutcome> {
    const url = urlOfKey(fence.primaryKey)
    const keys = [this.#leaseKey(leaseKeyOf), this.#logKeys.log, this.#logKeys.url(url)]
    let maxTtl = 0
    const pairs: string[] = []
    let bytes = 0
    for (const { key, value, ttlMs } of values) {
      const ms = Math.floor(ttlMs)
      // The same rule Cache-Status was told (fits): a value that would fit only once compressed is left out.
      if (ms < 1 || !this.fits(value)) continue
      const text = await encodeForRedis(value)
      keys.push(this.#key(key))
      pairs.push(text, String(ms))
      bytes += redisTextBytes(text)
      maxTtl = Math.max(maxTtl, ms)
    }
    if (keys.length === 3) {
      if (leaseToken) await this.releaseLease(leaseKeyOf, leaseToken)
      return { outcome: 'skipped', bytes: 0 }
    }
    const args = [leaseToken, String(fence.purgeSeq), url, JSON.stringify(fence.tags), this.#logKeys.tag(''), String(Math.max(maxTtl, 1)), ...pairs]
    const result = await this.#call('fill', () => this.#scripts.fill.run(this.#client, keys, args))
    return { outcome: Number(result) === 1 ? 'stored' : 'fenced', bytes }
  }

  /** Marks `key` as unshareable for requests of `kind` for `markerMs` (hit-for-miss) and releases the lease. */
  async markUncacheable(key: string, leaseToken: string, markerMs: number, kind: RequestKind = 'anonymous'): Promise<void> {
    await this.#call('mark-uncacheable', () =>
      this.#scripts.uncacheable.run(this.#client, [this.#leaseKey(key), this.#uncacheableKey(key, kind)], [leaseToken, String(markerMs)])
    )
  }

  /**
   * Takes `key`'s fill lease for `leaseToken` when nobody holds it (`SET NX PX`): a background refresh of a
   * value that is still stored, so one isolate refreshes it rather than every isolate that sees it age.
   */
  async tryLease(key: string, leaseToken: string, leaseMs: number): Promise<boolean> {
    const result = await this.#call('lease', () => this.#client.set(this.#leaseKey(key), leaseToken, { nx: true, px: leaseMs }))
    return result === 'OK'
  }

  /** Releases `key`'s fill lease if `leaseToken` still holds it, so the next fetcher need not wait it out. */
  async releaseLease(key: string, leaseToken: string): Promise<void> {
    await this.#call('release-lease', () => this.#scripts.release.run(this.#client, [this.#leaseKey(key)], [leaseToken]))
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length === 0) return
    await this.#call('DEL', () => this.#client.del(...keys.map((k) => this.#key(k))))
  }
}
