/**
 * @module Latency per tier, from the same measurements `Server-Timing` reports: one fixed-bucket histogram
 * per metric (`edge`, `redis`, `origin`, `coherence`, ...). Recording is a handful of comparisons and two
 * additions (no allocation, no timer), so it can run for every response; percentiles are estimated from
 * the buckets when stats are read, the way Prometheus's `histogram_quantile` does.
 *
 * A fresh memory hit is answered synchronously and is not timed (it has no `Server-Timing` metric), so it
 * has no histogram: its cost is the worker's own, not a lookup's.
 */

/** Upper bounds of the buckets, in ms; one more bucket (`+Inf`) holds everything slower. */
export const LATENCY_BOUNDS_MS: readonly number[] = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000]

/**
 * Metric names kept: they are the stack's own names, a fixed handful, so this cap is only a guard that a
 * future caller passing request-derived names could not grow the map without bound.
 */
export const MAX_METRICS = 32

/** One metric's histogram as the stats route reports it. */
export interface LatencySummary {
  count: number
  sumMs: number
  maxMs: number
  /** Estimated percentiles in ms (linear within a bucket, never above the largest value seen). */
  p50Ms: number
  p95Ms: number
  p99Ms: number
  /** Cumulative counts by upper bound in ms (`"+Inf"` is every observation), as Prometheus lays them out. */
  buckets: Record<string, number>
}

/** Where {@link LookupStatus} hands each metric it reports in `Server-Timing`. */
export interface LatencySink {
  record(metric: string, ms: number): void
}

class Histogram {
  /** Non-cumulative counts, one per bound plus `+Inf`. */
  readonly counts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0)
  count = 0
  sumMs = 0
  maxMs = 0

  record(ms: number): void {
    let i = 0
    while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]!) i++
    this.counts[i]!++
    this.count++
    this.sumMs += ms
    if (ms > this.maxMs) this.maxMs = ms
  }

  /** The `q` quantile (0–1), interpolated linearly within its bucket. */
  quantile(q: number): number {
    if (this.count === 0) return 0
    const rank = q * this.count
    let below = 0
    for (let i = 0; i < this.counts.length; i++) {
      const inBucket = this.counts[i]!
      if (inBucket > 0 && below + inBucket >= rank) {
        const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!
        const upper = LATENCY_BOUNDS_MS[i] ?? this.maxMs
        return Math.min(this.maxMs, lower + (upper - lower) * ((rank - below) / inBucket))
      }
      below += inBucket
    }
    return this.maxMs
  }

  summary(): LatencySummary {
    const buckets: Record<string, number> = {}
    let cumulative = 0
    LATENCY_BOUNDS_MS.forEach((bound, i) => {
      cumulative += this.counts[i]!
      buckets[String(bound)] = cumulative
    })
    buckets['+Inf'] = this.count
    const round = (ms: number) => Math.round(ms * 100) / 100
    return {
      count: this.count,
      sumMs: round(this.sumMs),
      maxMs: round(this.maxMs),
      p50Ms: round(this.quantile(0.5)),
      p95Ms: round(this.quantile(0.95)),
      p99Ms: round(this.quantile(0.99)),
      buckets,
    }
  }
}

/** The histograms of one engine, by `Server-Timing` metric name. */
export class LatencyHistograms implements LatencySink {
  readonly #byMetric = new Map<string, Histogram>()

  /** Adds one observation of `metric` (ms). Negative or non-finite durations are ignored. */
  record(metric: string, ms: number): void {
    if (!(ms >= 0) || ms === Number.POSITIVE_INFINITY) return
    let histogram = this.#byMetric.get(metric)
    if (!histogram) {
      if (this.#byMetric.size >= MAX_METRICS) return
      histogram = new Histogram()
      this.#byMetric.set(metric, histogram)
    }
    histogram.record(ms)
  }

  /** Summaries by metric name, sorted by name. */
  snapshot(): Record<string, LatencySummary> {
    return Object.fromEntries([...this.#byMetric].sort(([a], [b]) => a.localeCompare(b)).map(([name, h]) => [name, h.summary()]))
  }

  /**
   * Prometheus text for one histogram family, `tiercache_lookup_duration_seconds` with a `metric` label
   * (seconds: Prometheus's base unit).
   */
  prometheus(): string[] {
    if (this.#byMetric.size === 0) return []
    const name = 'tiercache_lookup_duration_seconds'
    const lines = [`# HELP ${name} Duration of each Server-Timing metric (tier lookups, origin, coherence).`, `# TYPE ${name} histogram`]
    for (const [metric, h] of [...this.#byMetric].sort(([a], [b]) => a.localeCompare(b))) {
      const label = `metric="${metric.replace(/["\\\n]/g, '_')}"`
      let cumulative = 0
      LATENCY_BOUNDS_MS.forEach((bound, i) => {
        cumulative += h.counts[i]!
        lines.push(`${name}_bucket{${label},le="${bound / 1000}"} ${cumulative}`)
      })
      lines.push(`${name}_bucket{${label},le="+Inf"} ${h.count}`, `${name}_sum{${label}} ${h.sumMs / 1000}`, `${name}_count{${label}} ${h.count}`)
    }
    return lines
  }
}
