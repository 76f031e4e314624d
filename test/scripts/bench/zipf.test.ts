import { describe, expect, it } from 'vitest'
import { createZipf, expectedColdShare, mulberry32 } from '../../../scripts/bench/zipf.ts'

describe('mulberry32', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(7)
    const b = mulberry32(7)
    const xs = Array.from({ length: 1000 }, () => a())
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()))
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    expect(mulberry32(8)()).not.toBe(xs[0])
  })
})

describe('createZipf', () => {
  it('gives the same sequence for the same seed, another for another seed', () => {
    const draw = (seed: number) => {
      const z = createZipf({ n: 10_000, s: 1, seed })
      return Array.from({ length: 200 }, () => z.next())
    }
    expect(draw(1)).toEqual(draw(1))
    expect(draw(1)).not.toEqual(draw(2))
  })

  it('has probabilities 1/(r·H) for s = 1 that sum to 1', () => {
    const z = createZipf({ n: 4, s: 1, seed: 1 })
    const h = 1 + 1 / 2 + 1 / 3 + 1 / 4
    for (let r = 1; r <= 4; r++) expect(z.probability(r)).toBeCloseTo(1 / (r * h), 12)
    expect(z.probability(0)).toBe(0)
    expect(z.probability(5)).toBe(0)
  })

  it('draws ranks within 1..n with frequencies close to the distribution', () => {
    const z = createZipf({ n: 100, s: 1, seed: 42 })
    const counts = new Map<number, number>()
    const draws = 200_000
    let outside = 0
    for (let i = 0; i < draws; i++) {
      const r = z.next()
      if (r < 1 || r > 100) outside++
      counts.set(r, (counts.get(r) ?? 0) + 1)
    }
    expect(outside).toBe(0)
    for (const r of [1, 2, 10]) expect((counts.get(r) ?? 0) / draws).toBeCloseTo(z.probability(r), 2)
  })

  it('rejects a bad key count or exponent', () => {
    expect(() => createZipf({ n: 0, s: 1, seed: 1 })).toThrow(RangeError)
    expect(() => createZipf({ n: 10, s: Number.NaN, seed: 1 })).toThrow(RangeError)
  })
})

describe('expectedColdShare', () => {
  it('is 1 before any request and falls as requests accumulate', () => {
    const z = createZipf({ n: 1000, s: 1, seed: 1 })
    expect(expectedColdShare(z, 0)).toBeCloseTo(1, 12)
    const later = [100, 1000, 10_000].map((seen) => expectedColdShare(z, seen))
    expect(later[0]).toBeGreaterThan(later[1]!)
    expect(later[1]).toBeGreaterThan(later[2]!)
  })
})
