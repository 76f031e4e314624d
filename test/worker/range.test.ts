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

  it('a range miss on an origin that ignores Range: the whole answer is stored and the range served from it', async () => {
    const res = await stack.workers[0]!.fetch('/public/range-miss', { headers: { 'cache-control': 'max-stale=0', range: 'bytes=0-5' } })
    expect(res.status).toBe(206)
    expect(servedBy(res)).toBe('origin')
    expect(await res.text()).toBe('public')
    const next = await stack.workers[0]!.fetch('/public/range-miss')
    expect(servedBy(next)).toBe('memory')
    expect(await next.text()).toMatch(/^public resource range-miss/)
  })

  describe('partial content (RFC 9111 §3.3): a 206 is stored and the ranges it holds are served from it', () => {
    const whole = (n: number) => {
      // /ranged/:n sends seeded bytes (seed 7): compare against the origin's own whole answer.
      return stack.origin.url + `/ranged/${n}`
    }
    const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer())
    const ranged = (path: string, range: string) =>
      stack.workers[0]!.fetch(path, { headers: { 'cache-control': 'max-stale=0', range } })

    it('stores bytes=10-59 of /ranged/100, then serves it and narrower ranges without the origin', async () => {
      const reference = new Uint8Array(await (await fetch(whole(100))).arrayBuffer())
      const path = '/ranged/100'
      const first = await ranged(path, 'bytes=10-59')
      expect(first.status).toBe(206)
      expect(first.headers.get('content-range')).toBe('bytes 10-59/100')
      expect(await bytes(first)).toEqual(reference.subarray(10, 60))
      const asked = () => stack.origin.stats().byPath[path] ?? 0
      const before = asked()
      for (const [range, from, to] of [['bytes=10-59', 10, 59], ['bytes=20-29', 20, 29], ['bytes=50-', -1, -1]] as const) {
        const res = await ranged(path, range)
        if (from < 0) {
          // bytes=50- asks up to the end (99), which the stored part (10-59) does not hold: the origin again.
          expect(servedBy(res)).toBe('origin')
          await res.arrayBuffer()
          continue
        }
        expect(res.status).toBe(206)
        expect(servedBy(res)).toBe('memory')
        expect(res.headers.get('content-range')).toBe(`bytes ${from}-${to}/100`)
        expect(await bytes(res)).toEqual(reference.subarray(from, to + 1))
      }
      expect(asked()).toBe(before + 1)
    })

    it('never answers a GET for the whole representation from a stored part', async () => {
      const path = '/ranged/64'
      await (await ranged(path, 'bytes=0-9')).arrayBuffer()
      const full = await stack.workers[0]!.fetch(path)
      expect(full.status).toBe(200)
      expect(servedBy(full)).toBe('origin')
      expect((await bytes(full)).byteLength).toBe(64)
      // The whole response replaced the part: ranges now come from it.
      const after = await ranged(path, 'bytes=30-39')
      expect(after.status).toBe(206)
      expect(servedBy(after)).toBe('memory')
      await after.arrayBuffer()
    })
  })
})
