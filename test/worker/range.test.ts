import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheStatus, servedBy, startStack, type Stack } from '../support/stack.ts'

// Range requests are answered from a stored complete response (RFC 9110 §14, RFC 9111 §3.3).
describe('range requests served from the cache', () => {
  let stack: Stack
  let full: string
  beforeAll(async () => {
    stack = await startStack()
    const res = await stack.workers[0]!.fetch('/public/range')
    full = await res.text()
    expect(full.length).toBeGreaterThan(20)
  })
  afterAll(() => stack.close())

  // Node's fetch (undici, under Miniflare's dispatchFetch) adds `Cache-Control: no-cache` to requests
  // with conditional headers such as If-Range (Fetch standard, cache mode "no-store") unless the request
  // already has a Cache-Control; a directive that changes nothing here keeps the request as a client sent it.
  const get = (headers: Record<string, string>) =>
    stack.workers[0]!.fetch('/public/range', { headers: { 'cache-control': 'max-stale=0', ...headers } })

  it.each([
    ['bytes=0-1', 0, 1],
    ['bytes=5-', 5, -1],
    ['bytes=-3', -3, -1],
  ])('%s → 206 from memory with Content-Range and the right bytes', async (range, from, to) => {
    const before = stack.origin.stats().byPath['/public/range']
    const res = await get({ range })
    const start = from < 0 ? full.length + from : from
    const end = to < 0 ? full.length - 1 : to
    expect(res.status).toBe(206)
    expect(servedBy(res)).toBe('memory')
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${full.length}`)
    expect(res.headers.get('content-length')).toBe(String(end - start + 1))
    expect(await res.text()).toBe(full.slice(start, end + 1))
    expect(stack.origin.stats().byPath['/public/range']).toBe(before)
  })

  it('answers an unsatisfiable range with 416 and the length', async () => {
    const res = await get({ range: `bytes=${full.length}-` })
    expect(res.status).toBe(416)
    expect(res.headers.get('content-range')).toBe(`bytes */${full.length}`)
    await res.arrayBuffer()
  })

  it('sends the whole body for several ranges, and when If-Range does not match', async () => {
    const cases: Array<Record<string, string>> = [{ range: 'bytes=0-1,3-4' }, { range: 'bytes=0-1', 'if-range': '"not-it"' }]
    for (const headers of cases) {
      const res = await get(headers)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(full)
    }
  })

  it('serves the range when If-Range names the stored ETag', async () => {
    const etag = (await stack.workers[0]!.fetch('/public/range', { method: 'HEAD' })).headers.get('etag')!
    const res = await get({ range: 'bytes=0-1', 'if-range': etag })
    expect(res.status).toBe(206)
    expect(await res.text()).toBe(full.slice(0, 2))
  })

  it('sends a range request that finds nothing to the origin as it is, and stores nothing from it', async () => {
    const res = await stack.workers[0]!.fetch('/public/range-miss', { headers: { range: 'bytes=0-1' } })
    expect(servedBy(res)).toBe('origin')
    expect(cacheStatus(res)['tiercache-memory']?.detail).toBe('range-miss')
    await res.arrayBuffer()
    const next = await stack.workers[0]!.fetch('/public/range-miss')
    expect(servedBy(next)).toBe('origin')
    await next.arrayBuffer()
  })
})
