import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cacheKeyOf, cacheStatus, eventually, redisCommand, redisHolds, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { IDENTITY } from '../support/straight-to-origin.ts'

// HEAD when memory has no fresh copy (src/stack/head.ts): a fresh copy at the edge answers it (RFC 9110
// §9.3.2: the header fields a GET would get, no body); otherwise it goes to the origin as a HEAD and nothing
// is stored (a HEAD answer has no body to store). HEAD never consults Redis, so it never takes the fill
// lease: a HEAD in flight must not make GETs elsewhere wait.

describe('HEAD on a memory miss', () => {
  let stack: Stack
  let worker: WorkerProcess
  beforeAll(async () => {
    // A long δ and a warm-up keep purge-log reads out of the Upstash counts below.
    stack = await startStack({ vars: { COHERENCE_DELTA_MS: '3600000' } })
    worker = stack.workers[0]!
    await (await worker.fetch('/public/warm-up', { headers: IDENTITY })).arrayBuffer()
  })
  afterAll(() => stack.close())
  beforeEach(() => stack.origin.resetStats())

  const head = async (path: string) => {
    stack.upstash.resetStats()
    const res = await worker.fetch(path, { method: 'HEAD', headers: IDENTITY })
    const body = await res.arrayBuffer()
    return { res, bodyBytes: body.byteLength, status: cacheStatus(res), cacheStatus: res.headers.get('cache-status') ?? '', upstash: stack.upstash.stats().requests }
  }
  const leaseExists = async (path: string) => (await redisCommand(stack, 'EXISTS', `${stack.prefix}lease:${cacheKeyOf(path)}`)) === 1
  /** The methods of the requests the origin received for `path`, oldest first. */
  const originMethods = (path: string) => stack.origin.requestLog().filter((r) => new URL(r.url, 'http://x').pathname === path).map((r) => r.method)

  /** Fills `path` with a GET and waits for its edge and Redis copies; returns the GET's answer. */
  async function filled(path: string): Promise<Response> {
    const res = await worker.fetch(path, { headers: IDENTITY })
    await res.arrayBuffer()
    await eventually(() => worker.edgeHolds(path))
    await eventually(() => redisHolds(stack, path))
    return res
  }

  it('a fresh edge copy answers it: the GET header fields, no body, no origin and no Upstash request', async () => {
    const path = '/public/head-edge'
    const get = await filled(path)
    await worker.clearMemory()
    const res = await head(path)
    expect(res.res.status).toBe(200)
    expect.soft(servedBy(res.res), res.cacheStatus).toBe('edge')
    expect.soft(res.bodyBytes).toBe(0)
    for (const name of ['etag', 'last-modified', 'cache-control', 'content-length', 'x-origin-serial']) {
      expect.soft(res.res.headers.get(name), name).toBe(get.headers.get(name))
    }
    expect.soft(res.upstash, 'Upstash requests').toBe(0)
    expect(originMethods(path)).toEqual(['GET'])
  })

  it('with nothing stored it goes to the origin as a HEAD, takes no lease, and stores nothing', async () => {
    const path = '/public/head-cold'
    const res = await head(path)
    expect(res.res.status).toBe(200)
    expect.soft(servedBy(res.res), res.cacheStatus).toBe('origin')
    expect.soft(res.status['tiercache-memory'], res.cacheStatus).toMatchObject({ fwd: 'method', detail: 'head-miss' })
    expect.soft(res.cacheStatus, 'Cache-Status claims a tier stored it').not.toMatch(/stored/)
    expect.soft(res.bodyBytes).toBe(0)
    expect.soft(res.res.headers.get('etag'), "the origin's header fields").toBe('"public-head-cold"')
    expect.soft(res.upstash, 'Upstash requests (no lookup, no lease)').toBe(0)
    expect(originMethods(path)).toEqual(['HEAD'])

    expect.soft(await leaseExists(path), 'a lease left behind').toBe(false)
    expect.soft(await redisHolds(stack, path), 'Redis holds it').toBe(false)
    expect.soft(await worker.edgeHolds(path), 'the edge holds it').toBe(false)
    // Memory did not keep it either: the next GET is a plain miss that goes to the origin at once.
    const get = await worker.fetch(path, { headers: IDENTITY })
    await get.arrayBuffer()
    expect.soft(servedBy(get), get.headers.get('cache-status') ?? '').toBe('origin')
    expect.soft(get.headers.get('cache-status') ?? '').not.toMatch(/lease-wait|collapsed/)
    expect(originMethods(path)).toEqual(['HEAD', 'GET'])
  })

  it('a copy only Redis holds does not answer it: it goes to the origin as a HEAD, Redis untouched', async () => {
    const path = '/public/head-redis-only'
    await filled(path)
    await worker.clearMemory()
    await worker.clearEdge(path)
    const res = await head(path)
    expect(res.res.status).toBe(200)
    expect.soft(servedBy(res.res), res.cacheStatus).toBe('origin')
    expect.soft(res.status['tiercache-memory']?.detail, res.cacheStatus).toBe('head-miss')
    expect.soft(res.upstash, 'Upstash requests').toBe(0)
    expect(originMethods(path)).toEqual(['GET', 'HEAD'])
    expect.soft(await worker.edgeHolds(path), 'the edge was not refilled by a HEAD').toBe(false)
  })

  it('a stale edge copy does not answer it: it goes to the origin as a plain HEAD (no revalidation) and the copy stays as it was', async () => {
    // Stored (it has an ETag) but stale at once.
    const path = '/revalidate/head-stale'
    const get = await worker.fetch(path, { headers: { ...IDENTITY, 'x-demo-cache-control': 'max-age=0' } })
    await get.arrayBuffer()
    await eventually(() => worker.edgeHolds(path))
    await worker.clearMemory()
    const res = await head(path)
    expect(res.res.status).toBe(200)
    expect.soft(servedBy(res.res), res.cacheStatus).toBe('origin')
    expect.soft(res.status['tiercache-memory']?.detail, res.cacheStatus).toBe('head-miss')
    expect.soft(res.upstash, 'Upstash requests').toBe(0)
    const log = stack.origin.requestLog().filter((r) => r.url === path)
    expect(log.map((r) => r.method)).toEqual(['GET', 'HEAD'])
    expect.soft(log[1]?.headers['if-none-match'], 'a HEAD miss is forwarded, not revalidated').toBeUndefined()
    // The HEAD's answer (max-age=60 by default) did not refresh the stored copy.
    const after = await worker.fetch(path, { headers: { ...IDENTITY, 'cache-control': 'only-if-cached' } })
    await after.arrayBuffer()
    expect.soft(after.status, 'the stored copy is still stale').toBe(504)
  })
})
