/**
 * @module What the stack tells the observers once a GET/HEAD has its answer: the hot-keys sketch (one
 * O(1) update; the merge into Redis runs at most once per merge interval, in `waitUntil`), the edge tier's
 * miss and store counters, and a sampled Analytics Engine data point (in `waitUntil`, never awaited by the
 * response). A fresh memory hit does the sketch update and two comparisons: no header read, no I/O.
 */
import type { ResolvedOptions } from '../options.ts'
import type { LookupStatus } from './lookup-status.ts'
import type { Stats } from './stats.ts'
import type { HotKeys, ServedBy } from './hot-keys.ts'
import type { HotSet } from './hot-set.ts'
import { analyticsPoint } from './analytics.ts'

interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void
}

/** What one answered request looked like to the observers. */
export interface Observed {
  request: Request
  /** The URL's cache key; '' for per-user and cookie-cohort keys, which are never tracked as hot. */
  key: string
  status: LookupStatus
  ctx: WaitUntil
  /** `performance.now()` when the stack took the request (only read when Analytics Engine is on). */
  startedAt: number
}

export class RequestObserver {
  readonly sketch: HotKeys | undefined
  readonly #hotSet: HotSet | undefined
  readonly #stats: Stats
  readonly #options: ResolvedOptions
  readonly #mergeMs: number
  /** Requests made by the warmer: they are not traffic, so they do not make keys hot. */
  readonly #internal = new WeakSet<Request>()
  #lastMerge: number

  constructor(options: ResolvedOptions, stats: Stats, sketch: HotKeys | undefined, hotSet: HotSet | undefined) {
    this.#options = options
    this.#stats = stats
    this.sketch = sketch
    this.#hotSet = hotSet
    // "At most once per δ per isolate": never more often than δ, whatever the option says.
    this.#mergeMs = options.hotKeys ? Math.max(options.hotKeys.mergeMs, options.coherenceDeltaMs) : Number.POSITIVE_INFINITY
    this.#lastMerge = options.now()
  }

  /** Whether answers need a start time (Analytics Engine records durations). */
  get timed(): boolean {
    return this.#options.analytics !== undefined
  }

  /** Marks a request the worker makes itself (warming): observed for counters, never counted as hot. */
  markInternal(request: Request): void {
    this.#internal.add(request)
  }

  observe(seen: Observed, response: Response): void {
    const { status } = seen
    const tier: ServedBy = status.servedBy ?? 'origin'
    if (tier !== 'memory') {
      const edge = status.entries.get('edge')
      if (edge?.fwd) this.#stats.record('edge_misses')
      if (edge?.stored) this.#stats.record('edge_stores')
    }
    const sketch = this.sketch
    if (sketch && seen.key !== '' && status.outcome !== 'bypass' && !this.#internal.has(seen.request)) {
      // A memory hit keeps the size seen when the key was filled: no header read on the hottest path.
      sketch.touch(seen.key, tier, tier === 'memory' ? undefined : Number(response.headers.get('content-length') ?? 0) || 0)
      const now = this.#options.now()
      if (this.#hotSet && now - this.#lastMerge >= this.#mergeMs && sketch.hasUnsent) {
        this.#lastMerge = now
        seen.ctx.waitUntil(this.mergeNow().catch(() => {}))
      }
    }
    const analytics = this.#options.analytics
    if (analytics && Math.random() < analytics.sampleRate) {
      const point = analyticsPoint(seen.request, tier, status.outcome, response, performance.now() - seen.startedAt, analytics.sampleRate)
      // Written after the answer; a binding that throws costs nothing but the point.
      seen.ctx.waitUntil(
        Promise.resolve()
          .then(() => analytics.dataset.writeDataPoint(point))
          .catch(() => {})
      )
    }
  }

  /** Merges this isolate's unsent counts into the fleet's set now (the warmer does before reading it). */
  async mergeNow(): Promise<void> {
    if (!this.sketch || !this.#hotSet) return
    this.#lastMerge = this.#options.now()
    // Counted so the Upstash requests a merge costs are told apart from coherence reads (npm run bench).
    if (await this.#hotSet.merge(this.sketch)) this.#stats.record('hot_keys_merges')
  }
}
