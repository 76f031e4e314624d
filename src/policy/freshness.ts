/**
 * @module Freshness lifetime of a stored response in a shared cache (RFC 9111 §4.2.1, §4.2.2), plus
 * re-exports of the age and stale-window calculations that complete the freshness model.
 */
import type { Directives } from './cache-control.ts'
import { deltaSeconds } from './cache-control.ts'
import { parseHttpDate } from './http-date.ts'
import { HEURISTICALLY_CACHEABLE_STATUSES } from './status.ts'

export { ageHeaderValue, correctedInitialAge, currentAge, parseAge } from './age.ts'
export type { AgeInput } from './age.ts'
export { requestAllowsCached, staleWindows } from './stale.ts'
export type { CachedCandidate, StaleWindows } from './stale.ts'

/** Where a freshness lifetime came from; `'none'` means no lifetime could be determined (0). */
export const FreshnessSource = {
  SMaxAge: 's-maxage',
  MaxAge: 'max-age',
  Expires: 'expires',
  Heuristic: 'heuristic',
  None: 'none',
} as const
export type FreshnessSource = (typeof FreshnessSource)[keyof typeof FreshnessSource]

/** Default fraction of (Date − Last-Modified) used as a heuristic lifetime ("might be 10%", §4.2.2). */
export const DEFAULT_HEURISTIC_FRACTION = 0.1
/** Default upper bound on a heuristic lifetime: 24 hours. */
export const DEFAULT_HEURISTIC_MAX_MS = 24 * 60 * 60 * 1000

/** The response as {@link freshnessLifetime} needs it. */
export type FreshnessInput = {
  status: number
  headers: Headers
  /** The governing directives (from `selectTargetedDirectives`). */
  directives: Directives
  /**
   * Which field `directives` came from. A targeted field (anything but `'cache-control'`) makes the
   * cache "ignore the Cache-Control and Expires header fields" (RFC 9213 §2.2).
   * @default 'cache-control'
   */
  source?: string
  /**
   * When the response was received (ms). Used as the `Date` value when `Date` is missing or invalid
   * (RFC 9110 §6.6.1). Without either, `Expires` yields 0 and no heuristic applies.
   */
  responseTime?: number
}

/** Options for {@link freshnessLifetime}. */
export type FreshnessOptions = {
  /** Fraction of the time since Last-Modified used as a heuristic lifetime; 0 disables. @default 0.1 */
  heuristicFraction?: number
  /** Upper bound on a heuristic lifetime in ms. @default 86_400_000 (24 h) */
  heuristicMaxMs?: number
  /** Statuses that may get a heuristic lifetime. @default HEURISTICALLY_CACHEABLE_STATUSES */
  heuristicStatuses?: ReadonlySet<number>
  /** tiercache is a shared cache: `s-maxage` applies. */
  shared: true
}

/**
 * The freshness lifetime of a response in a shared cache, in ms, by the RFC 9111 §4.2.1 order ("the
 * first match wins"):
 *
 * 1. `s-maxage` ("If the cache is shared and the s-maxage response directive is present, use its
 *    value"; it also means "a shared cache recipient MUST ignore the Expires header field", §5.3);
 * 2. `max-age`;
 * 3. `Expires` − `Date` (never negative). "A cache recipient MUST interpret invalid date formats,
 *    especially the value "0", as representing a time in the past (i.e., "already expired")" (§5.3),
 *    so an invalid `Expires` (including duplicate lines joined by a comma) gives 0. Ignored when the
 *    directives come from a targeted field (RFC 9213 §2.2);
 * 4. a heuristic: `heuristicFraction` × (`Date` − `Last-Modified`), capped at `heuristicMaxMs`, only
 *    when there is no explicit expiration time and §4.2.2 allows it: "heuristics can only be used on
 *    responses without explicit freshness whose status codes are defined as heuristically cacheable
 *    ... and on responses without explicit freshness that have been marked as explicitly cacheable
 *    (e.g., with a public response directive)". Without a usable `Last-Modified` the result is `none`.
 *
 * Invalid `s-maxage`/`max-age` arguments read as 0 (see `deltaSeconds`).
 *
 * @example freshnessLifetime({ status: 200, headers, directives: parseCacheControl('s-maxage=60, max-age=10') }, { shared: true })
 * // { lifetimeMs: 60000, source: 's-maxage' }
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.2.1
 */
export function freshnessLifetime(
  res: FreshnessInput,
  options: FreshnessOptions
): { lifetimeMs: number; source: FreshnessSource } {
  const d = res.directives
  const sMaxAge = deltaSeconds(d, 's-maxage')
  if (sMaxAge !== undefined) return { lifetimeMs: sMaxAge * 1000, source: FreshnessSource.SMaxAge }
  const maxAge = deltaSeconds(d, 'max-age')
  if (maxAge !== undefined) return { lifetimeMs: maxAge * 1000, source: FreshnessSource.MaxAge }

  const dateValue = parseHttpDate(res.headers.get('date')) ?? res.responseTime
  const targeted = (res.source ?? 'cache-control') !== 'cache-control'
  const expiresField = targeted ? null : res.headers.get('expires')
  if (expiresField !== null) {
    const expires = parseHttpDate(expiresField)
    // "freshness_lifetime = expires_value - date_value"; invalid or undatable → already expired.
    const lifetimeMs =
      expires === undefined || dateValue === undefined ? 0 : Math.max(0, expires - dateValue)
    return { lifetimeMs, source: FreshnessSource.Expires }
  }

  const statuses = options.heuristicStatuses ?? HEURISTICALLY_CACHEABLE_STATUSES
  if (!statuses.has(res.status) && !d.has('public')) return { lifetimeMs: 0, source: 'none' }
  const lastModified = parseHttpDate(res.headers.get('last-modified'))
  if (lastModified === undefined || dateValue === undefined || lastModified > dateValue) {
    return { lifetimeMs: 0, source: FreshnessSource.None }
  }
  // "If the response has a Last-Modified header field, caches are encouraged to use a heuristic
  // expiration value that is no more than some fraction of the interval since that time." (§4.2.2)
  const fraction = options.heuristicFraction ?? DEFAULT_HEURISTIC_FRACTION
  const maxMs = options.heuristicMaxMs ?? DEFAULT_HEURISTIC_MAX_MS
  const lifetimeMs = Math.max(0, Math.min(Math.floor((dateValue - lastModified) * fraction), maxMs))
  return { lifetimeMs, source: FreshnessSource.Heuristic }
}

/**
 * Whether a response with this lifetime and age is fresh (RFC 9111 §4.2: "response_is_fresh =
 * (freshness_lifetime > current_age)").
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.2
 */
export const isFresh = (lifetimeMs: number, currentAgeMs: number): boolean =>
  lifetimeMs > currentAgeMs
