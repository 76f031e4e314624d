/**
 * @module Options of one data entry: typed once, documented once, checked on every call (they are per call)
 * with a `TypeError` that says what to write instead. Times are seconds, like route `ttl`s; the two loader
 * timeouts are milliseconds, like every other deadline in tiercache.
 */
import { checkTags } from './key.ts'

/** Probabilistic early refresh (XFetch) settings. */
export interface EarlyRefreshOptions {
  /**
   * XFetch's β: > 1 refreshes earlier, < 1 later. A request refreshes in the background once
   * `now − δ·β·ln(random()) ≥ expiry`, δ being the loader's last duration (Vattani et al., VLDB 2015).
   * @default 1
   */
  beta?: number
}

/** How a value is cached: lifetime, stale windows, tags. Used by `getOrSet`, `set` and `wrap`. */
export interface DataEntryOptions {
  /** Freshness lifetime in seconds (fractions allowed). Required here or in `defaults`. */
  ttl?: number
  /**
   * Seconds after expiry during which the old value is returned at once while one background call of the
   * loader refreshes it (RFC 5861's stale-while-revalidate, for values).
   * @default 0
   */
  staleWhileRevalidate?: number
  /**
   * Seconds after expiry during which the old value is returned when the loader throws or passes its soft
   * `timeout` (RFC 5861's stale-if-error, for values).
   * @default 0
   */
  staleIfError?: number
  /** Purge tags: `deleteByTag` and the signed purge webhook remove the value by any of them. @default [] */
  tags?: string[]
}

/** Options of `getOrSet` (and `wrap`): how the value is cached, and how the loader is run. */
export interface GetOrSetOptions extends DataEntryOptions {
  /**
   * Soft timeout, in ms: when the loader takes longer and a value within `staleIfError` exists, that value
   * is returned; the loader keeps running in the background and fills the cache when it finishes.
   * @default undefined (wait for the loader)
   */
  timeout?: number
  /**
   * Hard timeout, in ms: when the loader takes longer (and no stale value could be returned), the call
   * fails with a `LoaderTimeoutError`. The loader keeps running and fills the cache if it succeeds.
   * @default undefined (wait for the loader)
   */
  hardTimeout?: number
  /**
   * Seconds a "not found" (the loader returned `undefined`) is cached, so a flood of requests for a
   * missing row reaches the loader once. 0 caches nothing. Never longer than `ttl`.
   * @default 5
   */
  negativeTtl?: number
  /** Probabilistic early refresh (XFetch): `true` for β = 1. @default false */
  earlyRefresh?: boolean | EarlyRefreshOptions
}

/** Options with defaults applied, in ms. */
export interface ResolvedEntryOptions {
  lifetimeMs: number
  swrMs: number
  sieMs: number
  tags: string[]
  timeoutMs: number | undefined
  hardTimeoutMs: number | undefined
  negativeMs: number
  /** XFetch β, or 0 when early refresh is off. */
  beta: number
}

/** Default `negativeTtl`, in seconds. */
export const DEFAULT_NEGATIVE_TTL = 5

const KNOWN = new Set(['ttl', 'staleWhileRevalidate', 'staleIfError', 'tags', 'timeout', 'hardTimeout', 'negativeTtl', 'earlyRefresh', 'key'])

const seconds = (name: string, value: unknown, fallback: number, positive = false): number => {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    const example = name === 'ttl' ? '{ ttl: 60 } for a minute' : `{ ${name}: 30 } (seconds), or leave it out`
    throw new TypeError(`tiercache ${name} must be a ${positive ? 'positive' : 'non-negative'} number of seconds, got ${JSON.stringify(value) ?? String(value)}: write ${example}`)
  }
  return value * 1000
}

const millis = (name: string, value: unknown): number | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`tiercache ${name} must be a positive number of milliseconds, got ${JSON.stringify(value) ?? String(value)}: write { ${name}: 500 }, or leave it out to wait for the loader`)
  }
  return value
}

/**
 * Applies `defaults` under `options` and checks every field.
 * @throws {TypeError} naming the field and an example of a valid value
 */
export function resolveEntryOptions(options: GetOrSetOptions | undefined, defaults: GetOrSetOptions | undefined): ResolvedEntryOptions {
  const o = defaults ? { ...defaults, ...options } : (options ?? {})
  for (const name of Object.keys(o)) {
    if (!KNOWN.has(name)) throw new TypeError(`tiercache has no option "${name}": the options are ${[...KNOWN].filter((k) => k !== 'key').join(', ')}`)
  }
  if (o.ttl === undefined) {
    throw new TypeError('tiercache needs a ttl: write { ttl: 60 } (seconds), per call or in dataCache(c, { defaults: { ttl } })')
  }
  const lifetimeMs = seconds('ttl', o.ttl, 0, true)
  const early = o.earlyRefresh
  let beta = 0
  if (early === true) beta = 1
  else if (typeof early === 'object' && early !== null) {
    beta = early.beta ?? 1
    if (typeof beta !== 'number' || !Number.isFinite(beta) || beta <= 0) {
      throw new TypeError(`tiercache earlyRefresh.beta must be a positive number, got ${JSON.stringify(beta)}: write { earlyRefresh: { beta: 1 } }`)
    }
  } else if (early !== undefined && early !== false) {
    throw new TypeError(`tiercache earlyRefresh must be true, false or { beta }, got ${JSON.stringify(early)}`)
  }
  const hardTimeoutMs = millis('hardTimeout', o.hardTimeout)
  const timeoutMs = millis('timeout', o.timeout)
  if (timeoutMs !== undefined && hardTimeoutMs !== undefined && timeoutMs > hardTimeoutMs) {
    throw new TypeError(`tiercache timeout (${timeoutMs} ms) is the soft one and must not exceed hardTimeout (${hardTimeoutMs} ms)`)
  }
  return {
    lifetimeMs,
    swrMs: seconds('staleWhileRevalidate', o.staleWhileRevalidate, 0),
    sieMs: seconds('staleIfError', o.staleIfError, 0),
    tags: o.tags === undefined ? [] : checkTags(o.tags),
    timeoutMs,
    hardTimeoutMs,
    negativeMs: Math.min(lifetimeMs, seconds('negativeTtl', o.negativeTtl, DEFAULT_NEGATIVE_TTL * 1000)),
    beta,
  }
}
