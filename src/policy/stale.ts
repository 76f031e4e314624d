/**
 * @module When a stored response may be served stale (RFC 9111 §4.2.4, RFC 5861) and whether a
 * request accepts a stored response at all (RFC 9111 §5.2.1).
 */
import type { Directives } from './cache-control.ts'
import { deltaSeconds } from './cache-control.ts'

/** The stale-serving allowances of a stored response, from {@link staleWindows}. */
export type StaleWindows = {
  /** `stale-while-revalidate` window in ms (0 when not allowed). */
  swrMs: number
  /** `stale-if-error` window in ms (0 when not allowed). */
  sieMs: number
  /** Serving stale is forbidden: `must-revalidate`, `proxy-revalidate` or `s-maxage`. */
  mustRevalidate: boolean
  /** Unqualified `no-cache`: stored, but validated before every use. */
  noCache: boolean
}

const seconds = (d: Directives, name: string): number => (deltaSeconds(d, name) ?? 0) * 1000

/**
 * The stale windows of a stored response (RFC 5861 §3, §4; RFC 9111 §4.2.4).
 *
 * - `stale-while-revalidate=N`: may be served up to N s stale while revalidating in the background.
 * - `stale-if-error=N`: may be served up to N s stale when revalidation fails (5xx, network error).
 *   A request's own `stale-if-error=N` widens this for that request (RFC 5861 §4: "When used as a
 *   request Cache-Control extension, its scope of application is the request it appears in").
 * - RFC 9111 §4.2.4: "A cache MUST NOT generate a stale response if it is prohibited by an explicit
 *   in-protocol directive (e.g., by a no-cache response directive, a must-revalidate response
 *   directive, or an applicable s-maxage or proxy-revalidate response directive". `s-maxage` "also
 *   implies the semantics of the proxy-revalidate response directive" (§5.2.2.10). All of these zero
 *   both windows; `must-revalidate`, `proxy-revalidate` and `s-maxage` set `mustRevalidate`,
 *   unqualified `no-cache` sets `noCache`.
 * - A request with `no-cache` wants validation first, so it gets no `stale-while-revalidate`.
 *
 * Invalid or missing arguments give a 0 window.
 *
 * @example staleWindows(parseCacheControl('max-age=60, stale-while-revalidate=30'))
 * // { swrMs: 30000, sieMs: 0, mustRevalidate: false, noCache: false }
 * @see https://www.rfc-editor.org/rfc/rfc5861
 */
export function staleWindows(directives: Directives, requestDirectives?: Directives): StaleWindows {
  const mustRevalidate =
    directives.has('must-revalidate') ||
    directives.has('proxy-revalidate') ||
    directives.has('s-maxage')
  // Only the unqualified form applies to the whole response; qualified fields are stripped at store.
  const noCache = directives.get('no-cache') === true
  if (mustRevalidate || noCache) return { swrMs: 0, sieMs: 0, mustRevalidate, noCache }
  const requestNoCache = requestDirectives?.has('no-cache') === true
  const swrMs = requestNoCache ? 0 : seconds(directives, 'stale-while-revalidate')
  const requestSie = requestDirectives === undefined ? 0 : seconds(requestDirectives, 'stale-if-error')
  const sieMs = Math.max(seconds(directives, 'stale-if-error'), requestSie)
  return { swrMs, sieMs, mustRevalidate, noCache }
}

/** Input to {@link requestAllowsCached}. */
export type CachedCandidate = {
  /** The stored response's current age in ms. */
  currentAgeMs: number
  /** Its freshness lifetime in ms. */
  lifetimeMs: number
  /** The response forbids serving stale (`staleWindows(...).mustRevalidate`); max-stale is then void. */
  mustRevalidate?: boolean
  /** The response has unqualified `no-cache`: it is never used without validation. */
  noCache?: boolean
}

/**
 * Whether a request's directives (RFC 9111 §5.2.1) allow a stored response to be used without
 * contacting the origin, and how much staleness the client accepts (`allowStaleMs`: `Infinity` for a
 * bare `max-stale`, 0 when none).
 *
 * - `no-cache` (or `Pragma: no-cache`, see `parseRequestDirectives`): "the client prefers a stored
 *   response not be used to satisfy the request without successful validation" (§5.2.1.4).
 * - `max-age=N`: "the client prefers a response whose age is less than or equal to the specified
 *   number of seconds" (§5.2.1.1); compared in ms, so `max-age=0` forces validation.
 * - `min-fresh=N`: "a response whose freshness lifetime is no less than its current age plus the
 *   specified time in seconds" (§5.2.1.3).
 * - `max-stale[=N]`: "the client will accept a response that has exceeded its freshness lifetime" by
 *   no more than N s, or by any amount without N (§5.2.1.2). An invalid N allows no staleness.
 *   Void when the response has `must-revalidate`/`proxy-revalidate`/`s-maxage` (§5.2.2.2:
 *   "must-revalidate ... MUST NOT reuse it to satisfy another request until it has been successfully
 *   validated").
 *
 * A response is fresh when `lifetimeMs > currentAgeMs` (§4.2: "response_is_fresh =
 * (freshness_lifetime > current_age)").
 *
 * @example requestAllowsCached(parseCacheControl('max-stale=10'), { currentAgeMs: 65_000, lifetimeMs: 60_000 })
 * // { ok: true, allowStaleMs: 10000 }
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.2.1
 */
export function requestAllowsCached(
  requestDirectives: Directives,
  candidate: CachedCandidate
): { ok: boolean; allowStaleMs: number } {
  const { currentAgeMs: age, lifetimeMs: lifetime } = candidate
  const maxStale = requestDirectives.get('max-stale')
  const allowStaleMs =
    maxStale === undefined || candidate.mustRevalidate === true
      ? 0
      : maxStale === true
        ? Number.POSITIVE_INFINITY
        : (deltaSeconds(requestDirectives, 'max-stale') ?? 0) * 1000

  if (requestDirectives.has('no-cache') || candidate.noCache === true) return { ok: false, allowStaleMs }

  const maxAge = deltaSeconds(requestDirectives, 'max-age')
  if (maxAge !== undefined && age > maxAge * 1000) return { ok: false, allowStaleMs }

  const minFresh = deltaSeconds(requestDirectives, 'min-fresh')
  if (minFresh !== undefined && lifetime < age + minFresh * 1000) return { ok: false, allowStaleMs }

  const fresh = lifetime > age
  if (fresh) return { ok: true, allowStaleMs }
  // Stale: acceptable only within max-stale. With max-stale=N, "exceeded its freshness lifetime by no
  // more than" N seconds.
  const ok = maxStale !== undefined && candidate.mustRevalidate !== true && age - lifetime <= allowStaleMs
  return { ok, allowStaleMs }
}
