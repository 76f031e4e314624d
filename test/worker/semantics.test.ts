import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cacheStatus, eventually, servedBy, startStack, type Stack } from '../support/stack.ts'

// RFC 9111 shared-cache behaviour, observed end to end through the worker in workerd.
describe('HTTP caching semantics through the worker', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(() => stack.close())
  beforeEach(() => stack.origin.resetStats())

  const get = async (path: string, init?: RequestInit) => {
    const res = await stack.workers[0]!.fetch(path, init)
    const body = await res.text()
    return { res, body, by: servedBy(res), status: cacheStatus(res) }
  }
  const originCount = () => stack.origin.stats().requests

  it.each(['/no-store', '/private', '/set-cookie', '/vary/star', '/fail?status=500'])(
    'never stores %s: every request reaches the origin',
    async (path) => {
      const first = await get(path)
      const second = await get(path)
      expect(first.by).toBe('origin')
      expect(second.by).toBe('origin')
      expect(originCount()).toBe(2)
      expect(String(second.status['tiercache-memory']?.detail ?? '')).toMatch(/uncacheable|hit-for-miss/)
    }
  )

  it('stores a private="Set-Cookie" response without its Set-Cookie (RFC 9111 §5.2.2.7)', async () => {
    const first = await get('/private-field')
    expect(first.res.headers.get('set-cookie')).toBeTruthy()
    const second = await get('/private-field')
    expect(second.by).toBe('memory')
    expect(second.res.headers.get('set-cookie')).toBeNull()
    expect(second.body).toBe(first.body)
  })

  it('keeps one variant per normalised Vary value and preserves Vary for downstream caches', async () => {
    const en = await get('/vary/lang', { headers: { 'accept-language': 'en' } })
    const fr = await get('/vary/lang', { headers: { 'accept-language': 'fr' } })
    expect(en.body).not.toBe(fr.body)
    const enAgain = await get('/vary/lang', { headers: { 'accept-language': 'en' } })
    const frAgain = await get('/vary/lang', { headers: { 'accept-language': 'fr' } })
    expect(enAgain.by).toBe('memory')
    expect(frAgain.by).toBe('memory')
    expect(enAgain.body).toBe(en.body)
    expect(frAgain.body).toBe(fr.body)
    expect(enAgain.res.headers.get('vary')).toMatch(/accept-language/i)
    expect(originCount()).toBe(2)
  })

  it('obeys CDN-Cache-Control for its tiers and passes Cache-Control to the browser (RFC 9213)', async () => {
    await get('/cdn')
    const hit = await get('/cdn')
    expect(hit.by).toBe('memory')
    expect(Number(hit.status['tiercache-memory']!.ttl)).toBeGreaterThan(250)
    expect(hit.res.headers.get('cache-control')).toBe('max-age=5')
  })

  it('answers a matching If-None-Match from cache with 304 (RFC 9110 §13.1.2)', async () => {
    const first = await get('/etag/cond-1')
    const etag = first.res.headers.get('etag')!
    // An explicit Cache-Control stops the Fetch standard's client from adding `no-cache` to a
    // conditional request (fetch spec, HTTP-network-or-cache fetch step 8.20).
    const res = await stack.workers[0]!.fetch('/etag/cond-1', { headers: { 'if-none-match': etag, 'cache-control': 'max-age=3600' } })
    expect(res.status).toBe(304)
    expect(res.headers.get('etag')).toBe(etag)
    expect(await res.text()).toBe('')
    expect(originCount()).toBe(1)
  })

  it('revalidates when the client sends Cache-Control: no-cache, answering its conditional with 304 (RFC 9111 §5.2.1.4)', async () => {
    const first = await get('/etag/cond-2')
    const res = await stack.workers[0]!.fetch('/etag/cond-2', { headers: { 'if-none-match': first.res.headers.get('etag')!, 'cache-control': 'no-cache' } })
    expect(res.status).toBe(304)
    expect(cacheStatus(res)['tiercache-memory']).toMatchObject({ fwd: 'stale', 'fwd-status': '304' })
    expect(originCount()).toBe(2)
  })

  it('answers HEAD from the stored GET, without a body', async () => {
    const first = await get('/public/head-1')
    const res = await stack.workers[0]!.fetch('/public/head-1', { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(servedBy(res)).toBe('memory')
    expect(res.headers.get('etag')).toBe(first.res.headers.get('etag'))
    expect(await res.text()).toBe('')
    expect(originCount()).toBe(1)
  })

  it('a successful PUT invalidates the target URI in every tier (RFC 9111 §4.4)', async () => {
    const before = await get('/items/inv-1')
    expect((await get('/items/inv-1')).by).toBe('memory')
    const put = await stack.workers[0]!.fetch('/items/inv-1', { method: 'PUT', body: 'new body' })
    expect(put.status).toBeLessThan(300)
    await put.arrayBuffer()
    await eventually(async () => (await get('/items/inv-1')).by === 'origin')
    const after = await get('/items/inv-1')
    expect(after.body).not.toBe(before.body)
    expect(after.body).toContain('new body')
  })

  it('serves stale within stale-while-revalidate and refreshes in the background once (RFC 5861 §3)', async () => {
    const first = await get('/swr')
    expect(first.by).toBe('origin')
    // The origin holds every request from here on, so the background refresh cannot finish while the
    // stale copy is being served; its arrival in the origin's request log is the signal it started.
    stack.origin.setFault({ mode: 'timeout' })
    try {
      // max-age=2 with a one-second `Date`: fresh memory hits (which touch nothing) until the worker
      // itself marks the copy stale.
      await eventually(async () => {
        const s = await get('/swr')
        expect(s).toMatchObject({ by: 'memory', body: first.body })
        return s.status['tiercache-memory']?.detail === 'stale-while-revalidate'
      }, 10_000)
      await eventually(() => originCount() === 2)
      // While the one refresh is held, every request gets the stale copy at once, from memory.
      const burst = await Promise.all(Array.from({ length: 5 }, () => get('/swr')))
      for (const s of burst) {
        expect(s).toMatchObject({ by: 'memory', body: first.body })
        expect(s.status['tiercache-memory']?.detail).toBe('stale-while-revalidate')
      }
    } finally {
      stack.origin.setFault({ mode: 'ok' })
    }
    // Released: the refresh lands in memory, and it was the only one (six stale answers, one fetch).
    await eventually(async () => (await get('/swr')).body !== first.body)
    const refreshed = await get('/swr')
    expect(refreshed.by).toBe('memory')
    expect(refreshed.body).not.toBe(first.body)
    expect(stack.origin.requestLog().filter((r) => r.url === '/swr')).toHaveLength(2)
  })

  it('revalidates a no-cache response on every use and a 304 keeps the stored body (RFC 9111 §4.3.4)', async () => {
    const first = await get('/no-cache')
    const second = await get('/no-cache')
    expect(second.body).toBe(first.body)
    expect(second.status['tiercache-memory']).toMatchObject({ fwd: 'stale', 'fwd-status': '304' })
    expect(originCount()).toBe(2)
  })

  it('shares a response to an Authorization request only when it is public (RFC 9111 §3.5)', async () => {
    const alice = await get('/me/shared', { headers: { authorization: 'Bearer alice' } })
    const bob = await get('/me/shared', { headers: { authorization: 'Bearer bob' } })
    expect(bob.by).toBe('memory')
    expect(bob.body).toBe(alice.body)
    const a = await get('/me/implicit', { headers: { authorization: 'Bearer alice' } })
    const b = await get('/me/implicit', { headers: { authorization: 'Bearer bob' } })
    expect(a.body).toContain('alice')
    expect(b.body).toContain('bob')
    expect(b.by).toBe('origin')
  })

  it('stores an error status only with explicit freshness', async () => {
    await get('/status/404')
    expect((await get('/status/404')).by).toBe('memory')
    await get('/fail?status=503')
    expect((await get('/fail?status=503')).by).toBe('origin')
  })

  it('caches a response with only Last-Modified heuristically (RFC 9111 §4.2.2)', async () => {
    await get('/heuristic')
    expect((await get('/heuristic')).by).toBe('memory')
  })

  it('keys the query in a normalised order and ignores tracking parameters', async () => {
    await get('/public/q?a=1&b=2')
    expect((await get('/public/q?b=2&a=1')).by).toBe('memory')
    expect((await get('/public/q?a=1&b=2&utm_source=x')).by).toBe('memory')
    expect((await get('/public/q?a=1&b=3')).by).toBe('origin')
  })
})
