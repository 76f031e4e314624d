/**
 * @module Per-isolate counters: hits per tier, misses, origin fetches, Redis requests and bytes,
 * errors. Exposed as JSON and Prometheus text by the internal stats route. Counters are plain numbers
 * (no timers, no I/O) so recording costs nothing on the hot path.
 */
import { LatencyHistograms } from './latency.ts'

/** Counter names, so typos fail type-checking. */
export type StatName =
  | 'requests'
  | 'memory_hits'
  | 'edge_hits'
  | 'redis_hits'
  | 'collapsed'
  | 'stale_served'
  | 'stale_if_error'
  | 'revalidated'
  | 'origin_fetches'
  | 'origin_errors'
  | 'bypass'
  | 'uncacheable'
  | 'invalidated'
  | 'fills_fenced'
  | 'purges'
  | 'purge_duplicates'
  | 'redis_requests'
  | 'redis_errors'
  | 'edge_errors'
  | 'edge_misses'
  | 'edge_stores'
  | 'warm_runs'
  | 'warm_warmed'
  | 'warm_already_fresh'
  | 'warm_failed'
  | 'warm_skipped_over_budget'
  | 'memory_errors'
  | 'redis_bytes_written'
  | 'body_bytes_written'
  | 'hot_keys_merges'
  | 'log_reads'
  | 'log_read_failures'
  | 'log_reads_skipped'
  | 'log_resyncs'
  | 'log_shared_reads'
  | 'log_shared_writes'
  | 'log_shared_waits'
  | 'log_shared_invalid'
  // The data API (src/data): calls, hits per tier, loader runs and their failures, stale values returned,
  // background refreshes (stale-while-revalidate and early), writes (set, delete, deleteByTag, clear).
  | 'data_requests'
  | 'data_memory_hits'
  | 'data_edge_hits'
  | 'data_redis_hits'
  | 'data_negative_hits'
  | 'data_loads'
  | 'data_load_errors'
  | 'data_load_timeouts'
  | 'data_stale_served'
  | 'data_refreshes'
  | 'data_early_refreshes'
  | 'data_writes'

export class Stats {
  readonly #counters = new Map<string, number>()
  readonly startedAt: number
  /** Latency per `Server-Timing` metric (src/observe/latency.ts), fed by each request's LookupStatus. */
  readonly latency = new LatencyHistograms()

  constructor(now: number) {
    this.startedAt = now
  }

  /** Adds `by` (default 1) to a counter. */
  record(name: StatName | `${string}_errors` | `${string}_hits`, by = 1): void {
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + by)
  }

  /** One counter's value (0 when it never moved). */
  get(name: StatName): number {
    return this.#counters.get(name) ?? 0
  }

  /** Counter values by name. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#counters].sort(([a], [b]) => a.localeCompare(b)))
  }

  /** Prometheus text exposition of the counters (plus `counters` kept elsewhere) and `extra` gauges. */
  prometheus(extra: Record<string, number> = {}, counters: Record<string, number> = {}): string {
    const lines: string[] = []
    for (const [name, value] of Object.entries({ ...this.snapshot(), ...counters })) {
      lines.push(`# TYPE tiercache_${name}_total counter`, `tiercache_${name}_total ${value}`)
    }
    for (const [name, value] of Object.entries(extra)) {
      lines.push(`# TYPE tiercache_${name} gauge`, `tiercache_${name} ${value}`)
    }
    lines.push(...this.latency.prometheus())
    return `${lines.join('\n')}\n`
  }
}
