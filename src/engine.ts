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
import { ReplicaReader } from './tiers/redis-replica.ts'
import { RedisHealth } from './tiers/redis-health.ts'
import { RedisTier } from './tiers/redis.ts'
import { Coherence } from './coherence/coherence.ts'
import { PurgeLog } from './coherence/purge-log.ts'
import { ColoView } from './coherence/colo-view.ts'
import { recordsMatcher } from './coherence/purge-record.ts'
import { ZonePurger } from './purge/cloudflare.ts'
import { PurgeFanout } from './purge/fanout.ts'
import { HotKeys } from './observe/hot-keys.ts'
import { HotSet } from './observe/hot-set.ts'
import { RequestObserver } from './observe/request-observer.ts'
import { UpstashUsage } from './observe/upstash-usage.ts'

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
  /** Hot keys, edge counters and Analytics Engine points, per answered request. */
  observer: RequestObserver
  /** The fleet's hot set in Redis, when the Redis tier and hot keys are on. */
  hotSet: HotSet | undefined
  /** What this isolate sent to Upstash, when the Redis tier is on. */
  upstash: UpstashUsage | undefined
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
  let upstash: UpstashUsage | undefined
  let hotSet: HotSet | undefined
  if (options.redis) {
    upstash = new UpstashUsage()
    redisClient = createRedisClient(options.redis, upstash)
    // One breaker and error record per database: a hanging Redis is skipped by tier calls and purge-log
    // reads alike, and /health sees the errors of both.
    const health = new RedisHealth({ ...options.redis, now: options.now })
    // Upstash Global: hits read the nearest replica through a client that sends no sync token (redis-replica.ts).
    const replica = options.redis.global ? new ReplicaReader(createRedisClient({ ...options.redis, readYourWrites: false }, upstash)) : undefined
    tiers.redis = new RedisTier(redisClient, { ...options.redis, now: options.now, health, ...(replica ? { replica } : {}) })
    purgeLog = new PurgeLog(redisClient, options.redis.prefix, health)
    if (options.hotKeys) hotSet = new HotSet(redisClient, options.redis.prefix, health)
  }
  const memory = tiers.memory
  const stats = new Stats(options.now())
  // The purge-log view is shared through the edge tier's cache (one data centre's isolates); without an
  // edge tier, or without the Cache API, each isolate reads the log itself.
  const colo =
    options.edge && options.redis && typeof caches !== 'undefined'
      ? new ColoView({
          open: () => (options.edge && options.edge.cacheName !== 'default' ? caches.open(options.edge.cacheName) : Promise.resolve(caches.default)),
          logId: `${options.redis.url}\n${options.redis.prefix}`,
          pathPrefix: options.internalPrefix,
          // Longer than one page read can take at the Redis deadline.
          leaseMs: 2 * options.redis.timeoutMs,
          now: options.now,
          count: (event) => stats.record(event),
        })
      : undefined
  const coherence = new Coherence(
    purgeLog,
    {
      evict: (records) => {
        if (!memory || records.length === 0) return
        const covers = recordsMatcher(records)
        // A vary index has no fill position: any record for its URL drops it.
        memory.deleteWhere((key, value) =>
          value.kind === 'entry' ? covers(key, value.tags, value.purgeSeq) : covers(key, [], Number.NEGATIVE_INFINITY)
        )
      },
      flush: () => memory?.clear(),
      count: (event) => stats.record(event),
    },
    { now: options.now, waitMs: options.redis ? options.redis.timeoutMs : 0, colo }
  )
  const zone = options.cloudflare
    ? new ZonePurger(options.cloudflare, options.redis && tiers.redis ? { redis: redisClient!, prefix: options.redis.prefix } : undefined, options.now)
    : undefined
  const fanout = new PurgeFanout({
    memory: tiers.memory,
    edge: tiers.edge,
    purgeLog,
    coherence,
    zone,
    deltaMs: options.coherenceDeltaMs,
    now: options.now,
  })
  const observer = new RequestObserver(options, stats, options.hotKeys ? new HotKeys(options.hotKeys.size) : undefined, hotSet)
  const stack = new CacheStack(options, tiers, stats, coherence, fanout, observer)
  return { options, tiers, stats, coherence, purgeLog, fanout, zone, stack, observer, hotSet, upstash }
}
