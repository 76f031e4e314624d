/**
 * @module Options: every setting tiercache has, typed once, documented once, resolved and validated
 * once (when the middleware is created, or on an isolate's first request for the deployable worker).
 * Nothing here is read per request; a bad value fails fast with a {@link ConfigError}.
 */
import { ConfigError } from './errors.ts'
import { isToken } from './policy/syntax.ts'
import type { ZonePurgeConfig } from './purge/cloudflare.ts'

/** Per-user (or per-cohort) caching for a route. Off unless a route opts in. */
export interface PerUserOptions {
  /**
   * Where the identity comes from: the `Authorization` header, or a named cookie (`cookie:session`).
   * The key holds a SHA-256 hash of the value, never the raw token.
   */
  identity: 'authorization' | `cookie:${string}`
}

/**
 * Per-cohort caching for a route: a page that differs by country, device class or experiment bucket is
 * cached once per cohort instead of not at all. Values are read from the request, never trusted as keys
 * raw (they are hashed), and the number of cohorts per URL is capped.
 */
export interface CohortOptions {
  /**
   * Request headers whose values select the cohort (`CF-IPCountry`, a device class header your edge sets).
   * They are handled as if the origin had sent them in `Vary`, so clients and downstream caches see
   * `Vary` naming them too.
   * @default []
   */
  headers?: string[]
  /**
   * Cookies whose values select the cohort (an A/B bucket such as `ab`). `Vary` cannot name a cookie, so
   * these responses go to clients as `Cache-Control: private`.
   * @default []
   */
  cookies?: string[]
  /** Query parameters whose values join the key, even where `ignoreQueryParams` would drop them. @default [] */
  query?: string[]
  /**
   * Distinct cohorts per URL this isolate caches; requests of further cohorts go to the origin uncached
   * (`Cache-Status` `detail=cohort-limit`), so a header with unbounded values cannot flood the tiers.
   * @default 32
   */
  maxCohorts?: number
}

/** A route rule: the first rule whose pattern matches the request path applies. */
export interface RouteRule {
  /** A path prefix (`/api/`) or a glob with a trailing `*` (`/assets/*`). */
  pattern: string
  /** Do not cache at all: every request goes to the origin. @default false */
  bypass?: boolean
  /**
   * Freshness lifetime in seconds for our tiers when the origin gives none. Origin `s-maxage`,
   * `max-age`, `Expires` and targeted `CDN-Cache-Control` still win.
   * @default undefined (origin headers and heuristics only)
   */
  ttl?: number
  /** Opt-in per-user caching; entries stay out of the edge tier and go to clients as `private`. */
  perUser?: PerUserOptions
  /** Opt-in per-cohort caching (country, device class, experiment bucket). @default undefined */
  cohort?: CohortOptions
  /** Extra tags attached to every entry stored under this route (for purge by tag). @default [] */
  tags?: string[]
  /** Staleness bound δ for this route, in ms (see {@link TieredCacheOptions.coherenceDeltaMs}). */
  deltaMs?: number
}

/** Heuristic freshness settings (see {@link TieredCacheOptions.heuristic}). */
export interface HeuristicOptions {
  /** Fraction of the time since Last-Modified. @default 0.1 */
  fraction: number
  /** Cap for a heuristic lifetime, in seconds. @default 86400 */
  maxSeconds: number
  /** Cap for heuristically cacheable error statuses, in seconds; 0 stores none of them heuristically. @default 60 */
  errorMaxSeconds?: number
}

/** Memory tier (L1) settings. */
export interface MemoryTierOptions {
  /** Byte budget for the whole tier; never exceeded. @default 16 MiB */
  maxBytes?: number
  /** Largest single entry this tier stores; larger responses are served but not kept here. @default min(1 MiB, maxBytes / 4) */
  maxEntryBytes?: number
}

/** Edge tier (L0, Workers Cache API) settings. */
export interface EdgeTierOptions {
  /** Named cache (`caches.open(name)`); `default` uses `caches.default`. @default 'default' */
  cacheName?: string
  /** Largest entry stored at the edge. @default 50 MiB */
  maxEntryBytes?: number
}

/** Redis tier (L2, Upstash over REST) settings. */
export interface RedisTierOptions {
  /** Upstash REST URL (`UPSTASH_REDIS_REST_URL`). */
  url: string
  /** Upstash REST token (`UPSTASH_REDIS_REST_TOKEN`); a secret. */
  token: string
  /** Deadline for each Redis call on the request path, in ms. @default 150 */
  timeoutMs?: number
  /** Largest encoded entry stored in Redis (Upstash caps a request at 10 MB). @default 4 MiB */
  maxEntryBytes?: number
  /** Key prefix, so several deployments can share one database. @default 'tc:' */
  prefix?: string
  /**
   * Consecutive failures (timeouts, lost connections; not error answers) that open the circuit breaker,
   * shared by the Redis tier and the purge-log reader. Each must come from a call started after the
   * previous failure, or the streak must last 1 s. @default 3
   */
  breakerFailures?: number
  /** How long the breaker skips Redis once open, in ms; then one trial call goes through. @default 5000 */
  breakerCooldownMs?: number
  /**
   * The database is an Upstash Global database (`UPSTASH_GLOBAL=true`): a Redis lookup first reads the
   * nearest read replica with a read-only script (EVAL_RO), and only a miss there goes to the primary to
   * take the fill lease. A Redis hit then costs the replica's round trip instead of the primary's; a miss
   * costs one Upstash request more (3). Purge-log reads and fills stay on the primary either way, so the δ
   * bound is the same (README "Upstash Global"). @default false
   */
  global?: boolean
}

/** Everything the tiered cache engine takes. */
export interface TieredCacheOptions {
  /** Memory tier settings, or `false` to switch it off. @default {} */
  memory?: MemoryTierOptions | false
  /** Edge tier settings, or `false` to switch it off. @default {} */
  edge?: EdgeTierOptions | false
  /** Redis tier settings; without them the Redis tier is off (and the worker says so). @default undefined */
  redis?: RedisTierOptions
  /** Route rules, first match wins. @default [] */
  routes?: RouteRule[]
  /** Deadline for an origin fetch, in ms; past it the request gets stale-if-error or a 504. @default 10000 */
  originTimeoutMs?: number
  /**
   * How long concurrent requests for one cold key wait for the single in-flight fetch before going
   * to the origin themselves, in ms. @default 5000
   */
  coalesceWaitMs?: number
  /** Lifetime of the cross-isolate fill lease in Redis, in ms. @default 5000 */
  leaseMs?: number
  /**
   * Grace, in seconds: how long past its freshness a stored response may still be served when the origin
   * cannot be reached (a network error, a timeout, an answer no response can be built from). RFC 9111
   * §4.2.4 lets a disconnected cache serve stale; a 5xx the origin did send is served stale only within
   * the response's own `stale-if-error`. Never for responses that forbid stale (`must-revalidate`,
   * `proxy-revalidate`, `s-maxage`, `no-cache`). Entries are kept this much longer for it. 0 turns it off.
   * @default 300
   */
  graceSeconds?: number
  /**
   * Bounded staleness δ, in ms: once a purge has been acknowledged, no isolate serves the purged
   * content more than δ later. Each isolate reads the purge log at most once per δ (one Upstash request).
   * Routes may set their own. @default 2000
   */
  coherenceDeltaMs?: number
  /**
   * Heuristic freshness (RFC 9111 §4.2.2) as a fraction of the time since Last-Modified, capped at
   * `maxSeconds`; `false` disables it. The error statuses RFC 9110 §15.1 calls heuristically cacheable
   * (404, 405, 410, 414, 501) get one only when the origin sent `Last-Modified`, capped at
   * `errorMaxSeconds` (a short negative-cache window; 0 keeps such errors out unless their headers give
   * explicit freshness). @default { fraction: 0.1, maxSeconds: 86400, errorMaxSeconds: 60 }
   */
  heuristic?: HeuristicOptions | false
  /**
   * Query parameters dropped from the cache key (exact names, or a prefix ending in `*`).
   * @default ['utm_*', 'fbclid', 'gclid']
   */
  ignoreQueryParams?: string[]
  /**
   * Cloudflare zone purge by tag for the edge copies in other data centres (`CF_ZONE_ID`,
   * `CF_API_TOKEN`). @default undefined (off: isolates still refuse purged edge entries within δ)
   */
  cloudflare?: ZonePurgeConfig
  /** Prefix of tiercache's own routes (health, purge, stats). @default '/__tiercache' */
  internalPrefix?: string
  /**
   * The approximate top-K of keys by request count (src/observe/hot-keys.ts): `size` keys per isolate,
   * merged into the fleet's set in Redis at most once per `mergeMs` and never more often than δ
   * (`HOT_KEYS_SIZE`, `HOT_KEYS_MERGE_MS`; `HOT_KEYS=off`). Warming "the hot set" reads the merged set.
   * @default { size: 64, mergeMs: 30000 }
   */
  hotKeys?: HotKeysOptions | false
  /**
   * Workers Analytics Engine: sampled data points (tier, outcome, status, bytes, duration, colo) written in
   * `waitUntil` for fleet-wide stats (src/observe/analytics.ts). @default undefined (off)
   */
  analytics?: AnalyticsOptions
  /** Clock in ms since the epoch; injectable for tests. @default Date.now */
  now?: () => number
}

/** The hot-keys sketch (see {@link TieredCacheOptions.hotKeys}). */
export interface HotKeysOptions {
  /** Keys tracked per isolate. @default 64 */
  size?: number
  /** Least time between two merges of an isolate's counts into Redis, in ms (at least δ). @default 30000 */
  mergeMs?: number
}

/** The part of a Workers Analytics Engine dataset binding tiercache uses. */
export interface AnalyticsDataset {
  writeDataPoint(point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): unknown
}

/** Analytics Engine output (see {@link TieredCacheOptions.analytics}). */
export interface AnalyticsOptions {
  /** The binding (`[[analytics_engine_datasets]]` in wrangler.toml). */
  dataset: AnalyticsDataset
  /** Fraction of requests written, in (0, 1]. @default 0.1 */
  sampleRate?: number
}

/** Options with every default applied; produced only by {@link resolveOptions}. */
export interface ResolvedOptions {
  memory: Required<MemoryTierOptions> | false
  edge: Required<EdgeTierOptions> | false
  redis: Required<RedisTierOptions> | false
  routes: RouteRule[]
  originTimeoutMs: number
  coalesceWaitMs: number
  leaseMs: number
  graceSeconds: number
  coherenceDeltaMs: number
  heuristic: Required<HeuristicOptions> | false
  ignoreQueryParams: string[]
  internalPrefix: string
  cloudflare: ZonePurgeConfig | undefined
  hotKeys: Required<HotKeysOptions> | false
  analytics: Required<AnalyticsOptions> | undefined
  now: () => number
}

const MiB = 1024 * 1024

/** A boolean option; anything but `true`/`false` is a ConfigError. Unset → `fallback`. */
const flag = (name: string, value: boolean | undefined, fallback: boolean): boolean => {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`)
  return value
}

/** A validator of an integer option that must be at least `min` (1: positive, 0: non-negative); unset → `fallback`. */
const integerAtLeast =
  (min: 0 | 1) =>
  (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback
    if (!Number.isInteger(v) || v < min) throw new ConfigError(`${name} must be a ${min === 1 ? 'positive' : 'non-negative'} integer, got ${String(value)}`)
    return v
  }
const positiveInt = integerAtLeast(1)
const nonNegativeInt = integerAtLeast(0)

const httpUrl = (name: string, value: string): string => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${value}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must use http or https, got "${url.protocol}"`)
  }
  return value.replace(/\/+$/, '')
}

const resolveRoute = (rule: RouteRule, i: number): RouteRule => {
  if (typeof rule.pattern !== 'string' || !rule.pattern.startsWith('/')) {
    throw new ConfigError(`routes[${i}].pattern must be a path starting with "/", got ${JSON.stringify(rule.pattern)}`)
  }
  if (rule.ttl !== undefined && (!Number.isInteger(rule.ttl) || rule.ttl < 0)) {
    throw new ConfigError(`routes[${i}].ttl must be a non-negative integer number of seconds`)
  }
  if (rule.deltaMs !== undefined && (!Number.isInteger(rule.deltaMs) || rule.deltaMs <= 0)) {
    throw new ConfigError(`routes[${i}].deltaMs must be a positive integer number of ms`)
  }
  const identity = rule.perUser?.identity
  if (rule.perUser !== undefined && identity === undefined) {
    throw new ConfigError(`routes[${i}].perUser needs an identity: "authorization" or "cookie:<name>"`)
  }
  if (identity !== undefined && identity !== 'authorization' && !(identity.startsWith('cookie:') && isToken(identity.slice('cookie:'.length)))) {
    throw new ConfigError(`routes[${i}].perUser.identity must be "authorization" or "cookie:<name>", got "${identity}"`)
  }
  return { ...rule, tags: rule.tags ?? [], ...(rule.cohort ? { cohort: resolveCohort(rule.cohort, i) } : {}) }
}

const resolveCohort = (cohort: CohortOptions, i: number): Required<CohortOptions> => {
  const names = (field: 'headers' | 'cookies' | 'query', valid: (name: string) => boolean): string[] => {
    const list = cohort[field] ?? []
    if (!Array.isArray(list) || !list.every((n) => typeof n === 'string' && valid(n))) {
      throw new ConfigError(`routes[${i}].cohort.${field} must be a list of ${field === 'query' ? 'parameter' : field === 'cookies' ? 'cookie' : 'header'} names`)
    }
    return field === 'headers' ? list.map((n) => n.toLowerCase()) : list
  }
  const resolved = {
    headers: names('headers', isToken),
    cookies: names('cookies', isToken),
    query: names('query', (n) => n.length > 0 && n.length <= 256),
    maxCohorts: positiveInt(`routes[${i}].cohort.maxCohorts`, cohort.maxCohorts, 32),
  }
  if (resolved.headers.length + resolved.cookies.length + resolved.query.length === 0) {
    throw new ConfigError(`routes[${i}].cohort needs at least one of headers, cookies or query`)
  }
  return resolved
}

const resolveCloudflare = (config: ZonePurgeConfig | undefined): ZonePurgeConfig | undefined => {
  if (!config) return undefined
  if (!/^[0-9a-zA-Z]{1,64}$/.test(config.zoneId)) throw new ConfigError('cloudflare.zoneId (CF_ZONE_ID) must be a zone id')
  if (!config.apiToken) throw new ConfigError('cloudflare.apiToken (CF_API_TOKEN) is required with a zone id')
  return {
    ...config,
    baseUrl: config.baseUrl === undefined ? undefined : httpUrl('cloudflare.baseUrl', config.baseUrl),
    perMinute: positiveInt('cloudflare.perMinute', config.perMinute, 5),
    burst: positiveInt('cloudflare.burst', config.burst, 25),
  }
}

const resolveAnalytics = (analytics: AnalyticsOptions | undefined): Required<AnalyticsOptions> | undefined => {
  if (!analytics) return undefined
  if (typeof analytics.dataset?.writeDataPoint !== 'function') {
    throw new ConfigError('analytics.dataset must be an Analytics Engine binding (an object with writeDataPoint)')
  }
  const sampleRate = analytics.sampleRate ?? 0.1
  if (typeof sampleRate !== 'number' || !(sampleRate > 0 && sampleRate <= 1)) {
    throw new ConfigError(`analytics.sampleRate must be a number in (0, 1], got ${String(analytics.sampleRate)}`)
  }
  return { dataset: analytics.dataset, sampleRate }
}

/**
 * Applies defaults and validates. Throws {@link ConfigError} naming the first bad option.
 *
 * @example
 * const options = resolveOptions({ memory: { maxBytes: 8 * 1024 * 1024 }, redis: { url, token } })
 */
export function resolveOptions(options: TieredCacheOptions = {}): ResolvedOptions {
  let memory: ResolvedOptions['memory'] = false
  if (options.memory !== false) {
    const maxBytes = positiveInt('memory.maxBytes', options.memory?.maxBytes, 16 * MiB)
    // One entry may take at most a quarter of a small budget, so it cannot flush the whole tier.
    const defaultEntry = Math.max(1, Math.min(1 * MiB, Math.floor(maxBytes / 4)))
    memory = { maxBytes, maxEntryBytes: positiveInt('memory.maxEntryBytes', options.memory?.maxEntryBytes, defaultEntry) }
  }
  if (memory && memory.maxEntryBytes > memory.maxBytes) {
    throw new ConfigError('memory.maxEntryBytes cannot exceed memory.maxBytes')
  }
  const edge =
    options.edge === false
      ? false
      : {
          cacheName: options.edge?.cacheName ?? 'default',
          maxEntryBytes: positiveInt('edge.maxEntryBytes', options.edge?.maxEntryBytes, 50 * MiB),
        }
  let redis: ResolvedOptions['redis'] = false
  if (options.redis) {
    if (!options.redis.token) throw new ConfigError('redis.token (UPSTASH_REDIS_REST_TOKEN) is required with redis.url')
    redis = {
      url: httpUrl('redis.url (UPSTASH_REDIS_REST_URL)', options.redis.url),
      token: options.redis.token,
      timeoutMs: positiveInt('redis.timeoutMs', options.redis.timeoutMs, 150),
      maxEntryBytes: positiveInt('redis.maxEntryBytes', options.redis.maxEntryBytes, 4 * MiB),
      prefix: options.redis.prefix ?? 'tc:',
      breakerFailures: positiveInt('redis.breakerFailures', options.redis.breakerFailures, 3),
      breakerCooldownMs: positiveInt('redis.breakerCooldownMs', options.redis.breakerCooldownMs, 5000),
      global: flag('redis.global', options.redis.global, false),
    }
  }
  const heuristic =
    options.heuristic === false
      ? false
      : {
          fraction: options.heuristic?.fraction ?? 0.1,
          maxSeconds: nonNegativeInt('heuristic.maxSeconds', options.heuristic?.maxSeconds, 86_400),
          errorMaxSeconds: nonNegativeInt('heuristic.errorMaxSeconds', options.heuristic?.errorMaxSeconds, 60),
        }
  if (heuristic && !(heuristic.fraction > 0 && heuristic.fraction <= 1)) {
    throw new ConfigError('heuristic.fraction must be in (0, 1]')
  }
  const internalPrefix = (options.internalPrefix ?? '/__tiercache').replace(/\/+$/, '')
  if (!/^\/[A-Za-z0-9._~\-/]+$/.test(internalPrefix)) {
    throw new ConfigError(`internalPrefix must be a path like "/__tiercache", got "${options.internalPrefix}"`)
  }
  return {
    memory,
    edge,
    redis,
    routes: (options.routes ?? []).map(resolveRoute),
    originTimeoutMs: positiveInt('originTimeoutMs', options.originTimeoutMs, 10_000),
    coalesceWaitMs: positiveInt('coalesceWaitMs', options.coalesceWaitMs, 5_000),
    leaseMs: positiveInt('leaseMs', options.leaseMs, 5_000),
    graceSeconds: nonNegativeInt('graceSeconds', options.graceSeconds, 300),
    coherenceDeltaMs: positiveInt('coherenceDeltaMs', options.coherenceDeltaMs, 2_000),
    heuristic,
    ignoreQueryParams: options.ignoreQueryParams ?? ['utm_*', 'fbclid', 'gclid'],
    internalPrefix,
    cloudflare: resolveCloudflare(options.cloudflare),
    hotKeys:
      options.hotKeys === false
        ? false
        : { size: positiveInt('hotKeys.size', options.hotKeys?.size, 64), mergeMs: positiveInt('hotKeys.mergeMs', options.hotKeys?.mergeMs, 30_000) },
    analytics: resolveAnalytics(options.analytics),
    now: options.now ?? Date.now,
  }
}

export { httpUrl as validateHttpUrl }
