/**
 * @module The stored envelope. Every tier keeps the same versioned record: a cached response
 * ({@link CacheEntry}) or, at a URL whose responses vary, the list of request headers they vary on
 * ({@link VaryIndex}). `src/codec.ts` turns either into bytes (Redis, edge metadata) and back.
 */

/** Bit flags on {@link CacheEntry.flags}. */
export const EntryFlag = {
  /** `must-revalidate` / `proxy-revalidate` / `s-maxage`: never served stale (RFC 9111 §4.2.4). */
  MustRevalidate: 1,
  /** `no-cache`: stored, but revalidated before every use (RFC 9111 §5.2.2.4). */
  NoCache: 2,
  /**
   * `public`, `s-maxage` or `must-revalidate` present: may answer a request carrying credentials
   * (`Authorization`, and by tiercache's rule also `Cookie`) (RFC 9111 §3.5).
   */
  SharedWithCredentials: 4,
  /** Cached per user (opt-in route): kept out of the edge tier, sent to clients as `private`. */
  PerUser: 8,
  /**
   * Keyed on something `Vary` cannot name (a cohort cookie): sent to clients as `private`, so no shared
   * cache downstream stores it under the URL alone.
   */
  PrivateDownstream: 16,
} as const
export type EntryFlag = (typeof EntryFlag)[keyof typeof EntryFlag]

/** A stored response. Times are ms since the epoch. */
export interface CacheEntry {
  kind: 'entry'
  status: number
  /** Response headers as stored: lower-case names, no hop-by-hop, no `Set-Cookie`, no `Age`. */
  headers: Array<[string, string]>
  /** The decoded body bytes (content codings re-applied by the runtime on the way out). */
  body: Uint8Array
  /**
   * When the response was generated at the origin: response_time − corrected_initial_age
   * (RFC 9111 §4.2.3), so that current_age = now − bornAt in every tier.
   */
  bornAt: number
  /** When this copy was filled (the fill's response time); compared with purge times. */
  storedAt: number
  /** Freshness lifetime (RFC 9111 §4.2.1). */
  lifetimeMs: number
  /** `stale-while-revalidate` window after expiry (RFC 5861 §3); 0 when absent or forbidden. */
  swrMs: number
  /** `stale-if-error` window after expiry (RFC 5861 §4); 0 when absent or forbidden. */
  sieMs: number
  /** {@link EntryFlag} bits. */
  flags: number
  /** Purge tags (from `Cache-Tag` / `Surrogate-Key` and route config). */
  tags: string[]
  /** Purge-log position when the fill began (fenced fills). */
  purgeSeq: number
}

/** Stored at a URL's primary key when its responses carry `Vary`: which request headers select a variant. */
export interface VaryIndex {
  kind: 'vary'
  /** Lower-cased, sorted header names from the response's `Vary`. */
  varyOn: string[]
  /** Variant key suffixes seen (bounded), so a purge by URL can find every variant. */
  variants: string[]
  /** When the index stops being useful (the longest-lived variant's storage expiry). */
  expiresAt: number
}

/** What a tier stores at a key. */
export type Stored = CacheEntry | VaryIndex

/** Current age in ms (RFC 9111 §4.2.3). */
export const currentAge = (entry: CacheEntry, now: number): number => Math.max(0, now - entry.bornAt)

/** Remaining freshness in ms; negative once stale. */
export const remainingFreshness = (entry: CacheEntry, now: number): number =>
  entry.lifetimeMs - currentAge(entry, now)

/**
 * How long a tier should keep the entry from `now`: freshness plus the longest stale window — its own
 * `stale-while-revalidate` / `stale-if-error`, and `graceMs` (served while the origin is unreachable) unless
 * it forbids stale — plus `keepMs` for entries with validators so they can still be revalidated with a 304.
 */
export const storageTtl = (entry: CacheEntry, now: number, keepMs: number, graceMs = 0): number => {
  const hasValidators = entry.headers.some(([name]) => name === 'etag' || name === 'last-modified')
  const mayServeStale = !(entry.flags & (EntryFlag.MustRevalidate | EntryFlag.NoCache))
  const tail = Math.max(entry.swrMs, entry.sieMs, hasValidators ? keepMs : 0, mayServeStale ? graceMs : 0)
  return remainingFreshness(entry, now) + tail
}

/** Header value from a stored entry (names are stored lower-case). */
export const entryHeader = (entry: CacheEntry, name: string): string | undefined =>
  entry.headers.find(([n]) => n === name)?.[1]

/** Approximate bytes an entry occupies in memory, for the memory tier's budget. */
export const entrySize = (stored: Stored, key: string): number => {
  const base = 128 + key.length * 2
  if (stored.kind === 'vary') {
    return base + stored.varyOn.join('').length * 2 + stored.variants.join('').length * 2
  }
  let headerBytes = 0
  for (const [n, v] of stored.headers) headerBytes += (n.length + v.length) * 2 + 32
  return base + headerBytes + stored.body.byteLength + stored.tags.join('').length * 2
}
