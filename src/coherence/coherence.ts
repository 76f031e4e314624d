/**
 * @module Bounded-staleness coherence for one isolate.
 *
 * Workers cannot hold a pub/sub subscription, so isolates pull: before serving a hit, an isolate makes
 * sure its view of the purge log is younger than δ, reading the log tail from Redis when it is not
 * (one request, shared by every concurrent request of the isolate through a latch, never a shared
 * promise). Every hit, from any tier, is then judged against the records after the position it was
 * filled at: purged entries are refused, soft-purged ones turn stale, and ones filled before the oldest
 * record this isolate holds are revalidated. Cost: at most one Upstash request per isolate per δ.
 *
 * Failure: if Redis cannot be read the isolate keeps serving (availability over staleness) and the
 * growing view age shows in `Cache-Status`.
 */
import type { CacheEntry } from '../entry.ts'
import type { LogRead, PurgeLog } from './purge-log.ts'
import { judge, type PurgeRecord, type Verdict } from './purge-record.ts'

/** Records an isolate keeps; older entries from shared tiers are revalidated. */
const WINDOW = 2000
/** Records read on an isolate's first look at the log. */
const INITIAL_WINDOW = 500

/** What the coherence layer does to an isolate's memory when records arrive. */
export interface CoherenceHooks {
  /** Hard-purge records to evict from memory. */
  evict(records: readonly PurgeRecord[]): void
  /** The isolate fell behind the log's retention: drop the whole memory tier. */
  flush(): void
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class Coherence {
  readonly #log: PurgeLog | undefined
  readonly #hooks: CoherenceHooks
  readonly #now: () => number
  readonly #waitMs: number
  #knownSeq = -1
  #windowStart = 0
  #records: PurgeRecord[] = []
  /** When the last successful read started: every purge committed before it is known. */
  #viewAt = Number.NEGATIVE_INFINITY
  #reading: { done: boolean } | undefined
  #failures = 0
  /** Highest seq this isolate committed itself (its own purges are known before the log is read). */
  #committed = 0

  constructor(log: PurgeLog | undefined, hooks: CoherenceHooks, options: { now: () => number; waitMs: number }) {
    this.#log = log
    this.#hooks = hooks
    this.#now = options.now
    this.#waitMs = options.waitMs
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

  /** Age of this isolate's view of the log, in ms (Infinity before the first read). */
  viewAge(now = this.#now()): number {
    return now - this.#viewAt
  }

  /** Whether the view is older than `deltaMs` (a synchronous check, so hits pay no await when it is fresh). */
  isStale(deltaMs: number): boolean {
    return this.#log !== undefined && this.viewAge() >= deltaMs
  }

  /**
   * Makes the view younger than `deltaMs`, reading the log if it is not. Concurrent callers share one
   * read; each waits with its own timers and gives up after the Redis deadline (serving anyway).
   */
  async ensureFresh(deltaMs: number): Promise<void> {
    if (!this.#log || this.viewAge() < deltaMs) return
    if (!this.#reading) {
      const latch = { done: false }
      this.#reading = latch
      void this.#read().finally(() => {
        latch.done = true
        if (this.#reading === latch) this.#reading = undefined
      })
      if (latch.done) return
    }
    const latch = this.#reading
    const deadline = performance.now() + this.#waitMs
    let step = 1
    while (latch && !latch.done && performance.now() < deadline) {
      await sleep(step)
      step = Math.min(step * 2, 10)
    }
  }

  async #read(): Promise<void> {
    const log = this.#log
    if (!log) return
    const startedAt = this.#now()
    let read: LogRead
    try {
      read = await log.read(this.#knownSeq, WINDOW, INITIAL_WINDOW)
    } catch (error) {
      this.#failures++
      console.warn(`[tiercache] purge log unavailable: ${(error as Error).message}`)
      return
    }
    this.#failures = 0
    this.#absorb(read)
    this.#viewAt = startedAt
  }

  #absorb(read: LogRead): void {
    if (this.#knownSeq < 0) {
      this.#windowStart = read.from + 1
    } else if (read.floor > this.#knownSeq + 1) {
      // Records we never saw were trimmed: nothing in memory can be trusted.
      this.#hooks.flush()
      this.#records = []
      this.#windowStart = read.floor
    }
    this.apply(read.records)
    // A read cut short by its limit resumes after its last record; otherwise we are at the head.
    const last = read.records.at(-1)?.seq
    const head = read.records.length >= WINDOW && last !== undefined ? last : Math.max(read.current, read.from)
    this.#knownSeq = Math.max(this.#knownSeq, head)
  }

  /** Adds records (from a log read, or from a purge this isolate just committed) and evicts memory. */
  apply(records: readonly PurgeRecord[]): void {
    const fresh = records.filter((r) => r.seq > this.#knownSeq && !this.#records.some((k) => k.seq === r.seq))
    if (fresh.length === 0) return
    this.#records.push(...fresh.map(normalise))
    this.#records.sort((a, b) => a.seq - b.seq)
    if (this.#records.length > WINDOW) {
      this.#records = this.#records.slice(-WINDOW)
      this.#windowStart = this.#records[0]?.seq ?? this.#windowStart
    }
    this.#hooks.evict(fresh.filter((r) => !r.soft))
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
