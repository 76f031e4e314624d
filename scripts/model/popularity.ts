/**
 * @module Key popularity: Zipf(s) over n keys, rank r requested with probability r^-s / H(n, s).
 */

/** The probability of each rank 1..n (index r − 1), summing to 1. */
export function zipfProbabilities(n: number, s: number): Float64Array {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`keys must be a positive integer, got ${n}`)
  if (!(s >= 0) || !Number.isFinite(s)) throw new RangeError(`zipf s must be a finite number ≥ 0, got ${s}`)
  const p = new Float64Array(n)
  let total = 0
  // Smallest terms first, so the sum loses as little as possible to rounding.
  for (let r = n; r >= 1; r--) total += r ** -s
  for (let r = 1; r <= n; r++) p[r - 1] = r ** -s / total
  return p
}
