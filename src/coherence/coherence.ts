/**
 * @module Bounded-staleness coherence for one isolate.
 *
 * Workers cannot hold a pub/sub subscription, so isolates pull: before serving a hit, an isolate makes
 * sure its view of the purge log is younger than δ, refreshing it from Redis when it is not (one
 * refresh, shared by every concurrent request of the isolate through a latch, never a shared promise).
 * Every hit, from any tier, is then judged against the records after the position it was filled at:
 * purged entries are refused, soft-purged ones turn stale, and ones filled before the oldest record
 * this isolate holds are revalidated. Cost: normally one Upstash request per isolate per δ, or, with
 * the edge tier's Cache API, about one per data centre per δ: the isolates of a data centre share what
 * one of them read (src/coherence/colo-view.ts), and a shared copy counts as old as its Redis read.
 *
 * A view is fresh only when the refresh read everything up to the log's head. A refresh follows the
 * log a page at a time, up to {@link MAX_PAGES} pages; an isolate further behind than that (it slept
 * through a purge storm), or behind records the log no longer keeps, resynchronises instead: it drops
 * its memory tier and keeps only the newest page, so every older entry in a shared tier is revalidated.
 * Either way the δ bound holds however many purges arrived while it slept.
 *
 * Failure (availability first): when Redis cannot be read the isolate keeps serving and the growing
 * view age shows in `Cache-Status`. The read goes through the Redis breaker, shared with the Redis
 * tier: the first failures cost their requests the Redis deadline, then the open breaker skips the read
 * and no request waits. After a failure only the request that retries waits for the retry (or none,
 * when it can hand the retry to `waitUntil`).
 */
import type { CacheEntry } from '../entry.ts'
import { LOG_RETENTION_BYTES, LOG_RETENTION_COUNT, ReadMode, type LogRead, type PurgeLog } from './purge-log.ts'
import { judge, type PurgeRecord, type Verdict } from './purge-record.ts'
import { SHARED_TAIL_DELTAS, tailOf, type ColoEvent, type ColoView, type SharedView } from './colo-view.ts'

/** Records an isolate keeps (as many as the log); entries filled before the oldest are revalidated. */
export const WINDOW_RECORDS = LOG_RETENTION_COUNT
/** Bytes of records an isolate keeps (estimated from their JSON, as in the log). */
export const WINDOW_BYTES = LOG_RETENTION_BYTES
/**
 * Pages one refresh may follow before it resynchronises instead. Normally one page (one request) has
 * everything; with the log's count and byte bounds, three pages hold the whole log.
 */
export const MAX_PAGES = 3

/** What the coherence layer does to an isolate's memory when records arrive, and what it reports. */
export interface CoherenceHooks {
  /** Hard-purge records to evict from memory. */
  evict(records: readonly PurgeRecord[]): void
  /** The isolate cannot judge what its memory holds (it resynchronised): drop the whole memory tier. */
  flush(): void
  /** Counts refresh events (for stats). @default nothing */
  count?(event: CoherenceEvent): void
}

/**
 * What a refresh did: read a page, failed, was skipped by the open breaker, or resynchronised; or what
 * it did with the data centre's shared copy (src/coherence/colo-view.ts).
 */
export type CoherenceEvent = 'log_reads' | 'log_read_failures' | 'log_reads_skipped' | 'log_resyncs' | ColoEvent

/** `ctx.waitUntil`, so a retry after a failure can run without any request waiting for it. */
export interface Background {
  waitUntil(promise: Promise<unknown>): void
}

/** A refresh in flight, as other requests of the isolate see it (plain data: they poll it). */
interface Refresh {
  startedAt: number
  done: boolean
  /** Started while Redis was failing: no request but its own waits for it. */
  afterFailure: boolean
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The JSON size of a record, as the log counts it (close enough for the window's byte bound). */
const recordBytes = (r: PurgeRecord): number => {
  let bytes = 64
  for (const list of [r.urls, r.tags, r.prefixes]) for (const item of list) bytes += item.length + 3
  return bytes
}

export class Coherence {
  readonly #log: PurgeLog | undefined
  readonly #hooks: CoherenceHooks
  readonly #now: () => number
  /** Longest a refresh can take (every page and a resync at the Redis deadline); past it, it was lost. */
  readonly #refreshLimitMs: number
  #knownSeq = -1
  /** Lowest seq from which on every record up to {@link knownSeq} is held. */
  #windowStart = 0
  /** Records held, sorted by seq. */
  #records: PurgeRecord[] = []
  #sizes: number[] = []
  #bytes = 0
  readonly #seqs = new Set<number>()
  /** When the last complete refresh started: every purge committed before it is known. */
  #viewAt = Number.NEGATIVE_INFINITY
  #refresh: Refresh | undefined
  /** The last refresh failed or was skipped by the open breaker: Redis is suspect until one succeeds. */
  #failing = false
  /** Highest seq this isolate committed itself (its own purges are known before the log is read). */
  #committed = 0
  /** The data centre's shared copy of the view, when the Cache API is there to hold it. */
  readonly #colo: ColoView | undefined

  /**
   * @param options.colo the data centre's shared view: refreshes take it from there when it is younger
   *   than δ, and publish there what they read from Redis. @default undefined (every refresh reads Redis)
   */
  constructor(log: PurgeLog | undefined, hooks: CoherenceHooks, options: { now: () => number; waitMs: number; colo?: ColoView }) {
    this.#log = log
    this.#hooks = hooks
    this.#now = options.now
    this.#colo = log ? options.colo : undefined
    // A refresh may first wait out another isolate's lease on the shared copy.
    this.#refreshLimitMs = options.waitMs * (MAX_PAGES + 2) + (this.#colo?.leaseMs ?? 0)
  }

  /** Whether the purge log is shared (Redis configured); without it coherence is local only. */
  get shared(): boolean {
    return this.#log !== undefined
  }

  /** The last log position this isolate knows (0 before the first read). */
  get knownSeq(): number {
    return Math.max(0, this.#knownSeq)
  }

  /**
   * The position a fill starting now is fenced from: everything up to it was committed before the
   * fill began. Purges this isolate committed count at once; others once the log has been read.
   */
  get fillSeq(): number {
    return Math.max(this.knownSeq, this.#committed)
  }

  /** Records a purge this isolate committed (its record is applied through {@link apply} too). */
  committed(seq: number): void {
    this.#committed = Math.max(this.#committed, seq)
  }

  /** Age of this isolate's view of the log, in ms (Infinity before the first complete refresh). */
  viewAge(now = this.#now()): number {
    return now - this.#viewAt
  }

  /** Whether the last refresh failed or was skipped (Redis unreadable; hits are served on an ageing view). */
  get failing(): boolean {
    return this.#failing
  }

  /** What this isolate holds of the log, for the health route. */
  window(): { knownSeq: number; windowStart: number; records: number; bytes: number } {
    return { knownSeq: this.#knownSeq, windowStart: this.#windowStart, records: this.#records.length, bytes: this.#bytes }
  }

  /** The newest `limit` records this isolate holds, newest first (for the dashboard). */
  recent(limit: number): readonly PurgeRecord[] {
    return this.#records.slice(-limit).reverse()
  }

  /** Whether the view is older than `deltaMs` (a synchronous check, so hits pay no await when it is fresh). */
  isStale(deltaMs: number): boolean {
    return this.#log !== undefined && this.viewAge() >= deltaMs
  }

  /**
   * Makes the view younger than `deltaMs` when Redis allows, refreshing it if it is not. Concurrent
   * callers share one refresh, each waiting with its own timers. Nobody waits while the breaker is
   * open; after a failure only the caller that retries waits, and not even it when it passes
   * `background` (the retry then runs in `waitUntil`). `share` is where publishing the view for the
   * data centre's other isolates runs (default `background`; without either, the caller awaits it).
   */
  async ensureFresh(deltaMs: number, background?: Background, share: Background | undefined = background): Promise<void> {
    const log = this.#log
    if (!log || this.viewAge() < deltaMs) return
    const running = this.#refresh
    if (running && !running.done && this.#now() - running.startedAt < this.#refreshLimitMs) {
      if (!running.afterFailure) await this.#waitFor(running)
      return
    }
    const gate = log.mayRead()
    if (gate === 'no') {
      // Redis is being skipped: the view cannot be refreshed, which counts as failing until one succeeds.
      this.#failing = true
      this.#hooks.count?.('log_reads_skipped')
      return
    }
    const refresh: Refresh = { startedAt: this.#now(), done: false, afterFailure: this.#failing || gate === 'trial' }
    this.#refresh = refresh
    // A half-open breaker's trial must reach Redis: taken by a shared copy, it would never report back and
    // the breaker (shared with the Redis tier) would stay open a cool-down longer.
    const work = this.#run(log, deltaMs, share, gate === 'yes').finally(() => {
      refresh.done = true
      if (this.#refresh === refresh) this.#refresh = undefined
    })
    if (refresh.afterFailure && background) return background.waitUntil(work)
    // The request that started the refresh awaits it itself: its I/O belongs to this request, and a
    // request that returned first would leave it unsettled.
    await work
  }

  /** Polls another request's refresh until it is done or could no longer be running. */
  async #waitFor(refresh: Refresh): Promise<void> {
    const deadline = performance.now() + this.#refreshLimitMs - (this.#now() - refresh.startedAt)
    let step = 1
    while (!refresh.done && performance.now() < deadline) {
      await sleep(step)
      step = Math.min(step * 2, 10)
    }
  }

  /**
   * One refresh: take the data centre's shared copy when it is younger than δ (or wait for the isolate
   * refreshing it); otherwise follow the log page by page until its head, or resynchronise when that
   * takes more than {@link MAX_PAGES} pages or the log cannot be followed from here. The view is fresh
   * (as of the Redis read's start) only once everything up to the head was read; then it is shared.
   */
  async #run(log: PurgeLog, deltaMs: number, share: Background | undefined, mayShare: boolean): Promise<void> {
    try {
      if (mayShare && (await this.#fromColo(deltaMs))) return
      const startedAt = this.#now()
      let read = await this.#read(log, this.#knownSeq)
      for (let page = 1; !read.complete && page < MAX_PAGES; page++) read = await this.#read(log, this.#knownSeq)
      if (!read.complete) read = await this.#read(log, -1)
      if (!read.complete) return
      this.#viewAt = startedAt
      this.#failing = false
      if (this.#colo?.enabled()) {
        // The view is fresh already: publishing is for the other isolates, and no request need wait for it.
        const published = this.#colo.publish({ readAt: startedAt, current: this.#knownSeq, ...tailOf(this.#records, this.#sizes, this.#windowStart, this.#knownSeq, SHARED_TAIL_DELTAS * deltaMs) })
        if (share) share.waitUntil(published)
        else await published
      }
    } catch (error) {
      this.#failing = true
      this.#hooks.count?.('log_read_failures')
      console.warn(`[tiercache] purge log unavailable: ${(error as Error).message}`)
    }
  }

  /**
   * Takes the view from the data centre's shared copy, if it is younger than δ; when it is not and another
   * isolate holds the refresh marker, polls for that isolate's copy until its lease ends. False: read
   * Redis. A first refresh always reads Redis (a whole page, where the shared tail may be shorter).
   */
  async #fromColo(deltaMs: number): Promise<boolean> {
    const colo = this.#colo
    if (!colo || this.#knownSeq < 0 || !colo.enabled()) return false
    const { view: seen, marker } = await colo.look()
    if (this.#adopt(seen, deltaMs)) return true
    const claim = await colo.claim(seen?.readAt, marker)
    if (claim.mine) return false
    const deadline = performance.now() + claim.since + colo.leaseMs - this.#now()
    let step = 2
    while (performance.now() < deadline) {
      await sleep(step)
      step = Math.min(step * 2, 20)
      const next = await colo.read()
      if (this.#adopt(next, deltaMs)) {
        this.#hooks.count?.('log_shared_waits')
        return true
      }
      // The holder published, and it is no use to us (we cannot follow it): read Redis now, not at the lease's end.
      if (next && next.readAt >= claim.since) return false
    }
    return false
  }

  /**
   * Adopts a shared copy younger than δ and newer than this view, when this isolate can follow it (it
   * holds every record up to the copy's `from`). The view is then as old as the copy's Redis read.
   */
  #adopt(view: SharedView | undefined, deltaMs: number): boolean {
    if (!view) return false
    const now = this.#now()
    if (now - view.readAt >= deltaMs || view.readAt <= this.#viewAt || this.#knownSeq < view.from) return false
    this.apply(view.records)
    this.#knownSeq = Math.max(this.#knownSeq, view.current)
    this.#viewAt = Math.min(view.readAt, now)
    this.#hooks.count?.('log_shared_reads')
    return true
  }

  async #read(log: PurgeLog, from: number): Promise<LogRead> {
    const read = await log.read(from)
    this.#hooks.count?.('log_reads')
    this.#absorb(read)
    return read
  }

  #absorb(read: LogRead): void {
    const known = this.#knownSeq
    // A newest page that reaches back to what we hold leaves no gap: it is followed like any page.
    if (read.mode === ReadMode.Tail && !(known >= 0 && read.from <= known && known <= read.current)) {
      // Records between what we hold and this page are unknown to us: entries filled before the page
      // are revalidated, and memory (which cannot be revalidated entry by entry for free) is dropped.
      if (known >= 0) {
        this.#hooks.flush()
        this.#hooks.count?.('log_resyncs')
      }
      // Ahead of the log's head: the log lost its data, and nothing we hold belongs to it.
      this.#dropThrough(known > read.current ? Number.POSITIVE_INFINITY : read.from)
      this.#windowStart = read.from + 1
      this.#knownSeq = read.from
    }
    this.apply(read.records)
    this.#knownSeq = Math.max(this.#knownSeq, read.complete ? read.current : read.last)
  }

  /** Adds records (from a log read, or from a purge this isolate just committed) and evicts memory. */
  apply(records: readonly PurgeRecord[]): void {
    const fresh: PurgeRecord[] = []
    for (const raw of records) {
      const record = normalise(raw)
      if (record.seq <= this.#knownSeq || this.#seqs.has(record.seq)) continue
      fresh.push(record)
      this.#insert(record)
    }
    if (fresh.length === 0) return
    this.#trimWindow()
    const hard = fresh.filter((r) => !r.soft)
    if (hard.length > 0) this.#hooks.evict(hard)
  }

  #insert(record: PurgeRecord): void {
    const size = recordBytes(record)
    this.#seqs.add(record.seq)
    this.#bytes += size
    const last = this.#records.at(-1)
    if (!last || last.seq < record.seq) {
      this.#records.push(record)
      this.#sizes.push(size)
      return
    }
    const at = this.#records.findIndex((r) => r.seq > record.seq)
    this.#records.splice(at, 0, record)
    this.#sizes.splice(at, 0, size)
  }

  /** Keeps the window within its count and byte bounds; entries older than what is left turn unknown. */
  #trimWindow(): void {
    let drop = 0
    let bytes = this.#bytes
    while (this.#records.length - drop > 1 && (this.#records.length - drop > WINDOW_RECORDS || bytes > WINDOW_BYTES)) {
      bytes -= this.#sizes[drop]!
      drop++
    }
    if (drop === 0) return
    const lastDropped = this.#records[drop - 1]!.seq
    this.#dropThrough(lastDropped)
    this.#windowStart = Math.max(this.#windowStart, lastDropped + 1)
  }

  /** Forgets the records up to `seq`. */
  #dropThrough(seq: number): void {
    let drop = 0
    while (drop < this.#records.length && this.#records[drop]!.seq <= seq) {
      this.#seqs.delete(this.#records[drop]!.seq)
      this.#bytes -= this.#sizes[drop]!
      drop++
    }
    this.#records = this.#records.slice(drop)
    this.#sizes = this.#sizes.slice(drop)
  }

  /** What the log says about `entry` under `primaryKey`. */
  judge(entry: CacheEntry, primaryKey: string): Verdict {
    if (!this.#log && this.#records.length === 0) return 'valid'
    return judge(entry, primaryKey, this.#records, this.#log ? this.#windowStart : 0)
  }
}

/** Empty arrays may arrive as anything but arrays from older writers; never trust the shape. */
const normalise = (r: PurgeRecord): PurgeRecord => ({
  seq: Number(r.seq),
  t: Number(r.t),
  urls: Array.isArray(r.urls) ? r.urls : [],
  tags: Array.isArray(r.tags) ? r.tags : [],
  prefixes: Array.isArray(r.prefixes) ? r.prefixes : [],
  all: r.all === true,
  soft: r.soft === true,
})
