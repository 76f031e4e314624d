/**
 * @module Small statistics helpers for the benchmark: percentiles over raw samples (nearest-rank, so a
 * reported p99 is a latency that really happened), medians across repetitions, and safe ratios.
 */

/**
 * Nearest-rank percentile (`p` in 0..100) of `values`, which need not be sorted. NaN for no values.
 * @example percentile([5, 1, 3], 50) // 3
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values as ArrayLike<number>).sort()
  return percentileOfSorted(sorted, p)
}

/** Nearest-rank percentile of already sorted (ascending) values. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]!
}

/** Median of `values` (mean of the two middle values for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (finite.length === 0) return Number.NaN
  const mid = finite.length >> 1
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2
}

/** Arithmetic mean; NaN for none. */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i]!
  return sum / values.length
}

/** `a / b`, or NaN when either is missing or `b` is 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN
  return a / b
}

/** Latency summary of one run, in milliseconds. */
export interface LatencySummary {
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

/** Summarises raw latency samples (ms). */
export function summariseLatencies(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples as ArrayLike<number>).sort()
  return {
    mean: mean(sorted),
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
  }
}

/** Subtracts counter snapshots: `after − before` for every key of `after` (missing before = 0). */
export function counterDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [name, value] of Object.entries(after)) {
    const delta = value - (before[name] ?? 0)
    if (delta !== 0) out[name] = delta
  }
  return out
}

/** Adds counter records key by key. */
export function sumCounters(records: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const record of records) for (const [name, value] of Object.entries(record)) out[name] = (out[name] ?? 0) + value
  return out
}
