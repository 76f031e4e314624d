import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cacheKeyOf, eventually, redisCommand, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { IDENTITY } from '../support/straight-to-origin.ts'

// Hit-for-miss (Varnish's name): after an uncacheable answer, later requests for the key skip the
// coalescing wait and go to the origin. It is about the kind of request that got the uncacheable answer:
// a response to a request with credentials is unshareable only because of those credentials (RFC 9111
// §3.5; tiercache treats Cookie like Authorization), so it must not stop anonymous requests for the same
// URL from being cached and served. `/me/implicit` sends `max-age=60` and no `Vary`, body `hello <user>`.

describe('hit-for-miss is per kind of request', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ workers: 2, vars: { COHERENCE_DELTA_MS: '3600000' } })
  })
  afterAll(() => stack.close())
  beforeEach(() => {
    stack.origin.resetStats()
    stack.origin.setFault({ mode: 'ok', latencyMs: 0 })
  })

  const get = async (worker: WorkerProcess, path: string, headers: Record<string, string> = {}) => {
    const res = await worker.fetch(path, { headers: { ...IDENTITY, ...headers } })
    return { res, body: await res.text(), status: res.headers.get('cache-status') ?? '' }
  }

  it.each<{ credential: string; headers: Record<string, string> }>([
    { credential: 'Authorization', headers: { authorization: 'Bearer alice' } },
    { credential: 'Cookie', headers: { cookie: 'user=alice' } },
  ])('after a request with $credential, anonymous requests are filled once and then hit', async ({ credential, headers }) => {
    const path = `/me/implicit?hfm=${credential}`
    const personal = await get(stack.workers[0]!, path, headers)
    expect(personal.body).toBe('hello alice\n' + `serial ${personal.res.headers.get('x-origin-serial')}\n`)
    expect(servedBy(personal.res)).toBe('origin')

    const fill = await get(stack.workers[0]!, path)
    expect(fill.body, 'no leak of the personal answer').toMatch(/^hello anonymous\n/)
    expect.soft(fill.status, 'the anonymous fill').not.toMatch(/hit-for-miss/)

    const hit = await get(stack.workers[0]!, path)
    expect.soft(servedBy(hit.res), `the second anonymous request (Cache-Status: ${hit.status})`).toBe('memory')
    expect.soft(hit.body).toBe(fill.body)
    expect.soft(stack.origin.stats().byPath['/me/implicit'], 'origin requests').toBe(2)
  })

  it('a credentialed request in one process does not stop anonymous caching in another', async () => {
    const path = '/me/implicit?hfm=cross-process'
    const personal = await get(stack.workers[0]!, path, { authorization: 'Bearer bob' })
    expect(personal.body).toMatch(/^hello bob\n/)

    const fill = await get(stack.workers[1]!, path)
    expect(fill.body).toMatch(/^hello anonymous\n/)
    expect.soft(fill.status, 'the anonymous fill').not.toMatch(/hit-for-miss/)
    const hit = await get(stack.workers[1]!, path)
    expect.soft(servedBy(hit.res), `the second anonymous request (Cache-Status: ${hit.status})`).not.toBe('origin')
    expect.soft(hit.body).toBe(fill.body)
    // And the first process, whose own hit-for-miss came from the credentialed request, uses the shared copy.
    const elsewhere = await get(stack.workers[0]!, path)
    expect.soft(servedBy(elsewhere.res), `anonymous in the first process (Cache-Status: ${elsewhere.status})`).not.toBe('origin')
    expect.soft(elsewhere.body).toBe(fill.body)
    expect.soft(stack.origin.stats().byPath['/me/implicit'], 'origin requests').toBe(2)
  })

  it('credentialed requests still never get the anonymous copy', async () => {
    const path = '/me/implicit?hfm=after-fill'
    const fill = await get(stack.workers[0]!, path)
    expect(fill.body).toMatch(/^hello anonymous\n/)
    const personal = await get(stack.workers[0]!, path, { authorization: 'Bearer carol' })
    expect(personal.body).toMatch(/^hello carol\n/)
    expect(servedBy(personal.res)).toBe('origin')
    const again = await get(stack.workers[0]!, path)
    expect.soft(servedBy(again.res), `anonymous after a credentialed request (Cache-Status: ${again.status})`).toBe('memory')
    expect.soft(again.body).toBe(fill.body)
  })

  it('an uncacheable answer still sends the next concurrent requests straight to the origin, uncollapsed', async () => {
    const path = '/no-store?hfm=concurrent'
    await get(stack.workers[0]!, path)
    // The origin holds every request it gets: all five reach it only if none waits on another's fetch
    // (collapsed requests would wait up to the 5 s coalesce deadline before asking themselves).
    stack.origin.setFault({ mode: 'timeout' })
    const next = Array.from({ length: 5 }, () => get(stack.workers[0]!, path))
    await eventually(() => stack.origin.stats().byPath['/no-store'] === 6, 3000)
    stack.origin.setFault({ mode: 'ok' })
    for (const { res } of await Promise.all(next)) expect(servedBy(res)).toBe('origin')
  })

  it("a request's own Cache-Control: no-store is not an uncacheable answer: it marks nothing (RFC 9111 §5.2.1.5)", async () => {
    // The request forbids storing *this* response; the URL's answers stay shareable. A marker here would let any
    // client switch off coalescing and the fill lease for a URL, everywhere, by sending one header.
    const path = '/public/hfm-request-no-store'
    const refused = await get(stack.workers[0]!, path, { 'cache-control': 'no-store' })
    expect(servedBy(refused.res)).toBe('origin')
    expect.soft(refused.status, 'nothing was stored').not.toMatch(/stored/)
    const marker = `${stack.prefix}hfm:${cacheKeyOf(path)}`
    expect.soft(await redisCommand(stack, 'EXISTS', marker), 'the Redis hit-for-miss marker').toBe(0)

    const fill = await get(stack.workers[0]!, path)
    expect.soft(fill.status, 'the next request in the same process').not.toMatch(/hit-for-miss/)
    expect.soft(await redisCommand(stack, 'EXISTS', marker), 'the Redis hit-for-miss marker').toBe(0)
    const hit = await get(stack.workers[1]!, path)
    expect.soft(servedBy(hit.res), `another process (Cache-Status: ${hit.status})`).toBe('redis')
  })

  it('a cacheable answer ends hit-for-miss: once the origin recovers from a 503 the URL is cached again', async () => {
    const path = '/public/hfm-recovers'
    stack.origin.setFault({ mode: 'error', status: 503 })
    const failed = await get(stack.workers[0]!, path)
    expect(failed.res.status).toBe(503)
    stack.origin.setFault({ mode: 'ok' })
    const fill = await get(stack.workers[0]!, path)
    expect(fill.res.status).toBe(200)
    const hit = await get(stack.workers[0]!, path)
    expect.soft(servedBy(hit.res), `the request after the fill (Cache-Status: ${hit.status})`).not.toBe('origin')
    expect.soft(hit.body).toBe(fill.body)
    expect.soft(stack.origin.stats().byPath[path], 'origin requests').toBe(2)
  })
})
