/**
 * @module Worker environment: the `wrangler.toml` vars and secrets the deployable worker reads, turned
 * into {@link TieredCacheOptions} once per isolate. Every variable is documented in the README table.
 */
import { ConfigError } from './errors.ts'
import { resolveOptions, validateHttpUrl, type AnalyticsDataset, type ResolvedOptions, type RouteRule, type TieredCacheOptions } from './options.ts'
import { parseWarmBody, type WarmRequest } from './warm/request.ts'
import type { WarmLimits } from './warm/warmer.ts'

/** Bindings and vars of the deployable worker (`wrangler.toml` [vars] + `wrangler secret put`). */
export interface Env {
  /** Origin base URL, e.g. `https://origin.example.com`. Required. */
  ORIGIN_URL?: string
  /** Upstash REST URL; without it the Redis tier is off. */
  UPSTASH_REDIS_REST_URL?: string
  /** Upstash REST token (secret). */
  UPSTASH_REDIS_REST_TOKEN?: string
  /** Redis key prefix. @default 'tc:' */
  REDIS_PREFIX?: string
  /** Per-call Redis deadline in ms. @default 150 */
  REDIS_TIMEOUT_MS?: string
  /** `true` for an Upstash Global database: Redis hits read the nearest replica (README "Upstash Global"). */
  UPSTASH_GLOBAL?: string
  /** Origin deadline in ms. @default 10000 */
  ORIGIN_TIMEOUT_MS?: string
  /** Seconds a stale copy may be served while the origin cannot be reached (0: never). @default 300 */
  GRACE_SECONDS?: string
  /** Bounded staleness δ after a purge, in ms. @default 2000 */
  COHERENCE_DELTA_MS?: string
  /**
   * How long a request waits for another request's fetch of the same key (in this isolate, or in another
   * through the Redis fill lease) before going to the origin itself, in ms. @default 5000
   */
  COALESCE_WAIT_MS?: string
  /** Lifetime of the cross-isolate Redis fill lease, in ms. @default 5000 */
  LEASE_MS?: string
  /** Memory tier budget in bytes. @default 16777216 */
  MEMORY_MAX_BYTES?: string
  /** Route rules as JSON (`[{"pattern":"/api/","ttl":30}]`). @default [] */
  ROUTES?: string
  /** Prefix of internal routes. @default '/__tiercache' */
  INTERNAL_PREFIX?: string
  /** Bearer token for the internal stats route (secret); without it /stats answers 401. */
  INTERNAL_TOKEN?: string
  /** Purge webhook HMAC secret (secret); without it the purge route answers 404. */
  PURGE_SECRET?: string
  /** The previous purge secret, still accepted during a rotation (secret). */
  PURGE_SECRET_PREVIOUS?: string
  /** Largest purge body in bytes. @default 65536 */
  PURGE_MAX_BYTES?: string
  /** Cloudflare zone id for zone purge by tag. */
  CF_ZONE_ID?: string
  /** Cloudflare API token with Cache Purge permission (secret). */
  CF_API_TOKEN?: string
  /** Cloudflare API base URL (tests point it at a local fake). @default 'https://api.cloudflare.com/client/v4' */
  CF_API_BASE_URL?: string
  /** Zone purge calls per minute. @default 5 (Free plan) */
  CF_PURGE_PER_MINUTE?: string
  /** Zone purge bucket size. @default 25 (Free plan) */
  CF_PURGE_BURST?: string
  /** Named edge cache, or `off` to disable the edge tier. @default 'default' */
  EDGE_CACHE?: string
  /** Most origin fetches one warming run may cause. @default 100 */
  WARM_BUDGET?: string
  /** URLs a warming run has in flight at once. @default 4 */
  WARM_CONCURRENCY?: string
  /** What the cron trigger warms: a warm request body (`{"hot":true}`, `{"sitemap":"/sitemap.xml"}`, `{"urls":[...]}`). @default unset (no cron warming) */
  WARM_CRON?: string
  /** The cron trigger warms every this many minutes. @default 15 */
  WARM_CRON_MINUTES?: string
  /** The public site URL a cron list or sitemap is warmed on (`https://www.example.com`). */
  WARM_BASE_URL?: string
  /** `off` turns hot-key tracking off. @default on */
  HOT_KEYS?: string
  /** Keys tracked per isolate. @default 64 */
  HOT_KEYS_SIZE?: string
  /** Least time between merges of an isolate's hot keys into Redis, in ms (never less than δ). @default 30000 */
  HOT_KEYS_MERGE_MS?: string
  /** Workers Analytics Engine dataset binding (`[[analytics_engine_datasets]] binding = "ANALYTICS"`). */
  ANALYTICS?: AnalyticsDataset
  /** Fraction of requests written to Analytics Engine, in (0, 1]. @default 0.1 */
  ANALYTICS_SAMPLE_RATE?: string
}

/** What the worker needs beyond the engine options. */
export interface WorkerConfig {
  originUrl: string
  purge: { secrets: string[]; maxBytes: number }
  options: ResolvedOptions
  /** Human-readable notes about degraded configuration (printed once, shown by the health route). */
  warnings: string[]
  /** Warming limits, and what the cron trigger warms (if anything). */
  warm: { limits: WarmLimits; cron: { request: WarmRequest; base: URL; everyMinutes: number } | undefined }
}

/** A reader of an integer variable that must be at least `min` (1: positive, 0: non-negative); unset or empty → undefined. */
const optionalIntAtLeast =
  (min: 0 | 1) =>
  (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined || raw === '') return undefined
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be a ${min === 1 ? 'positive' : 'non-negative'} integer, got "${raw}"`)
    return n
  }
const optionalInt = optionalIntAtLeast(1)
const optionalCount = optionalIntAtLeast(0)

/** `true` or `false` (any case); unset or empty → undefined. */
function optionalBoolean(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined
  const lower = value.trim().toLowerCase()
  if (lower === 'true' || lower === 'false') return lower === 'true'
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`)
}

const parseRoutes = (raw: string | undefined): RouteRule[] | undefined => {
  if (raw === undefined || raw.trim() === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new ConfigError('ROUTES must be a JSON array of route rules')
  }
  if (!Array.isArray(parsed)) throw new ConfigError('ROUTES must be a JSON array of route rules')
  return parsed as RouteRule[]
}

const readCloudflare = (env: Env, warnings: string[]) => {
  if (!env.CF_ZONE_ID && !env.CF_API_TOKEN) return undefined
  if (!env.CF_ZONE_ID || !env.CF_API_TOKEN) throw new ConfigError('set both CF_ZONE_ID and CF_API_TOKEN, or neither')
  if (env.CF_API_BASE_URL) warnings.push(`zone purge goes to ${env.CF_API_BASE_URL}, not the Cloudflare API`)
  return {
    zoneId: env.CF_ZONE_ID,
    apiToken: env.CF_API_TOKEN,
    baseUrl: env.CF_API_BASE_URL || undefined,
    perMinute: optionalInt('CF_PURGE_PER_MINUTE', env.CF_PURGE_PER_MINUTE),
    burst: optionalInt('CF_PURGE_BURST', env.CF_PURGE_BURST),
  }
}

const readWarm = (env: Env): WorkerConfig['warm'] => {
  const limits = { budget: optionalInt('WARM_BUDGET', env.WARM_BUDGET) ?? 100, concurrency: optionalInt('WARM_CONCURRENCY', env.WARM_CONCURRENCY) ?? 4 }
  if (limits.concurrency > 32) throw new ConfigError(`WARM_CONCURRENCY must be at most 32, got "${env.WARM_CONCURRENCY}"`)
  const everyMinutes = optionalInt('WARM_CRON_MINUTES', env.WARM_CRON_MINUTES) ?? 15
  if (!env.WARM_CRON) return { limits, cron: undefined }
  const base = new URL(env.WARM_BASE_URL ? validateHttpUrl('WARM_BASE_URL', env.WARM_BASE_URL) : 'https://warm-base-url.invalid')
  const parsed = parseWarmBody(env.WARM_CRON, base)
  if (!parsed.ok) throw new ConfigError(`WARM_CRON must be a warm request like {"hot":true} or {"sitemap":"/sitemap.xml"}: ${parsed.error}`)
  if (parsed.value.source.kind !== 'hot' && !env.WARM_BASE_URL) {
    throw new ConfigError('WARM_CRON warms a list or a sitemap: set WARM_BASE_URL to the public site URL they are on (e.g. https://www.example.com)')
  }
  return { limits, cron: { request: parsed.value, base, everyMinutes } }
}

const readHotKeys = (env: Env) => {
  if (env.HOT_KEYS !== undefined && env.HOT_KEYS !== '' && env.HOT_KEYS !== 'on' && env.HOT_KEYS !== 'off') {
    throw new ConfigError(`HOT_KEYS must be "on" or "off", got "${env.HOT_KEYS}"`)
  }
  if (env.HOT_KEYS === 'off') return false
  return { size: optionalInt('HOT_KEYS_SIZE', env.HOT_KEYS_SIZE), mergeMs: optionalInt('HOT_KEYS_MERGE_MS', env.HOT_KEYS_MERGE_MS) }
}

const readAnalytics = (env: Env) => {
  if (!env.ANALYTICS) return undefined
  const raw = env.ANALYTICS_SAMPLE_RATE
  const sampleRate = raw === undefined || raw === '' ? undefined : Number(raw)
  if (sampleRate !== undefined && !(sampleRate > 0 && sampleRate <= 1)) throw new ConfigError(`ANALYTICS_SAMPLE_RATE must be a number in (0, 1], got "${raw}"`)
  return { dataset: env.ANALYTICS, sampleRate }
}

/**
 * The engine options the environment gives (Redis, memory, edge, δ, leases, routes, zone purge), without
 * the worker's own settings (`ORIGIN_URL`, purge secrets). The data API builds its engine from these when no
 * middleware offered one. Throws {@link ConfigError} on the first bad value.
 */
export function engineOptionsFromEnv(env: Env, warnings: string[] = []): TieredCacheOptions {
  const hasUrl = Boolean(env.UPSTASH_REDIS_REST_URL)
  const hasToken = Boolean(env.UPSTASH_REDIS_REST_TOKEN)
  if (hasUrl !== hasToken) {
    throw new ConfigError('set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, or neither')
  }
  if (!hasUrl) warnings.push('Redis tier off: UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN are not set')
  return {
    redis: hasUrl
      ? {
          url: env.UPSTASH_REDIS_REST_URL as string,
          token: env.UPSTASH_REDIS_REST_TOKEN as string,
          timeoutMs: optionalInt('REDIS_TIMEOUT_MS', env.REDIS_TIMEOUT_MS),
          prefix: env.REDIS_PREFIX,
          global: optionalBoolean('UPSTASH_GLOBAL', env.UPSTASH_GLOBAL),
        }
      : undefined,
    memory: { maxBytes: optionalInt('MEMORY_MAX_BYTES', env.MEMORY_MAX_BYTES) },
    edge: env.EDGE_CACHE === 'off' ? false : { cacheName: env.EDGE_CACHE || undefined },
    originTimeoutMs: optionalInt('ORIGIN_TIMEOUT_MS', env.ORIGIN_TIMEOUT_MS),
    graceSeconds: optionalCount('GRACE_SECONDS', env.GRACE_SECONDS),
    coherenceDeltaMs: optionalInt('COHERENCE_DELTA_MS', env.COHERENCE_DELTA_MS),
    coalesceWaitMs: optionalInt('COALESCE_WAIT_MS', env.COALESCE_WAIT_MS),
    leaseMs: optionalInt('LEASE_MS', env.LEASE_MS),
    routes: parseRoutes(env.ROUTES),
    internalPrefix: env.INTERNAL_PREFIX || undefined,
    cloudflare: readCloudflare(env, warnings),
    hotKeys: readHotKeys(env),
    analytics: readAnalytics(env),
  }
}

/** Reads and validates the worker's environment. Throws {@link ConfigError} on the first bad value. */
export function readWorkerConfig(env: Env): WorkerConfig {
  if (!env.ORIGIN_URL) throw new ConfigError('ORIGIN_URL is required (set it in wrangler.toml [vars])')
  const originUrl = validateHttpUrl('ORIGIN_URL', env.ORIGIN_URL)
  const warnings: string[] = []
  const options = resolveOptions(engineOptionsFromEnv(env, warnings))
  const purge = readPurgeConfig(env, warnings)
  return { originUrl, options, warnings, purge, warm: readWarm(env) }
}

/**
 * The purge webhook's settings: `PURGE_SECRET` (and `PURGE_SECRET_PREVIOUS` during a rotation),
 * `PURGE_MAX_BYTES`. Shared by the deployable worker and `tiercacheRoutes()` in a user's app.
 * Throws {@link ConfigError} on a secret shorter than 16 characters.
 */
export function readPurgeConfig(env: Env, warnings: string[] = []): WorkerConfig['purge'] {
  const secrets = [env.PURGE_SECRET, env.PURGE_SECRET_PREVIOUS].filter((s): s is string => Boolean(s))
  if (secrets.some((s) => s.length < 16)) throw new ConfigError('PURGE_SECRET / PURGE_SECRET_PREVIOUS must be at least 16 characters')
  if (secrets.length === 0) warnings.push('purge webhook off: PURGE_SECRET is not set')
  return { secrets, maxBytes: optionalInt('PURGE_MAX_BYTES', env.PURGE_MAX_BYTES) ?? 64 * 1024 }
}
