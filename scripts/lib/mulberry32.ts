/**
 * mulberry32: a tiny, fast, seeded PRNG with 32-bit state, shared by the demo origin's reproducible
 * "random" bodies, the benchmark's Zipf draws and the randomised privacy test.
 */

/** Returns a generator of unsigned 32-bit integers. */
export function mulberry32Uint(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/** Returns a generator of floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  const next = mulberry32Uint(seed)
  return () => next() / 4294967296
}
