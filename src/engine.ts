/**
 * @module Wiring: builds the tiers, the stack and the counters from resolved options. One engine per
 * isolate (per options object): the memory tier and single-flight table live as long as the isolate.
 */
import type { ResolvedOptions } from './options.ts'
import { Stats } from './observe/stats.ts'
import { CacheStack, type Tiers } from './stack/stack.ts'
import { EdgeTier } from './tiers/edge.ts'
import { MemoryTier } from './tiers/memory.ts'
import { createRedisClient } from './tiers/redis-client.ts'
import { RedisTier } from './tiers/redis.ts'
import { Coherence } from './coherence/coherence.ts'
import { PurgeLog } from './coherence/purge-log.ts'
import { recordMatches } from './coherence/purge-record.ts'
import { ZonePurger } from './purge/cloudflare.ts'
import { PurgeFanout } from './purge/fanout.ts'

/** Edge bodies up to this size are always read whole: streaming only pays for large ones. */
const STREAM_FLOOR_BYTES = 1024 * 1024

/** The running cache: its stack, tiers and counters. */
export interface Engine {
  options: ResolvedOptions
  stack: CacheStack
  tiers: Tiers
  stats: Stats
  coherence: Coherence
  /** The purge log in Redis, when the Redis tier is configured. */
  purgeLog: PurgeLog | undefined
  /** Purges every tier (the webhook and unsafe-method invalidation use it). */
  fanout: PurgeFanout
  /** Cloudflare zone purge, when configured. */
  zone: ZonePurger | undefined
}

/** Creates an engine. Cheap: no I/O happens until the first lookup. */
export function createEngine(options: ResolvedOptions): Engine {
  const tiers: Tiers = {}
  if (options.memory) tiers.memory = new MemoryTier(options.memory)
  if (options.edge) {
    tiers.edge = new EdgeTier({
      ...options.edge,
      pathPrefix: options.internalPrefix,
      // Bodies memory would keep are read whole (and promoted); larger ones stream from the edge.
      streamAboveBytes: Math.max(options.memory ? options.memory.maxEntryBytes : 0, STREAM_FLOOR_BYTES),
      now: options.now,
    })
  }
  let purgeLog: PurgeLog | undefined
  let redisClient: ReturnType<typeof createRedisClient> | undefined
  if (options.redis) {
    redisClient = createRedisClient(options.redis)
    tiers.redis = new RedisTier(redisClient, { ...options.redis, now: options.now })
    purgeLog = new PurgeLog(redisClient, options.redis.prefix)
  }
  const memory = tiers.memory
  const coherence = new Coherence(
    purgeLog,
    {
      evict: (records) => {
        if (!memory || records.length === 0) return
        memory.deleteWhere((key, value) => {
          if (value.kind !== 'entry') return records.some((r) => r.all || recordMatches(r, key, []))
          return records.some((r) => r.seq > value.purgeSeq && recordMatches(r, key, value.tags))
        })
      },
      flush: () => memory?.clear(),
    },
    { now: options.now, waitMs: options.redis ? options.redis.timeoutMs : 0 }
  )
  const zone = options.cloudflare
    ? new ZonePurger(options.cloudflare, options.redis && tiers.redis ? { redis: redisClient!, prefix: options.redis.prefix } : undefined, options.now)
    : undefined
  const fanout = new PurgeFanout({
    edge: tiers.edge,
    purgeLog,
    coherence,
    zone,
    deltaMs: options.coherenceDeltaMs,
    now: options.now,
  })
  const stats = new Stats(options.now())
  const stack = new CacheStack(options, tiers, stats, coherence, fanout)
  return { options, tiers, stats, coherence, purgeLog, fanout, zone, stack }
}
