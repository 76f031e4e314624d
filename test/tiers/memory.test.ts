import { describe, expect, it } from 'vitest'
import type { CacheEntry, Stored, VaryIndex } from '../../src/entry.ts'
import { entrySize } from '../../src/entry.ts'
import { ConfigError } from '../../src/errors.ts'
import { MemoryTier } from '../../src/tiers/memory.ts'
import { testEntry } from '../support/entries.ts'

function entry(bodyBytes: number, tags: string[] = []): CacheEntry {
  return testEntry({ body: new Uint8Array(bodyBytes), tags })
}

const vary: VaryIndex = { kind: 'vary', varyOn: ['accept-language'], variants: ['en'], expiresAt: 0 }

/** An entry whose `entrySize` at a one-character key is exactly `size` (128 + 2 for the key + tags + body). */
const sized = (size: number, tags: string[] = []): CacheEntry => entry(size - 130 - tags.join('').length * 2, tags)

/** Deterministic PRNG (mulberry32) so a failing randomized run reproduces. */
function prng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('MemoryTier get/set', () => {
  it('returns the stored value until it expires', () => {
    const tier = new MemoryTier({ maxBytes: 10_000, maxEntryBytes: 10_000 })
    const value = entry(10)
    expect(tier.set('k', value, 1000, 0)).toBe(true)
    expect(tier.get('k', 0)).toBe(value)
    expect(tier.get('k', 999)).toBe(value)
    expect(tier.get('missing', 999)).toBeUndefined()
  })

  it('stores vary indexes like entries', () => {
    const tier = new MemoryTier({ maxBytes: 10_000, maxEntryBytes: 10_000 })
    expect(tier.set('v', vary, 1000, 0)).toBe(true)
    expect(tier.get('v', 1)).toBe(vary)
    expect(tier.stats().bytes).toBe(entrySize(vary, 'v'))
  })

  it('removes an entry on the first read at or after its expiry and counts it as a miss', () => {
    const tier = new MemoryTier({ maxBytes: 10_000, maxEntryBytes: 10_000 })
    tier.set('k', sized(500), 1000, 5000)
    expect(tier.get('k', 5999)).toBeDefined()
    expect(tier.get('k', 6000)).toBeUndefined()
    expect(tier.stats()).toMatchObject({ entries: 0, bytes: 0, hits: 1, misses: 1, expirations: 1 })
    expect(tier.get('k', 1000)).toBeUndefined()
    expect(tier.stats()).toMatchObject({ misses: 2, expirations: 1 })
  })

  it('replacing a key counts its bytes once', () => {
    const tier = new MemoryTier({ maxBytes: 10_000, maxEntryBytes: 10_000 })
    tier.set('k', sized(1000), 1000, 0)
    tier.set('k', sized(3000), 1000, 0)
    expect(tier.stats()).toMatchObject({ entries: 1, bytes: 3000 })
    expect((tier.get('k', 0) as CacheEntry).body.byteLength).toBe(2870)
  })

  it('rejects entries larger than maxEntryBytes and drops the key’s older value', () => {
    const tier = new MemoryTier({ maxBytes: 10_000, maxEntryBytes: 2000 })
    expect(tier.set('k', sized(2000), 1000, 0)).toBe(true)
    expect(tier.set('k', sized(2001), 1000, 0)).toBe(false)
    expect(tier.get('k', 0)).toBeUndefined()
    expect(tier.stats()).toMatchObject({ entries: 0, bytes: 0, peakBytes: 2000, evictions: 0 })
  })

  it('rejects a zero, negative or NaN ttl and drops the key’s older value', () => {
    const tier = new MemoryTier({ maxBytes: 10_000, maxEntryBytes: 10_000 })
    for (const ttl of [0, -1, Number.NaN]) {
      tier.set('k', sized(200), 1000, 0)
      expect(tier.set('k', sized(200), ttl, 0)).toBe(false)
      expect(tier.get('k', 0)).toBeUndefined()
    }
    expect(tier.stats()).toMatchObject({ entries: 0, bytes: 0 })
  })

  it('a huge entry does not flush small hot entries when it exceeds maxEntryBytes', () => {
    const tier = new MemoryTier({ maxBytes: 4000, maxEntryBytes: 1000 })
    for (const key of ['a', 'b', 'c']) tier.set(key, sized(1000), 1000, 0)
    expect(tier.set('h', sized(3500), 1000, 0)).toBe(false)
    expect(tier.stats()).toMatchObject({ entries: 3, bytes: 3000, evictions: 0 })
  })

  it('rejects invalid bounds with ConfigError', () => {
    expect(() => new MemoryTier({ maxBytes: 0, maxEntryBytes: 0 })).toThrow(ConfigError)
    expect(() => new MemoryTier({ maxBytes: 1.5, maxEntryBytes: 1 })).toThrow(ConfigError)
    expect(() => new MemoryTier({ maxBytes: 100, maxEntryBytes: -1 })).toThrow(ConfigError)
    expect(() => new MemoryTier({ maxBytes: 100, maxEntryBytes: 101 })).toThrow(ConfigError)
  })
})

describe('MemoryTier LRU eviction', () => {
  it('evicts the least recently used entry, where a hit counts as use', () => {
    const tier = new MemoryTier({ maxBytes: 3000, maxEntryBytes: 3000 })
    tier.set('a', sized(1000), 1000, 0)
    tier.set('b', sized(1000), 1000, 0)
    tier.set('c', sized(1000), 1000, 0)
    tier.get('a', 1)
    tier.set('d', sized(1000), 1000, 2)
    expect(tier.get('b', 3)).toBeUndefined()
    expect(tier.get('a', 3)).toBeDefined()
    expect(tier.get('c', 3)).toBeDefined()
    expect(tier.get('d', 3)).toBeDefined()
    expect(tier.stats()).toMatchObject({ entries: 3, bytes: 3000, evictions: 1, expirations: 0 })
  })

  it('evicts as many old entries as the new one needs, oldest first', () => {
    const tier = new MemoryTier({ maxBytes: 4000, maxEntryBytes: 4000 })
    for (const key of ['a', 'b', 'c', 'd']) tier.set(key, sized(1000), 1000, 0)
    tier.set('e', sized(2500), 1000, 0)
    expect(['a', 'b', 'c', 'd', 'e'].map((key) => tier.get(key, 0) !== undefined)).toEqual([
      false,
      false,
      false,
      true,
      true,
    ])
    expect(tier.stats()).toMatchObject({ entries: 2, bytes: 3500, evictions: 3 })
  })

  it('re-setting a key makes it the most recently used', () => {
    const tier = new MemoryTier({ maxBytes: 2000, maxEntryBytes: 2000 })
    tier.set('a', sized(1000), 1000, 0)
    tier.set('b', sized(1000), 1000, 0)
    tier.set('a', sized(1000), 1000, 0)
    tier.set('c', sized(1000), 1000, 0)
    expect(tier.get('a', 0)).toBeDefined()
    expect(tier.get('b', 0)).toBeUndefined()
  })

  it('counts an expired entry reached by eviction as an expiration, not an eviction', () => {
    const tier = new MemoryTier({ maxBytes: 2000, maxEntryBytes: 2000 })
    tier.set('a', sized(1000), 10, 0)
    tier.set('b', sized(1000), 1000, 0)
    tier.set('c', sized(1000), 1000, 20)
    expect(tier.stats()).toMatchObject({ entries: 2, bytes: 2000, evictions: 0, expirations: 1 })
  })
})

describe('MemoryTier deleteWhere, delete and clear', () => {
  it('deletes the entries a tag predicate selects and returns how many', () => {
    const tier = new MemoryTier({ maxBytes: 10_000, maxEntryBytes: 10_000 })
    tier.set('a', sized(1000, ['x']), 1000, 0)
    tier.set('b', sized(1000, ['y']), 1000, 0)
    tier.set('c', sized(1000, ['x', 'y']), 1000, 0)
    tier.set('d', vary, 1000, 0)
    const removed = tier.deleteWhere((_key, value) => value.kind === 'entry' && value.tags.includes('x'))
    expect(removed).toBe(2)
    expect(tier.get('a', 0)).toBeUndefined()
    expect(tier.get('b', 0)).toBeDefined()
    expect(tier.get('c', 0)).toBeUndefined()
    expect(tier.stats()).toMatchObject({ entries: 2, bytes: 1000 + entrySize(vary, 'd') })
  })

  it('deletes by key prefix', () => {
    const tier = new MemoryTier({ maxBytes: 10_000, maxEntryBytes: 10_000 })
    for (const key of ['/a/1', '/a/2', '/b/1']) tier.set(key, entry(0), 1000, 0)
    expect(tier.deleteWhere((key) => key.startsWith('/a/'))).toBe(2)
    expect(tier.deleteWhere((key) => key.startsWith('/a/'))).toBe(0)
    expect(tier.stats().entries).toBe(1)
  })

  it('delete reports whether the key was present', () => {
    const tier = new MemoryTier({ maxBytes: 10_000, maxEntryBytes: 10_000 })
    tier.set('k', sized(1000), 1000, 0)
    expect(tier.delete('k')).toBe(true)
    expect(tier.delete('k')).toBe(false)
    expect(tier.stats()).toMatchObject({ entries: 0, bytes: 0 })
  })

  it('clear empties the tier but keeps counters and peakBytes', () => {
    const tier = new MemoryTier({ maxBytes: 10_000, maxEntryBytes: 10_000 })
    tier.set('a', sized(1000), 1000, 0)
    tier.set('b', sized(2000), 1000, 0)
    tier.get('a', 0)
    tier.get('z', 0)
    tier.clear()
    expect(tier.stats()).toEqual({
      entries: 0,
      bytes: 0,
      peakBytes: 3000,
      maxBytes: 10_000,
      hits: 1,
      misses: 1,
      evictions: 0,
      expirations: 0,
    })
    expect(tier.get('a', 0)).toBeUndefined()
  })
})

describe('MemoryTier stats', () => {
  it('counts hits, misses, evictions and expirations exactly', () => {
    const tier = new MemoryTier({ maxBytes: 2000, maxEntryBytes: 2000 })
    tier.set('a', sized(1000), 100, 0)
    tier.set('b', sized(1000), 1000, 0)
    tier.get('a', 50) // hit
    tier.get('b', 50) // hit
    tier.get('x', 50) // miss
    tier.set('c', sized(1000), 1000, 60) // evicts a (live)
    tier.get('a', 60) // miss
    tier.set('d', sized(500), 10, 60) // evicts b (live)
    tier.get('d', 70) // miss (expired)
    expect(tier.stats()).toEqual({
      entries: 1,
      bytes: 1000,
      peakBytes: 2000,
      maxBytes: 2000,
      hits: 2,
      misses: 3,
      evictions: 2,
      expirations: 1,
    })
  })
})

describe('MemoryTier under a randomized workload', () => {
  /** A deliberately naive model: an array in LRU order with the same rules. */
  interface ModelSlot {
    key: string
    value: Stored
    size: number
    expiresAt: number
  }

  it('never exceeds its byte budget and matches a reference LRU, 10× the budget written', () => {
    const maxBytes = 64 * 1024
    const maxEntryBytes = 16 * 1024
    const tier = new MemoryTier({ maxBytes, maxEntryBytes })
    const model: ModelSlot[] = []
    const modelBytes = (): number => model.reduce((sum, slot) => sum + slot.size, 0)
    const random = prng(20240601)
    const keys = Array.from({ length: 64 }, (_, i) => `/item/${i}`)
    let now = 0
    let written = 0
    let rejected = 0
    let operations = 0

    while (written < 10 * maxBytes) {
      now += Math.floor(random() * 50)
      const key = keys[Math.floor(random() * keys.length)]!
      const roll = random()
      if (roll < 0.45) {
        const value = entry(Math.floor(random() * 20 * 1024), random() < 0.5 ? ['even'] : ['odd'])
        const ttl = random() < 0.05 ? 0 : Math.floor(random() * 2000)
        const size = entrySize(value, key)
        const stored = tier.set(key, value, ttl, now)
        const at = model.findIndex((slot) => slot.key === key)
        if (at >= 0) model.splice(at, 1)
        const expected = ttl > 0 && size <= maxEntryBytes
        expect(stored).toBe(expected)
        if (expected) {
          while (modelBytes() + size > maxBytes) model.shift()
          model.push({ key, value, size, expiresAt: now + ttl })
          written += size
        } else {
          rejected++
        }
      } else if (roll < 0.9) {
        const got = tier.get(key, now)
        const at = model.findIndex((slot) => slot.key === key)
        const slot = model[at]
        if (slot === undefined) {
          expect(got).toBeUndefined()
        } else {
          model.splice(at, 1)
          if (now >= slot.expiresAt) {
            expect(got).toBeUndefined()
          } else {
            expect(got).toBe(slot.value)
            model.push(slot)
          }
        }
      } else if (roll < 0.97) {
        const existed = model.some((slot) => slot.key === key)
        expect(tier.delete(key)).toBe(existed)
        const at = model.findIndex((slot) => slot.key === key)
        if (at >= 0) model.splice(at, 1)
      } else {
        const tag = random() < 0.5 ? 'even' : 'odd'
        const selects = (value: Stored): boolean => value.kind === 'entry' && value.tags.includes(tag)
        const expected = model.filter((slot) => selects(slot.value)).length
        expect(tier.deleteWhere((_key, value) => selects(value))).toBe(expected)
        model.splice(0, model.length, ...model.filter((slot) => !selects(slot.value)))
      }
      operations++

      const stats = tier.stats()
      expect(stats.bytes).toBeLessThanOrEqual(maxBytes)
      expect(stats.peakBytes).toBeLessThanOrEqual(maxBytes)
      expect(stats.bytes).toBe(modelBytes())
      expect(stats.entries).toBe(model.length)
    }

    const stats = tier.stats()
    expect(written).toBeGreaterThanOrEqual(10 * maxBytes)
    expect(rejected).toBeGreaterThan(0)
    expect(stats.evictions).toBeGreaterThan(0)
    expect(stats.expirations).toBeGreaterThan(0)
    expect(stats.peakBytes).toBeGreaterThan(maxBytes - maxEntryBytes)
    expect(stats.hits + stats.misses).toBeGreaterThan(operations / 3)
  })
})
