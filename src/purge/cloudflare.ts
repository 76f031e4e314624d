/**
 * @module Cloudflare zone purge: the only push that reaches every data centre's edge cache.
 *
 * `cache.delete` is local to one data centre, so edge entries carry `Cache-Tag`s (their tags, a tag per
 * URL and a tag for everything) and a purge is forwarded to `POST /zones/{zone}/purge_cache` by tag,
 * through the official `cloudflare` SDK. The API allows at most 100 tags a call and, on the Free plan,
 * 5 calls a minute (bucket 25) per account (reference/upstash-and-workers.md §5.2). Calls therefore go
 * through a token bucket and a queue, both kept in Redis so every isolate shares them; a 429, a 5xx or
 * no answer puts the batch back and the cron trigger (or the next purge) sends it later. Correctness
 * never depends on this step: isolates refuse purged edge entries through the purge log within δ anyway.
 */
import type { Redis } from '@upstash/redis/cloudflare'
import { createClient } from 'cloudflare/tree-shakable'
import { BaseCache } from 'cloudflare/resources/cache/cache'

/** Zone purge settings (`CF_ZONE_ID`, `CF_API_TOKEN`; the base URL is for tests). */
export interface ZonePurgeConfig {
  zoneId: string
  apiToken: string
  /** API base URL. @default 'https://api.cloudflare.com/client/v4' */
  baseUrl?: string
  /** Purge calls per minute the plan allows. @default 5 (Free) */
  perMinute?: number
  /** Bucket size. @default 25 (Free) */
  burst?: number
}

/** Tags per purge call (Cloudflare's limit). */
export const TAGS_PER_CALL = 100

/** What the zone purge step did, for the receipt. */
export interface ZonePurgeOutcome {
  status: 'sent' | 'queued' | 'rate-limited' | 'error'
  /** Calls made now. */
  calls: number
  /** Batches (of up to 100 tags) still waiting in the queue after this attempt. */
  queued: number
  error?: string
}

// KEYS: bucket. ARGV: per-minute rate, burst. Takes one token if available; returns 1 or 0.
const TAKE_TOKEN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local burst = tonumber(ARGV[2])
local tokens = tonumber(state[1] or burst)
local at = tonumber(state[2] or now)
tokens = math.min(burst, tokens + (now - at) * tonumber(ARGV[1]) / 60000)
local ok = 0
if tokens >= 1 then tokens = tokens - 1 ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], 3600000)
return ok`

/** Shared (Redis) or per-isolate storage for the bucket and the queue. */
interface Budget {
  take(): Promise<boolean>
  push(batches: string[][], front?: boolean): Promise<void>
  pop(): Promise<string[] | undefined>
  size(): Promise<number>
}

const redisBudget = (redis: Redis, prefix: string, perMinute: number, burst: number): Budget => ({
  take: async () => Number(await redis.eval(TAKE_TOKEN, [`${prefix}cf:bucket`], [String(perMinute), String(burst)])) === 1,
  push: async (batches, front = false) => {
    if (batches.length === 0) return
    const items = batches.map((b) => JSON.stringify(b))
    if (front) await redis.lpush(`${prefix}cf:queue`, ...items.reverse())
    else await redis.rpush(`${prefix}cf:queue`, ...items)
  },
  pop: async () => {
    const raw = await redis.lpop<string>(`${prefix}cf:queue`)
    return typeof raw === 'string' ? (JSON.parse(raw) as string[]) : undefined
  },
  size: async () => Number(await redis.llen(`${prefix}cf:queue`)),
})

const localBudget = (perMinute: number, burst: number, now: () => number): Budget => {
  let tokens = burst
  let at = now()
  const queue: string[][] = []
  return {
    take: async () => {
      const t = now()
      tokens = Math.min(burst, tokens + ((t - at) * perMinute) / 60_000)
      at = t
      if (tokens < 1) return false
      tokens -= 1
      return true
    },
    push: async (batches, front = false) => void (front ? queue.unshift(...batches) : queue.push(...batches)),
    pop: async () => queue.shift(),
    size: async () => queue.length,
  }
}

/**
 * Whether a failed batch is worth sending again: a 429 (rate limit), a 5xx, or no answer at all (the SDK's
 * connection errors and timeouts have no status). Any other 4xx is a request Cloudflare refuses (bad tag,
 * token without the permission) and would be refused again, so that batch is dropped and reported.
 */
const isRetryable = (error: unknown): boolean => {
  const status = (error as { status?: number })?.status
  return typeof status !== 'number' || status === 429 || status >= 500
}

export class ZonePurger {
  readonly #zoneId: string
  readonly #client
  readonly #budget: Budget

  constructor(config: ZonePurgeConfig, shared: { redis: Redis; prefix: string } | undefined, now: () => number) {
    this.#zoneId = config.zoneId
    this.#client = createClient({
      apiToken: config.apiToken,
      baseURL: config.baseUrl ?? 'https://api.cloudflare.com/client/v4',
      // Retries are ours: a 429 goes back on the queue instead of sleeping inside the request.
      maxRetries: 0,
      timeout: 10_000,
      resources: [BaseCache],
    })
    const perMinute = config.perMinute ?? 5
    const burst = config.burst ?? 25
    this.#budget = shared ? redisBudget(shared.redis, shared.prefix, perMinute, burst) : localBudget(perMinute, burst, now)
  }

  /** Queues `tags` (in batches of 100) and sends as many batches as the budget allows. */
  async purgeTags(tags: string[]): Promise<ZonePurgeOutcome> {
    const batches: string[][] = []
    for (let i = 0; i < tags.length; i += TAGS_PER_CALL) batches.push(tags.slice(i, i + TAGS_PER_CALL))
    await this.#budget.push(batches)
    return this.drain()
  }

  /**
   * Sends queued batches while tokens last. Stops at the first failure; a batch that failed for a
   * passing reason (429, 5xx, no answer) goes back to the front of the queue for the next drain.
   */
  async drain(): Promise<ZonePurgeOutcome> {
    let calls = 0
    let status: ZonePurgeOutcome['status'] = 'sent'
    let error: string | undefined
    for (;;) {
      if ((await this.#budget.size()) === 0) break
      if (!(await this.#budget.take())) {
        status = 'queued'
        break
      }
      const batch = await this.#budget.pop()
      if (!batch) break
      try {
        calls++
        await this.#client.cache.purge({ zone_id: this.#zoneId, tags: batch })
      } catch (cause) {
        if (isRetryable(cause)) await this.#budget.push([batch], true)
        if ((cause as { status?: number })?.status === 429) status = 'rate-limited'
        else {
          status = 'error'
          error = (cause as Error)?.message ?? String(cause)
        }
        break
      }
    }
    const queued = await this.#budget.size()
    return { status: status === 'sent' && queued > 0 ? 'queued' : status, calls, queued, ...(error ? { error } : {}) }
  }
}
