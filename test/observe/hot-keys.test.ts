import { describe, expect, it } from 'vitest'
import { HotKeys } from '../../src/observe/hot-keys.ts'
import { mulberry32 } from '../../scripts/lib/mulberry32.ts'

describe('HotKeys (Space-Saving)', () => {
  it('counts exactly while it has room, with the last tier and size', () => {
    const sketch = new HotKeys(4)
    for (const key of ['a', 'b', 'a', 'c', 'a', 'b']) sketch.touch(key, 'origin', key.charCodeAt(0))
    sketch.touch('a', 'memory')
    expect(sketch.top().map(({ key, count, error, tier, bytes }) => ({ key, count, error, tier, bytes }))).toEqual([
      { key: 'a', count: 4, error: 0, tier: 'memory', bytes: 97 },
      { key: 'b', count: 2, error: 0, tier: 'origin', bytes: 98 },
      { key: 'c', count: 1, error: 0, tier: 'origin', bytes: 99 },
    ])
  })

  it('when full, a new key takes a least-counted slot and inherits its count as the error bound', () => {
    const sketch = new HotKeys(2)
    sketch.touch('a', 'origin', 1)
    sketch.touch('a', 'origin', 1)
    sketch.touch('b', 'origin', 1)
    sketch.touch('c', 'edge', 5)
    expect(sketch.size).toBe(2)
    expect(sketch.top().map(({ key, count, error }) => ({ key, count, error }))).toEqual([
      { key: 'a', count: 2, error: 0 },
      { key: 'c', count: 2, error: 1 },
    ])
  })

  it('keeps every key more frequent than n/K on a skewed stream, with counts within the error bound', () => {
    const random = mulberry32(42)
    const truth = new Map<string, number>()
    const sketch = new HotKeys(32)
    const n = 20_000
    for (let i = 0; i < n; i++) {
      // Zipf-like: key k with weight 1/k over 2,000 keys.
      const key = `k${Math.floor(Math.exp(random() * Math.log(2000)))}`
      truth.set(key, (truth.get(key) ?? 0) + 1)
      sketch.touch(key, 'memory')
    }
    const top = sketch.top()
    // Space-Saving keeps the counters summing to the stream length once it is full.
    expect(top.reduce((sum, t) => sum + t.count, 0)).toBe(n)
    const kept = new Map(top.map((t) => [t.key, t]))
    for (const [key, count] of truth) if (count > n / 32) expect(kept.has(key)).toBe(true)
    for (const t of top) {
      const real = truth.get(t.key) ?? 0
      expect(t.count).toBeGreaterThanOrEqual(real)
      expect(t.count - t.error).toBeLessThanOrEqual(real)
    }
  })

  it('matches a plain Space-Saving (minimum found by scanning) count for count on random streams', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = mulberry32(seed)
      const sketch = new HotKeys(8)
      const naive = new Map<string, number>()
      for (let i = 0; i < 5000; i++) {
        const key = `k${Math.floor(random() * random() * 40)}`
        sketch.touch(key, 'origin', 1)
        if (naive.has(key)) naive.set(key, naive.get(key)! + 1)
        else if (naive.size < 8) naive.set(key, 1)
        else {
          const min = Math.min(...naive.values())
          // Evict the victim the sketch chose when counts tie (any least-counted key is a valid choice).
          const victim = [...naive].find(([k, c]) => c === min && !sketch.top().some((t) => t.key === k))![0]
          naive.delete(victim)
          naive.set(key, min + 1)
        }
        const counts = new Map(sketch.top().map((t) => [t.key, t.count]))
        expect(counts).toEqual(naive)
      }
    }
  })

  it('hands out the counts since the last merge once', () => {
    const sketch = new HotKeys(4)
    expect(sketch.hasUnsent).toBe(false)
    sketch.touch('a', 'origin', 3)
    sketch.touch('a', 'memory')
    expect(sketch.hasUnsent).toBe(true)
    expect(sketch.takeUnsent()).toEqual([{ key: 'a', count: 2, bytes: 3, tier: 'memory' }])
    expect(sketch.hasUnsent).toBe(false)
    expect(sketch.takeUnsent()).toEqual([])
    sketch.touch('a', 'memory')
    expect(sketch.takeUnsent()).toEqual([{ key: 'a', count: 1, bytes: 3, tier: 'memory' }])
    expect(sketch.top()[0]!.count).toBe(3)
  })

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new HotKeys(0)).toThrow('hot keys capacity must be a positive integer, got 0')
  })
})
