import { describe, expect, it } from 'vitest'
import { counterDelta, mean, median, percentile, ratio, sumCounters, summariseLatencies } from '../../../scripts/bench/summary.ts'

describe('percentile (nearest rank)', () => {
  it('returns a sample that was observed', () => {
    const values = [15, 20, 35, 40, 50]
    expect(percentile(values, 0)).toBe(15)
    expect(percentile(values, 30)).toBe(20)
    expect(percentile(values, 40)).toBe(20)
    expect(percentile(values, 50)).toBe(35)
    expect(percentile(values, 100)).toBe(50)
  })

  it('does not need sorted input and is NaN for none', () => {
    expect(percentile([3, 1, 2], 50)).toBe(2)
    expect(percentile([], 50)).toBeNaN()
  })

  it('p99 of 1..1000 is 990', () => {
    expect(percentile(Array.from({ length: 1000 }, (_, i) => i + 1), 99)).toBe(990)
  })

  it('rejects a percentile outside 0..100', () => {
    expect(() => percentile([1], 101)).toThrow(RangeError)
  })
})

describe('median, mean, ratio', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([Number.NaN, 5])).toBe(5)
    expect(median([])).toBeNaN()
  })

  it('means and guarded ratios', () => {
    expect(mean([1, 2, 3])).toBe(2)
    expect(mean([])).toBeNaN()
    expect(ratio(3, 2)).toBe(1.5)
    expect(ratio(3, 0)).toBeNaN()
    expect(ratio(undefined, 2)).toBeNaN()
  })
})

describe('summariseLatencies', () => {
  it('reports mean, p50, p90, p99 and max', () => {
    const s = summariseLatencies(Float64Array.from({ length: 100 }, (_, i) => i + 1))
    expect(s).toEqual({ mean: 50.5, p50: 50, p90: 90, p99: 99, max: 100 })
  })
})

describe('counters', () => {
  it('subtracts snapshots and adds records', () => {
    expect(counterDelta({ a: 1, b: 5 }, { a: 4, b: 5, c: 2 })).toEqual({ a: 3, c: 2 })
    expect(sumCounters([{ a: 1 }, { a: 2, b: 3 }])).toEqual({ a: 3, b: 3 })
  })
})
