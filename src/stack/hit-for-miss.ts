/**
 * @module Hit-for-miss markers in one isolate: after the origin answered a key with something that may
 * not be shared, later requests for it skip the lookup and go straight to the origin for a while (Varnish's
 * hit-for-miss), so an uncacheable URL does not serialise its requests behind a fill that never comes.
 *
 * Markers are per key **and per kind of request**: a request carrying credentials (Authorization, Cookie)
 * may get an answer the origin would never give an anonymous request (a personalised page, `private`), so
 * its uncacheable answer says nothing about the anonymous one and must not switch caching off for everyone.
 * The same split applies to the marker kept in Redis for other isolates (src/tiers/redis.ts).
 */

/** Which requests a marker speaks for. */
export type RequestKind = 'anonymous' | 'credentialed'

/** How long a marker sends later requests straight to the origin (Varnish uses 120 s). */
export const HIT_FOR_MISS_MS = 30_000

/** Markers kept per isolate; past it the table is cleared (they are an optimisation, never a rule). */
const MAX_MARKERS = 10_000

export class HitForMiss {
  readonly #until = new Map<string, number>()

  /** Whether requests of `kind` for `key` should skip the cache at `now`. */
  active(key: string, kind: RequestKind, now: number): boolean {
    const until = this.#until.get(`${kind}\n${key}`)
    return until !== undefined && until > now
  }

  /** Marks `key` uncacheable for requests of `kind` until `now + ms`. */
  mark(key: string, kind: RequestKind, now: number, ms = HIT_FOR_MISS_MS): void {
    if (this.#until.size >= MAX_MARKERS) this.#until.clear()
    this.#until.set(`${kind}\n${key}`, now + ms)
  }

  /** Drops the marker: the origin has just given a storable answer for `key`. */
  clear(key: string, kind: RequestKind): void {
    this.#until.delete(`${kind}\n${key}`)
  }
}
