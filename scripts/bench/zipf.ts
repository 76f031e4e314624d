/**
 * @module Seeded random numbers and a Zipf sampler for the benchmark's mixed workload: rank r of `n` keys
 * is drawn with probability (1 / r^s) / H(n, s). The same seed always gives the same sequence, so every
 * run of `npm run bench` asks for the same keys in the same order (only the interleaving across
 * connections depends on timing).
 */
import { mulberry32 } from '../lib/mulberry32.ts'

export { mulberry32 }

/** Draws ranks 1..n with Zipf probabilities, by binary search over the cumulative distribution. */
export interface ZipfSampler {
  readonly n: number
  readonly s: number
  /** The next rank, 1 (most popular) … n. */
  next(): number
  /** Probability of rank `r` (1-based). */
  probability(r: number): number
}

/**
 * Creates a sampler over `n` ranks with exponent `s` (s ≈ 1.0 is the classic web-cache workload).
 * @example
 * const zipf = createZipf({ n: 10_000, s: 1.0, seed: 42 })
 * const path = `/public/z${zipf.next()}`
 */
export function createZipf(options: { n: number; s: number; seed: number }): ZipfSampler {
  const { n, s, seed } = options
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf n must be a positive integer, got ${n}`)
  if (!(s >= 0) || !Number.isFinite(s)) throw new RangeError(`zipf s must be a finite number ≥ 0, got ${s}`)
  const cdf = new Float64Array(n)
  let total = 0
  for (let r = 1; r <= n; r++) {
    total += 1 / r ** s
    cdf[r - 1] = total
  }
  for (let i = 0; i < n; i++) cdf[i] = cdf[i]! / total
  cdf[n - 1] = 1
  const random = mulberry32(seed)
  return {
    n,
    s,
    next() {
      const u = random()
      let lo = 0
      let hi = n - 1
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (cdf[mid]! > u) hi = mid
        else lo = mid + 1
      }
      return lo + 1
    },
    probability(r) {
      if (r < 1 || r > n) return 0
      return cdf[r - 1]! - (r > 1 ? cdf[r - 2]! : 0)
    },
  }
}

/**
 * Expected share of requests that find their key not yet requested, after `seen` earlier requests from
 * the same distribution: Σ p(r)·(1 − p(r))^seen. This is the compulsory-miss floor for a cache that never
 * evicts, used to explain the measured offload.
 */
export function expectedColdShare(sampler: Pick<ZipfSampler, 'n' | 'probability'>, seen: number): number {
  let share = 0
  for (let r = 1; r <= sampler.n; r++) {
    const p = sampler.probability(r)
    share += p * (1 - p) ** seen
  }
  return share
}
