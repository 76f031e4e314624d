import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { decodeFromRedis } from '../../src/codec.ts'
import { decodeEdgeMeta } from '../../src/tiers/edge-form.ts'
import { entryHeader, type CacheEntry } from '../../src/entry.ts'
import { EDGE_META_HEADER, edgeUrlFor } from '../../src/tiers/edge.ts'
import { cacheKeyOf, cacheStatus, eventually, redisCommand, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { IDENTITY } from '../support/straight-to-origin.ts'

// Revalidation (RFC 9111 §4.3) and `only-if-cached` (§5.2.1.7), end to end. `/revalidate/:id` on the demo
// origin lets the revalidating request change the origin's answer (scripts/demo-origin/README.md): its
// entity-tag, its Cache-Control, and whether it answers 304 to a validator that does not match. A client's
// `Cache-Control: no-cache` makes the worker revalidate a fresh stored copy (§5.2.1.4), so no test waits
// for anything to go stale.

/** A revalidation the client asks for: the stored copy is used only once the origin has validated it. */
const REVALIDATE = { ...IDENTITY, 'cache-control': 'no-cache' }

describe('304 revalidation edge cases and only-if-cached', () => {
  let stack: Stack
  let worker: WorkerProcess
  beforeAll(async () => {
    stack = await startStack({ workers: 1, vars: { COHERENCE_DELTA_MS: '3600000' } })
    worker = stack.workers[0]!
    await (await worker.fetch('/public/warm-up', { headers: IDENTITY })).arrayBuffer()
  })
  afterAll(() => stack.close())
  beforeEach(() => stack.origin.resetStats())

  const get = async (path: string, headers: Record<string, string> = IDENTITY, from = worker) => {
    const res = await from.fetch(path, { headers })
    return { res, body: await res.text(), status: cacheStatus(res), cacheStatus: res.headers.get('cache-status') ?? '' }
  }
  /** Each tier in turn answers next: as it is (memory), memory cleared (the edge), memory and edge cleared (Redis). */
  const tierByTier = (path: string) =>
    [
      ['memory', async () => {}],
      ['edge', () => worker.clearMemory()],
      ['redis', async () => {
        await worker.clearMemory()
        await worker.clearEdge(path)
      }],
    ] as const
  const originRequests = (path: string) => stack.origin.stats().byPath[path] ?? 0
  /** `If-None-Match` of each request the origin received for `path` after the fill, oldest first (null: none). */
  const revalidations = (path: string) =>
    stack.origin
      .requestLog()
      .filter((r) => new URL(r.url, 'http://x').pathname === path)
      .slice(1)
      .map((r) => r.headers['if-none-match'] ?? null)

  /** What Redis holds at `path`'s key, decoded. */
  async function redisEntry(path: string): Promise<CacheEntry | undefined> {
    const text = await redisCommand(stack, 'GET', `${stack.prefix}${cacheKeyOf(path)}`)
    if (typeof text !== 'string') return undefined
    const stored = await decodeFromRedis(text)
    return stored.kind === 'entry' ? stored : undefined
  }
  /** What the worker's edge cache holds at `path`'s key, decoded. */
  async function edgeEntry(path: string): Promise<CacheEntry | undefined> {
    const found = await (await worker.caches()).default.match(edgeUrlFor(cacheKeyOf(path), '/__tiercache'))
    if (!found) return undefined
    const meta = found.headers.get(EDGE_META_HEADER)
    const body = new Uint8Array(await found.arrayBuffer())
    const stored = meta ? decodeEdgeMeta(meta, found.headers as unknown as Headers) : undefined
    return stored?.kind === 'entry' ? { ...stored, body } : undefined
  }
  /** Fills `path` and waits until Redis and the edge hold it; returns the first answer. */
  async function filled(path: string) {
    const first = await get(path)
    expect(servedBy(first.res)).toBe('origin')
    await eventually(async () => (await redisEntry(path)) !== undefined)
    await eventually(async () => (await edgeEntry(path)) !== undefined)
    return first
  }

  it('a 304 whose validator matches no stored response is not used: the full response is fetched and stored (§4.3.4)', async () => {
    const path = '/revalidate/mismatch'
    const first = await filled(path)
    expect(first.res.headers.get('etag')).toBe('"revalidate-mismatch"')

    // The origin now has "v2" and answers 304 to any conditional request.
    const res = await get(path, { ...REVALIDATE, 'x-demo-etag': '"v2"', 'x-demo-not-modified': 'always' })
    const serial = res.res.headers.get('x-origin-serial')
    expect(res.res.status).toBe(200)
    expect.soft(res.res.headers.get('etag'), 'the new representation').toBe('"v2"')
    expect.soft(res.body, 'its own body, not the stored one').toBe(`revalidate mismatch, entity-tag "v2"\nserial ${serial}\n`)
    // Two origin requests: the conditional one (answered 304 with "v2"), then an unconditional one.
    expect(revalidations(path)).toEqual(['"revalidate-mismatch"', null])

    const next = await get(path)
    expect.soft(servedBy(next.res), `the next request (Cache-Status: ${next.cacheStatus})`).toBe('memory')
    expect.soft(next.body, 'the refetched response was stored').toBe(res.body)
    expect.soft(next.res.headers.get('etag')).toBe('"v2"')
    expect(originRequests(path)).toBe(3)
  })

  it('a 304 that makes the entry unstorable (no-store) is served with the merged headers and stored nowhere', async () => {
    const path = '/revalidate/unstorable'
    const first = await filled(path)
    const fillSerial = first.res.headers.get('x-origin-serial')

    const res = await get(path, { ...REVALIDATE, 'x-demo-cache-control': 'no-store' })
    const notModifiedSerial = res.res.headers.get('x-origin-serial')
    expect(revalidations(path)).toEqual(['"revalidate-unstorable"'])
    expect(res.res.status).toBe(200)
    // The stored body with the 304's header fields (RFC 9111 §4.3.4).
    expect.soft(res.body, 'the stored body').toBe(first.body)
    expect.soft(res.res.headers.get('cache-control'), 'merged Cache-Control').toBe('no-store')
    expect.soft(notModifiedSerial, "the 304's own header fields").not.toBe(fillSerial)
    expect.soft(res.cacheStatus, 'Cache-Status claims a tier stored it').not.toMatch(/stored/)

    // No tier holds the merged response: whatever answers next — memory, the edge or Redis — never carries it.
    for (const [tier, prepare] of tierByTier(path)) {
      await prepare()
      const next = await get(path)
      expect.soft(next.res.headers.get('cache-control'), `after clearing up to ${tier} (${next.cacheStatus})`).not.toBe('no-store')
      expect.soft(next.res.headers.get('x-origin-serial'), `after clearing up to ${tier} (${next.cacheStatus})`).not.toBe(notModifiedSerial)
    }
    const inRedis = await redisEntry(path)
    expect.soft(inRedis && entryHeader(inRedis, 'cache-control'), 'what Redis holds').not.toBe('no-store')
  })

  it('a 304 that makes the entry unstorable drops the stored copy from every tier (its headers are replaced, §4.3.4)', async () => {
    const path = '/revalidate/dropped'
    await filled(path)
    await eventually(async () => (await redisEntry(path)) !== undefined && (await edgeEntry(path)) !== undefined)
    const res = await get(path, { ...REVALIDATE, 'x-demo-cache-control': 'no-store' })
    expect(res.res.status).toBe(200)
    expect(res.res.headers.get('cache-control')).toBe('no-store')
    await eventually(async () => (await redisEntry(path)) === undefined && (await edgeEntry(path)) === undefined)
    const next = await get(path)
    expect(servedBy(next.res), next.cacheStatus).toBe('origin')
  })

  it('a 304 that changes header fields updates the stored response in every tier; the body stays (§4.3.4)', async () => {
    const path = '/revalidate/updated'
    const first = await filled(path)

    const res = await get(path, { ...REVALIDATE, 'x-demo-cache-control': 'max-age=120' })
    const notModifiedSerial = res.res.headers.get('x-origin-serial')
    expect(revalidations(path)).toEqual(['"revalidate-updated"'])
    expect(res.res.status).toBe(200)
    expect.soft(res.body).toBe(first.body)
    expect.soft(res.res.headers.get('cache-control')).toBe('max-age=120')
    expect.soft(res.status['tiercache-memory'], res.cacheStatus).toMatchObject({ fwd: 'stale', 'fwd-status': '304', stored: true })

    const updated = (entry: CacheEntry | undefined) =>
      entry !== undefined && entryHeader(entry, 'cache-control') === 'max-age=120' && entryHeader(entry, 'x-origin-serial') === notModifiedSerial
    // The shared tiers are written in the background: each is read directly until it holds the update.
    await eventually(async () => updated(await redisEntry(path)))
    await eventually(async () => updated(await edgeEntry(path)))
    expect.soft(new TextDecoder().decode((await redisEntry(path))?.body), 'the body in Redis').toBe(first.body)

    // And each tier serves it so.
    const other = await stack.startWorker()
    for (const [tier, prepare, from] of [
      ['memory', async () => {}, worker],
      ['edge', () => worker.clearMemory(), worker],
      ['redis', async () => {
        await worker.clearMemory()
        await worker.clearEdge(path)
      }, worker],
      ['redis', async () => {}, other],
    ] as const) {
      await prepare()
      const next = await get(path, IDENTITY, from)
      const where = `${tier}${from === other ? ' (another process)' : ''}: ${next.cacheStatus}`
      expect.soft(servedBy(next.res), where).toBe(tier)
      expect.soft(next.res.headers.get('cache-control'), where).toBe('max-age=120')
      expect.soft(next.res.headers.get('x-origin-serial'), where).toBe(notModifiedSerial)
      expect.soft(next.body, where).toBe(first.body)
    }
    expect(originRequests(path)).toBe(2)
  })

  it('only-if-cached: a miss is a 504 with a JSON body and no origin request (RFC 9111 §5.2.1.7)', async () => {
    const res = await worker.fetch('/public/oic-miss', { headers: { ...IDENTITY, 'cache-control': 'only-if-cached' } })
    const text = await res.text()
    expect(res.status).toBe(504)
    expect.soft(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect.soft(res.headers.get('cache-control')).toBe('no-store')
    expect.soft(JSON.parse(text)).toEqual({ error: expect.stringMatching(/only-if-cached/) })
    expect.soft(cacheStatus(res)['tiercache-memory']?.detail).toBe('only-if-cached')
    expect(originRequests('/public/oic-miss')).toBe(0)
  })

  it('only-if-cached: a stored response is served from whichever tier holds it, without the origin', async () => {
    const path = '/public/oic-hit'
    const first = await filled(path)
    const onlyIfCached = { ...IDENTITY, 'cache-control': 'only-if-cached' }
    for (const [tier, prepare] of tierByTier(path)) {
      await prepare()
      const res = await get(path, onlyIfCached)
      expect.soft(res.res.status, `${tier}: ${res.cacheStatus}`).toBe(200)
      expect.soft(servedBy(res.res), `${tier}: ${res.cacheStatus}`).toBe(tier)
      expect.soft(res.body).toBe(first.body)
    }
    expect(originRequests(path)).toBe(1)
  })
})
