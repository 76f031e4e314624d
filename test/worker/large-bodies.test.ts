import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededBytes } from '../../scripts/demo-origin/routes/payloads.ts'
import { cacheStatus, eventually, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'

// Bodies larger than memory and Redis hold (3 MiB here) are never held whole: they stream to the client
// and, through a tee, into the edge; edge hits stream back out. These drive the paths that only such
// bodies take: a body whose length is unknown until it ends, and a streamed edge entry revalidated in the
// background.
const MIB = 1024 * 1024
const IDENTITY = { 'accept-encoding': 'identity' }

describe('large bodies stream through the edge', () => {
  let stack: Stack
  let worker: WorkerProcess
  beforeAll(async () => {
    stack = await startStack()
    worker = stack.workers[0]!
  })
  afterAll(() => stack.close())

  const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer())
  /** Byte equality without a deep diff (expect().toEqual over megabytes takes tens of seconds). */
  const same = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
  /** GETs the origin saw for `path` (any query). HEAD probes below go to the origin when the edge misses. */
  const originGets = (path: string) => stack.origin.requestLog().filter((r) => r.method === 'GET' && r.url.split('?')[0] === path).length
  /**
   * Waits until the worker's edge holds `path`: a HEAD answered from memory or the edge, never the origin
   * (Miniflare's Node-side view of the Cache API cannot read an entry stored from a stream of unknown
   * length, so the test asks the worker itself).
   */
  const edgeHolds = (path: string) =>
    eventually(async () => {
      const res = await worker.fetch(path, { method: 'HEAD', headers: IDENTITY })
      return servedBy(res) === 'edge'
    }, 10_000)

  it('a chunked 5 MiB body (length unknown until it ends): whole to the client, stored at the edge, then edge hits', async () => {
    const path = `/bytes/${5 * MIB}`
    stack.origin.setFault({ mode: 'chunked' })
    try {
      const first = await worker.fetch(`${path}?seed=11`, { headers: IDENTITY })
      expect(first.status).toBe(200)
      expect(servedBy(first)).toBe('origin')
      const status = cacheStatus(first)
      expect(status['tiercache-edge']?.stored).toBe(true)
      expect(status['tiercache-redis']?.detail).toBe('too-large')
      expect(status['tiercache-memory']?.stored).toBeUndefined()
      expect(same(await bytesOf(first), seededBytes(5 * MIB, 11))).toBe(true)
    } finally {
      stack.origin.setFault({ mode: 'ok' })
    }
    await edgeHolds(`${path}?seed=11`)
    const second = await worker.fetch(`${path}?seed=11`, { headers: IDENTITY })
    expect(servedBy(second)).toBe('edge')
    expect(same(await bytesOf(second), seededBytes(5 * MIB, 11))).toBe(true)
    expect(originGets(path)).toBe(1)
  })

  it('a byte range of a large edge entry is cut from its stream', async () => {
    const path = `/ranged/${4 * MIB}`
    await bytesOf(await worker.fetch(path, { headers: IDENTITY }))
    await edgeHolds(path)
    const res = await worker.fetch(path, { headers: { ...IDENTITY, 'cache-control': 'max-stale=0', range: 'bytes=3000000-3000099' } })
    expect(res.status).toBe(206)
    expect(servedBy(res)).toBe('edge')
    expect(res.headers.get('content-range')).toBe(`bytes 3000000-3000099/${4 * MIB}`)
    expect(same(await bytesOf(res), seededBytes(4 * MIB, 7).subarray(3_000_000, 3_000_100))).toBe(true)
  })

  it('a stale large edge entry is served under stale-while-revalidate, and the background 304 re-stores it from the edge', async () => {
    const path = `/ranged/${4 * MIB + 1}`
    const query = '?max-age=2&swr=60'
    const whole = seededBytes(4 * MIB + 1, 7)
    const head = async () => servedBy(await worker.fetch(path + query, { method: 'HEAD', headers: IDENTITY }))
    await bytesOf(await worker.fetch(path + query, { headers: IDENTITY }))
    await edgeHolds(path + query)
    // Staleness is the semantics under test: a HEAD is answered from the edge only while the copy is
    // fresh, so wait for the 2 s lifetime to pass (HEAD misses go to the origin as HEAD, never GET).
    await eventually(async () => (await head()) !== 'edge', 6000)
    const before = originGets(path)
    const stale = await worker.fetch(path + query, { headers: IDENTITY })
    expect(servedBy(stale)).toBe('edge')
    expect(cacheStatus(stale)['tiercache-edge']?.detail).toBe('stale-while-revalidate')
    expect(same(await bytesOf(stale), whole)).toBe(true)
    // The refresh asks the origin conditionally; the 304's body is the edge's own, read again, and the
    // entry is stored afresh: the copy is fresh again, and the next GET is a fresh edge hit, same bytes.
    await eventually(async () => (await head()) === 'edge', 6000)
    const next = await worker.fetch(path + query, { headers: IDENTITY })
    expect(servedBy(next)).toBe('edge')
    expect(cacheStatus(next)['tiercache-edge']?.detail).toBeUndefined()
    expect(same(await bytesOf(next), whole)).toBe(true)
    const gets = stack.origin.requestLog().filter((r) => r.method === 'GET' && r.url.split('?')[0] === path)
    expect(gets.length - before).toBe(1)
    expect(gets.at(-1)?.headers['if-none-match']).toBe(`"ranged-${4 * MIB + 1}"`)
  })
})
