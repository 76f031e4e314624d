import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import path from 'node:path'
import { MiniflareWithCoverage as Miniflare } from './support/workerd-coverage.ts'
import { buildWorker, bundleDir } from '../scripts/build-worker.ts'
import { cacheStatus, servedBy } from './support/stack.ts'

describe('tieredCache() as a Hono middleware in a worker author’s app (workerd)', () => {
  let mf: Miniflare
  beforeAll(async () => {
    const script = await buildWorker('test/fixtures/middleware-app.ts', path.join(bundleDir, 'middleware-app.js'))
    mf = new Miniflare({ host: '127.0.0.1', port: 0, modules: true, scriptPath: script, compatibilityDate: '2026-07-01' })
    await mf.ready
  })
  afterAll(() => mf.dispose())

  const get = async (p: string, init?: RequestInit) => {
    const res = (await mf.dispatchFetch(`http://app.test${p}`, init as never)) as unknown as Response
    return { res, body: await res.text() }
  }
  const calls = async () => ((await (await mf.dispatchFetch('http://app.test/calls')).json()) as { calls: number }).calls

  it('answers repeat GETs from memory without running the handler again', async () => {
    const first = await get('/products')
    const second = await get('/products')
    expect(servedBy(first.res)).toBe('origin')
    expect(servedBy(second.res)).toBe('memory')
    expect(second.body).toBe(first.body)
    expect(await calls()).toBe(1)
    expect(cacheStatus(second.res)['tiercache-memory']).toMatchObject({ hit: true })
  })

  it('never stores a private response', async () => {
    const a = await get('/private')
    const b = await get('/private')
    expect(a.body).not.toBe(b.body)
  })

  it('applies a route ttl when the handler sets no freshness', async () => {
    const a = await get('/ttl')
    const b = await get('/ttl')
    expect(servedBy(b.res)).toBe('memory')
    expect(b.body).toBe(a.body)
    expect(Number(cacheStatus(b.res)['tiercache-memory']!.ttl)).toBeGreaterThan(25)
  })

  it('a PUT through the middleware invalidates the cached GET (RFC 9111 §4.4)', async () => {
    const before = await get('/products')
    expect((await get('/products', { method: 'PUT' })).res.status).toBe(200)
    const after = await get('/products')
    expect(servedBy(after.res)).toBe('origin')
    expect(after.body).not.toBe(before.body)
  })
})
