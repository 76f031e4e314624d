import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, redisHolds, servedBy, startStack, type Stack } from '../support/stack.ts'
import { IDENTITY } from '../support/straight-to-origin.ts'

// A cached answer carries the same `Content-Length` as the origin's (RFC 9110 §8.6): the body's length for
// GET, and for HEAD the length a GET would send (§9.3.2), from every tier. workerd compresses text for
// clients that accept gzip (and then drops the length), so these requests ask for identity.

/** What the worker sent over a real socket: status, `Content-Length` and body bytes received. */
function rawExchange(url: string, method: 'GET' | 'HEAD'): Promise<{ status: number; contentLength: string | undefined; received: number; cacheStatus: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let received = 0
      res.on('data', (chunk: Buffer) => (received += chunk.length))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentLength: res.headers['content-length'],
          received,
          cacheStatus: String(res.headers['cache-status'] ?? ''),
        })
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('Content-Length on cached answers', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ vars: { COHERENCE_DELTA_MS: '3600000' } })
  })
  afterAll(() => stack.close())
  const worker = () => stack.workers[0]!

  it.each([
    { label: 'text', path: '/public/cl-text' },
    { label: 'binary', path: '/bytes/12345?seed=9' },
  ])('GET and HEAD from the origin, memory, edge and Redis all carry the body length ($label)', async ({ path }) => {
    const miss = await worker().fetch(path, { headers: IDENTITY })
    const length = (await miss.arrayBuffer()).byteLength
    expect(servedBy(miss)).toBe('origin')
    expect.soft(miss.headers.get('content-length'), 'GET from the origin').toBe(String(length))
    await eventually(() => worker().edgeHolds(path))
    await eventually(() => redisHolds(stack, path))

    const check = async (tier: string, prepare: () => Promise<unknown>) => {
      for (const method of ['GET', 'HEAD'] as const) {
        await prepare()
        const res = await worker().fetch(path, { method, headers: IDENTITY })
        const body = await res.arrayBuffer()
        const where = `${method} from ${tier} (Cache-Status: ${res.headers.get('cache-status')})`
        if (method === 'GET') expect(body.byteLength, where).toBe(length)
        if (method === 'HEAD') expect(body.byteLength, where).toBe(0)
        expect.soft(res.headers.get('content-length'), where).toBe(String(length))
      }
    }
    await check('memory', async () => {})
    await check('edge', () => worker().clearMemory())
    // HEAD is answered from memory or the edge only (with both empty it goes to the origin); a GET
    // refills them, so clear both before each.
    await check('redis (HEAD: the origin)', async () => {
      await worker().clearMemory()
      await worker().clearEdge(path)
    })
  })

  it('on the wire: a cached HEAD declares what the origin HEAD declares', async () => {
    const path = '/public/cl-wire'
    const originHead = await rawExchange(`${stack.origin.url}${path}`, 'HEAD')
    const fill = await rawExchange(`${worker().url}${path}`, 'GET')
    expect(fill.contentLength).toBe(String(fill.received))
    const head = await rawExchange(`${worker().url}${path}`, 'HEAD')
    expect(head.cacheStatus).toMatch(/tiercache-memory; hit/)
    expect(head.received).toBe(0)
    expect.soft(head.contentLength, 'cached HEAD Content-Length').toBe(originHead.contentLength)
    const get = await rawExchange(`${worker().url}${path}`, 'GET')
    expect.soft(get.contentLength, 'cached GET Content-Length').toBe(String(get.received))
  })
})
