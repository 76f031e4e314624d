/**
 * The middleware/data-API seam: `tieredCache` configured from the Worker's env (a factory), and `dataCache(c)`
 * using the same engine as the middleware, on routes it covers and on routes it does not.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { Hono, type Context } from 'hono'
import { tieredCache } from '../../src/middleware.ts'
import { dataCache } from '../../src/data/index.ts'
import { isolateEngine, resetIsolateEngine } from '../../src/isolate-engine.ts'
import type { ResolvedOptions } from '../../src/options.ts'

interface Env {
  MEMORY_MAX_BYTES: string
}

describe('tieredCache((env) => options) and dataCache(c)', () => {
  beforeEach(() => resetIsolateEngine())

  it('calls the factory once, on the first request, with the Worker’s env', async () => {
    const seen: Env[] = []
    const app = new Hono<{ Bindings: Env }>()
    app.use('/api/*', tieredCache<Env>((env) => {
      seen.push(env)
      return { edge: false, memory: { maxBytes: Number(env.MEMORY_MAX_BYTES) }, routes: [{ pattern: '/api/', ttl: 30 }] }
    }))
    let calls = 0
    app.get('/api/x', (c) => c.text(`x ${++calls}`))
    expect(seen).toHaveLength(0)
    const env = { MEMORY_MAX_BYTES: '1048576' }
    const first = await app.request('/api/x', {}, env)
    const second = await app.request('/api/x', {}, env)
    expect(await first.text()).toBe('x 1')
    expect(await second.text()).toBe('x 1')
    expect(seen).toEqual([env])
  })

  it('a factory’s bad option fails the request with its ConfigError message', async () => {
    const app = new Hono<{ Bindings: Env }>()
    app.use('*', tieredCache<Env>((env) => ({ memory: { maxBytes: Number(env.MEMORY_MAX_BYTES) } })))
    app.get('/', (c) => c.text('ok'))
    app.onError((error, c) => c.text(error.message, 500))
    const res = await app.request('/', {}, { MEMORY_MAX_BYTES: 'lots' })
    expect(await res.text()).toBe('[tiercache] invalid configuration: memory.maxBytes must be a positive integer, got NaN')
  })

  it('dataCache(c) uses the middleware’s engine, on its routes and on others, even before the middleware ran', async () => {
    const app = new Hono<{ Bindings: Env }>()
    app.use('/api/*', tieredCache<Env>(() => ({ edge: false, routes: [{ pattern: '/api/', ttl: 30 }] })))
    let loads = 0
    const handler = async (c: Context<{ Bindings: Env }>) =>
      c.json(await dataCache(c).getOrSet('shared', () => ({ loads: ++loads }), { ttl: 60 }))
    app.get('/users/1', handler)
    app.get('/api/users/1', handler)
    const env = { MEMORY_MAX_BYTES: '1' }
    // The middleware has not run yet: the data API resolves its factory.
    const outside = await app.request('/users/1', {}, env)
    expect(outside.headers.get('server-timing')).toMatch(/^tiercache-data;dur=[0-9.]+;desc="loaded"$/)
    const inside = await app.request('/api/users/1', {}, env)
    expect(await inside.json()).toEqual({ loads: 1 })
    expect(loads).toBe(1)
    const engine = isolateEngine(env)!
    expect(engine.tiers.memory!.stats().entries).toBeGreaterThanOrEqual(2) // the value and the HTTP entry
    expect(engine.stats.snapshot()).toMatchObject({ data_requests: 2, data_loads: 1, data_memory_hits: 1 })
  })

  it('without a middleware, dataCache builds one engine per isolate from options or the env', async () => {
    const app = new Hono()
    app.get('/v', async (c) => c.json(await dataCache(c, { tiers: { edge: false } }).getOrSet('v', () => Math.random(), { ttl: 60 })))
    const a = await (await app.request('/v')).json()
    const b = await (await app.request('/v')).json()
    expect(a).toBe(b)
    const engine = isolateEngine({})!
    expect((engine.options as ResolvedOptions).edge).toBe(false)
    const outside = dataCache({ env: {} })
    expect(await outside.get('v')).toBe(a)
    expect(() => dataCache(undefined as never)).toThrow('tiercache dataCache() takes a Hono context (dataCache(c)) or { env, ctx } (dataCache({ env, ctx }))')
  })
})
