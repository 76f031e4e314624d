import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import path from 'node:path'
import { MiniflareWithCoverage as Miniflare } from '../support/workerd-coverage.ts'
import { buildWorker, bundleDir } from '../../scripts/build-worker.ts'
import { startUpstashLocal, type UpstashLocal } from '../../scripts/upstash-local/server.ts'
import { servedBy, TEST_TOKEN } from '../support/stack.ts'
import { randomUUID } from 'node:crypto'

describe('tieredCache((env) => options) and dataCache(c) in a worker author’s app (workerd)', () => {
  let mf: Miniflare
  let upstash: UpstashLocal
  beforeAll(async () => {
    upstash = await startUpstashLocal({ port: 0, token: TEST_TOKEN })
    const script = await buildWorker('test/fixtures/data-factory-app.ts', path.join(bundleDir, 'data-factory-app.js'))
    mf = new Miniflare({
      host: '127.0.0.1',
      port: 0,
      modules: true,
      scriptPath: script,
      compatibilityDate: '2026-07-01',
      bindings: { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: TEST_TOKEN, REDIS_PREFIX: `t:${randomUUID().slice(0, 8)}:` },
    })
    await mf.ready
  })
  afterAll(async () => {
    await mf.dispose()
    await upstash.close()
  })

  const get = async (p: string) => (await mf.dispatchFetch(`http://app.test${p}`)) as unknown as Response
  const counts = async () => (await (await get('/counts')).json()) as { factoryCalls: number; loads: number }

  it('gets the Worker’s env through the factory (once) and caches values and responses in one engine', async () => {
    const first = await get('/users/1')
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ id: '1', name: 'user 1' })
    expect(first.headers.get('server-timing')).toMatch(/tiercache-data;dur=[0-9.]+;desc="loaded"/)
    const again = await get('/users/1')
    expect(again.headers.get('server-timing')).toMatch(/desc="memory-hit"/)
    // The middleware's route reads the same value from the same memory tier: the factory ran once, for both.
    const api = await get('/api/users/1')
    expect(await api.json()).toMatchObject({ user: { id: '1' } })
    expect(api.headers.get('server-timing')).toMatch(/desc="memory-hit"/)
    const cached = await get('/api/users/1')
    expect(servedBy(cached)).toBe('memory')
    expect(await counts()).toEqual({ factoryCalls: 1, loads: 1 })
  })

  it('caches a loader’s "not found" (undefined) as a 404 the handler writes', async () => {
    expect((await get('/users/missing')).status).toBe(404)
    expect((await get('/users/missing')).status).toBe(404)
    expect((await counts()).loads).toBe(2)
  })
})
