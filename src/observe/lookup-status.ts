/**
 * @module What one lookup did, tier by tier: the stack records it and the response shows it as
 * `Cache-Status` (RFC 9211) and `Server-Timing` (W3C Server Timing).
 *
 * RFC 9211 §2: entries are listed in the order caches handled the response, the cache closest to the
 * origin first. Our chain is origin ← redis ← edge ← memory ← client, so entries are emitted Redis
 * first and memory last.
 */
import type { LatencySink } from './latency.ts'

/** Names in `Cache-Status`, one per tier (and one for bypassed requests). */
export const CACHE_STATUS_NAMES = {
  memory: 'tiercache-memory',
  edge: 'tiercache-edge',
  redis: 'tiercache-redis',
  bypass: 'tiercache',
} as const
type StatusName = keyof typeof CACHE_STATUS_NAMES

/** RFC 9211 §2.2 `fwd` values we use. */
export type Forward = 'bypass' | 'method' | 'miss' | 'vary-miss' | 'stale' | 'request' | 'uri-miss'

/** One tier's `Cache-Status` entry. */
export interface StatusEntry {
  hit?: boolean
  fwd?: Forward
  fwdStatus?: number
  /** Remaining freshness in seconds (negative when stale), RFC 9211 §2.4. */
  ttl?: number
  stored?: boolean
  collapsed?: boolean
  detail?: string
  /** Extension parameter: the staleness bound δ in force for this hit, in ms (design.md §5). */
  delta?: number
  /** Extension parameter: age of this isolate's purge-log view when it served the hit, in ms. */
  viewAge?: number
  /**
   * Extension parameter: the per-user or per-cohort bucket the key selected (`user:<8 chars of the
   * identity hash>`, `cohort:<8 chars of the cohort id>`), never the identity or the cohort's values.
   */
  bucket?: string
}

const ORDER: StatusName[] = ['bypass', 'redis', 'edge', 'memory']

const serialiseDetail = (detail: string): string =>
  /^[A-Za-z*][A-Za-z0-9:/!#$%&'*+.^_`|~-]*$/.test(detail) ? detail : `"${detail.replace(/["\\]/g, '\\$&')}"`

/**
 * Accumulates per-tier outcomes and durations for one request. Built for every request, so it is cheap
 * when little happens (a memory hit notes one entry and times nothing): entries are merged in place, and
 * the header values are built by string concatenation.
 */
export class LookupStatus {
  readonly entries = new Map<StatusName, StatusEntry>()
  readonly timings = new Map<string, number>()
  /** The tier (or origin) that produced the body, for stats. */
  servedBy: 'memory' | 'edge' | 'redis' | 'origin' | undefined
  /** Short outcome for stats: hit, stale, revalidated, miss, bypass, error. */
  outcome = 'miss'
  /** Where the `Server-Timing` durations go once reported (the engine's latency histograms). */
  readonly #latency: LatencySink | undefined
  #reported = false

  constructor(latency?: LatencySink) {
    this.#latency = latency
  }

  /** Merges `entry` into the named tier's entry (the first one noted is kept as given: callers pass literals). */
  note(name: StatusName, entry: StatusEntry): void {
    const previous = this.entries.get(name)
    if (previous) Object.assign(previous, entry)
    else this.entries.set(name, entry)
  }

  /** Adds `ms` to a named `Server-Timing` metric. */
  time(name: string, ms: number): void {
    this.timings.set(name, (this.timings.get(name) ?? 0) + ms)
  }

  /** Runs `operation`, timing it under `name`. */
  async timed<T>(name: string, operation: () => Promise<T>): Promise<T> {
    const started = performance.now()
    try {
      return await operation()
    } finally {
      this.time(name, performance.now() - started)
    }
  }

  /** The `Cache-Status` header value (RFC 9211 §2). */
  cacheStatus(): string {
    let out = ''
    for (const name of ORDER) {
      const e = this.entries.get(name)
      if (!e) continue
      let member = CACHE_STATUS_NAMES[name]
      if (e.hit) member += '; hit'
      if (e.fwd) member += `; fwd=${e.fwd}`
      if (e.fwdStatus !== undefined) member += `; fwd-status=${e.fwdStatus}`
      if (e.ttl !== undefined) member += `; ttl=${e.ttl}`
      if (e.stored) member += '; stored'
      if (e.collapsed) member += '; collapsed'
      if (e.delta !== undefined) member += `; delta=${e.delta}`
      if (e.viewAge !== undefined) member += `; view-age=${e.viewAge}`
      if (e.bucket) member += `; bucket="${e.bucket}"`
      if (e.detail) member += `; detail=${serialiseDetail(e.detail)}`
      out = out ? `${out}, ${member}` : member
    }
    return out
  }

  /**
   * The `Server-Timing` header value: one metric per tier consulted, durations in ms. The first call also
   * records each duration in the latency histograms, so the dashboard's percentiles are exactly what
   * clients were told (once per request, however many times the header is built).
   */
  serverTiming(): string {
    if (this.timings.size === 0) return ''
    const latency = this.#reported ? undefined : this.#latency
    this.#reported = true
    let out = ''
    for (const [name, ms] of this.timings) {
      latency?.record(name, ms)
      out = `${out ? `${out}, ` : ''}${name};dur=${ms.toFixed(1)}`
    }
    return out
  }
}
