/**
 * The data API over a memory-only engine, in-process: single-flight, negative caching, namespaces, wrap,
 * writes, size limits and misuse. The tiers shared across processes are exercised in workerd by
 * test/worker/data-*.test.ts.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { createEngine } from '../../src/engine.ts'
import { resolveOptions } from '../../src/options.ts'
import { DataCache } from '../../src/data/cache.ts'
import { shouldRefreshEarly } from '../../src/data/steps.ts'
import { toEntry } from '../../src/data/envelope.ts'
import { LoaderTimeoutError } from '../../src/data/errors.ts'

const pending: Promise<unknown>[] = []
const newCache = (memory = { maxBytes: 1024 * 1024, maxEntryBytes: 64 * 1024 }) => {
  let clock = 1_000_000
  const engine = createEngine(resolveOptions({ edge: false, memory, now: () => clock }))
  const cache = new DataCache({ engine, background: { waitUntil: (p) => void pending.push(p) } })
  return { cache, engine, advance: (ms: number) => (clock += ms) }
}

describe('DataCache over memory', () => {
  it('runs the loader once for concurrent calls, then answers from memory', async () => {
    const { cache, engine } = newCache()
    let calls = 0
    const loader = async () => {
      calls++
      await new Promise((r) => setTimeout(r, 30))
      return { id: 1 }
    }
    const values = await Promise.all(Array.from({ length: 50 }, () => cache.getOrSet('u:1', loader, { ttl: 60 })))
    expect(calls).toBe(1)
    expect(values.every((v) => v.id === 1)).toBe(true)
    expect(await cache.getOrSet('u:1', loader, { ttl: 60 })).toEqual({ id: 1 })
    expect(calls).toBe(1)
    expect(engine.stats.snapshot()).toMatchObject({ data_requests: 51, data_loads: 1, data_memory_hits: 1, collapsed: 49 })
  })

  it('infers T from the loader', async () => {
    const { cache } = newCache()
    const user = await cache.getOrSet('u:2', async () => ({ name: 'Ada', age: 36 }), { ttl: 1 })
    expectTypeOf(user).toEqualTypeOf<{ name: string; age: number }>()
    const maybe = await cache.getOrSet('u:3', (): string | undefined => undefined, { ttl: 1 })
    expectTypeOf(maybe).toEqualTypeOf<string | undefined>()
  })

  it('expires values after ttl and loads again', async () => {
    const { cache, advance } = newCache()
    let n = 0
    const load = () => ++n
    expect(await cache.getOrSet('k', load, { ttl: 10 })).toBe(1)
    advance(9_999)
    expect(await cache.getOrSet('k', load, { ttl: 10 })).toBe(1)
    advance(1)
    expect(await cache.getOrSet('k', load, { ttl: 10 })).toBe(2)
  })

  it('caches "not found" (undefined) for negativeTtl, and not at all with negativeTtl 0', async () => {
    const { cache, advance } = newCache()
    let n = 0
    const missing = () => {
      n++
      return undefined
    }
    for (let i = 0; i < 5; i++) expect(await cache.getOrSet('row:404', missing, { ttl: 60, negativeTtl: 2 })).toBeUndefined()
    expect(n).toBe(1)
    expect(await cache.has('row:404')).toBe(false)
    advance(2_000)
    await cache.getOrSet('row:404', missing, { ttl: 60, negativeTtl: 2 })
    expect(n).toBe(2)
    await cache.getOrSet('row:405', missing, { ttl: 60, negativeTtl: 0 })
    await cache.getOrSet('row:405', missing, { ttl: 60, negativeTtl: 0 })
    expect(n).toBe(4)
  })

  it('set, get, has, delete, deleteByTag', async () => {
    const { cache } = newCache()
    await cache.set('a', { v: 1 }, { ttl: 60, tags: ['t1'] })
    await cache.set('b', [1, 2], { ttl: 60, tags: ['t2'] })
    expect(await cache.get('a')).toEqual({ v: 1 })
    expect(await cache.has('a')).toBe(true)
    await cache.set('a', { v: 2 }, { ttl: 60, tags: ['t1'] })
    expect(await cache.get('a')).toEqual({ v: 2 })
    await cache.delete('a')
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.has('a')).toBe(false)
    await cache.deleteByTag('t2')
    expect(await cache.get('b')).toBeUndefined()
  })

  it('a value that cannot be stored is a TypeError at set, and nothing is stored', async () => {
    const { cache } = newCache()
    await cache.set('d', 'before', { ttl: 60 })
    await expect(cache.set('d', { at: new Date() } as never, { ttl: 60 })).rejects.toThrow('a Date: JSON would not give it back')
    expect(await cache.get('d')).toBe('before')
    await expect(cache.set('d', undefined as never, { ttl: 60 })).rejects.toThrow('tiercache set(key, undefined): to remove a value write delete(key)')
    await expect(cache.getOrSet('e', () => new Map() as never, { ttl: 60 })).rejects.toThrow(TypeError)
  })

  it('keeps a value larger than the memory tier’s entry limit out of memory (as for HTTP entries)', async () => {
    const { cache, engine } = newCache({ maxBytes: 64 * 1024, maxEntryBytes: 4 * 1024 })
    let n = 0
    const big = () => ({ n: ++n, pad: 'x'.repeat(8 * 1024) })
    await cache.getOrSet('big', big, { ttl: 60 })
    await cache.getOrSet('big', big, { ttl: 60 })
    expect(n).toBe(2)
    expect(engine.tiers.memory!.stats().bytes).toBe(0)
    expect(engine.tiers.memory!.stats().peakBytes).toBeLessThanOrEqual(64 * 1024)
  })

  it('namespaces keep keys apart and clear as a whole', async () => {
    const { cache } = newCache()
    const users = cache.namespace('users')
    const admins = users.namespace('admins')
    const other = cache.namespace('other')
    await users.set('a', 'user a', { ttl: 60 })
    await admins.set('a', 'admin a', { ttl: 60 })
    await other.set('a', 'other a', { ttl: 60 })
    await cache.set('a', 'root a', { ttl: 60 })
    expect([await users.get('a'), await admins.get('a'), await other.get('a'), await cache.get('a')]).toEqual(['user a', 'admin a', 'other a', 'root a'])
    await users.clear()
    expect([await users.get('a'), await admins.get('a'), await other.get('a'), await cache.get('a')]).toEqual([undefined, undefined, 'other a', 'root a'])
    await expect(cache.clear()).rejects.toThrow('tiercache clear() clears a namespace: write cache.namespace("users").clear(), or deleteByTag(tag) for tagged values')
    expect(() => cache.namespace('')).toThrow(TypeError)
  })

  it('wrap caches by arguments and keeps the signature', async () => {
    const { cache } = newCache()
    let calls = 0
    async function loadUser(id: string, full: boolean): Promise<{ id: string; full: boolean }> {
      calls++
      return { id, full }
    }
    const cached = cache.wrap(loadUser, { ttl: 60 })
    expectTypeOf(cached).toEqualTypeOf<(id: string, full: boolean) => Promise<{ id: string; full: boolean }>>()
    // @ts-expect-error: the wrapped function keeps loadUser's parameter types
    void (() => cached(42, true))
    expect(await cached('1', true)).toEqual({ id: '1', full: true })
    expect(await cached('1', true)).toEqual({ id: '1', full: true })
    expect(await cached('1', false)).toEqual({ id: '1', full: false })
    expect(calls).toBe(2)
    const byKey = cache.wrap((id: number) => ({ id, calls: ++calls }), { ttl: 60, key: (id) => `n:${id}` })
    expectTypeOf(byKey).toEqualTypeOf<(id: number) => Promise<{ id: number; calls: number }>>()
    expect(await byKey(5)).toEqual({ id: 5, calls: 3 })
    expect(await cache.get('n:5')).toEqual({ id: 5, calls: 3 })
    expect(() => cache.wrap((x: number) => x, { ttl: 60 })).toThrow('tiercache wrap() of an anonymous function needs a key')
    expect(() => cache.wrap(loadUser, { ttl: -1 })).toThrow('tiercache ttl must be a positive number of seconds, got -1')
    const noJson = cache.wrap(function named(f: () => void) {
      return String(f)
    }, { ttl: 60 })
    await expect(noJson(() => {})).rejects.toThrow('give wrap a key function')
  })

  it('misuse of getOrSet says what to write', async () => {
    const { cache } = newCache()
    await expect(cache.getOrSet('', () => 1, { ttl: 1 })).rejects.toThrow('tiercache data key is empty: pass a non-empty string such as "user:42"')
    await expect(cache.getOrSet('k', () => 1, { ttl: -1 })).rejects.toThrow('tiercache ttl must be a positive number of seconds, got -1: write { ttl: 60 } for a minute')
    await expect(cache.getOrSet('k', () => 1, { ttl: 1, tags: ['a,b'] })).rejects.toThrow('give one tag per array item')
    await expect(cache.getOrSet('k', 1 as never, { ttl: 1 })).rejects.toThrow('needs a loader function, got number')
    await expect(cache.deleteByTag('a b')).rejects.toThrow('without commas or spaces')
  })

  it('a loader past hardTimeout fails with LoaderTimeoutError; one that throws fails with its own error', async () => {
    const { cache } = newCache()
    const slow = () => new Promise((r) => setTimeout(() => r('late'), 200))
    const error = await cache.getOrSet('slow', slow, { ttl: 60, hardTimeout: 20 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LoaderTimeoutError)
    expect((error as LoaderTimeoutError).code).toBe('E_LOADER_TIMEOUT')
    await Promise.all(pending)
    await new Promise((r) => setTimeout(r, 250))
    expect(await cache.get('slow')).toBe('late')
    await expect(cache.getOrSet('boom', () => Promise.reject(new Error('db down')), { ttl: 60 })).rejects.toThrow('db down')
  })
})

describe('XFetch (early refresh)', () => {
  const entry = (loadMs: number) =>
    toEntry({ kind: 'json', body: new Uint8Array(), lifetimeMs: 10_000, swrMs: 0, sieMs: 0, tags: [], purgeSeq: 0, now: 0, loadMs })

  it('refreshes when now − δ·β·ln(U) ≥ expiry', () => {
    // δ = 100 ms, expiry at 10 000: 1 s before it, U must be below e^(−10) for β = 1.
    expect(shouldRefreshEarly(entry(100), 1, 9_000, Math.exp(-10.01))).toBe(true)
    expect(shouldRefreshEarly(entry(100), 1, 9_000, Math.exp(-9.99))).toBe(false)
    // β = 2 doubles how early.
    expect(shouldRefreshEarly(entry(100), 2, 9_000, Math.exp(-5.01))).toBe(true)
    // Past expiry, always; with early refresh off or no measured δ, never.
    expect(shouldRefreshEarly(entry(100), 1, 10_000, 0.999)).toBe(true)
    expect(shouldRefreshEarly(entry(100), 0, 9_999, 0)).toBe(false)
    expect(shouldRefreshEarly(entry(0), 1, 9_999, 0.000001)).toBe(false)
  })
})
