/**
 * @module Hit probabilities of one cache instance, per key, from the request rate of each key at it.
 *
 * Two approximations, and the smaller of the two hit probabilities per key:
 * - **Capacity (LRU), Che's approximation** (Che, Tung, Wang 2002; Fricker, Robert, Roberts 2012): an LRU
 *   cache of C objects behaves like a cache where each key stays T_C after its last request, T_C solving
 *   Σ (1 − e^(−λᵢ T_C)) = C; key i then hits with 1 − e^(−λᵢ T_C).
 * - **Lifetime (TTL)**: a copy lives a fixed TTL from its fill, and the first request after it expires
 *   misses and fills again (a non-resetting TTL cache): with Poisson requests, hit = λT / (1 + λT).
 * Requests are taken as independent (Poisson), also for a tier that only sees the misses of the tier
 * above it: the usual simplification, which flatters the lower tiers a little.
 */

export interface TierModel {
  /** Hit probability per key. */
  hits: Float64Array
  /** Expected objects held (Σ of per-key occupancy; PASTA: occupancy = hit probability). */
  occupancy: number
  /** Whether capacity (LRU) or lifetime (TTL) bounds this tier. */
  bound: 'ttl' | 'capacity'
  /** Che's characteristic time in s, when capacity bounds the tier. */
  characteristicTimeS?: number
}

/** Hit probability of a non-resetting TTL cache for Poisson requests at `rate` per s. */
export const ttlHit = (rate: number, ttlS: number): number => (rate * ttlS) / (1 + rate * ttlS)

/** Che's hit probability for a key at `rate` per s in an LRU cache with characteristic time `t` s. */
export const cheHit = (rate: number, t: number): number => -Math.expm1(-rate * t)

/** Solves Σ (1 − e^(−λᵢ T)) = capacity for T (s), by bisection on a log scale. */
export function characteristicTime(rates: Float64Array, capacity: number): number {
  let objects = 0
  for (const r of rates) if (r > 0) objects++
  if (capacity >= objects) return Number.POSITIVE_INFINITY
  const occupancy = (t: number) => {
    let sum = 0
    for (const r of rates) sum += -Math.expm1(-r * t)
    return sum
  }
  let low = 1e-9
  let high = 1
  while (occupancy(high) < capacity) high *= 2
  for (let i = 0; i < 100 && high / low > 1 + 1e-9; i++) {
    const mid = Math.sqrt(low * high)
    if (occupancy(mid) < capacity) low = mid
    else high = mid
  }
  return Math.sqrt(low * high)
}

/**
 * One cache instance given each key's request rate there (per s), its capacity in objects (undefined:
 * unbounded) and the objects' lifetime in s.
 */
export function tierModel(rates: Float64Array, ttlS: number, capacity?: number): TierModel {
  const hits = new Float64Array(rates.length)
  let occupancy = 0
  for (let i = 0; i < rates.length; i++) occupancy += hits[i] = ttlHit(rates[i]!, ttlS)
  if (capacity === undefined || occupancy <= capacity) return { hits, occupancy, bound: 'ttl' }
  const t = characteristicTime(rates, capacity)
  occupancy = 0
  for (let i = 0; i < rates.length; i++) occupancy += hits[i] = Math.min(hits[i]!, cheHit(rates[i]!, t))
  return { hits, occupancy, bound: 'capacity', characteristicTimeS: t }
}
