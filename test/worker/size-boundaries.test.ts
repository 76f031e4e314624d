import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededBytes } from '../../scripts/demo-origin/routes/payloads.ts'
import { decodeFromRedis } from '../../src/codec.ts'
import { decodeEdgeMeta } from '../../src/tiers/edge-form.ts'
import { entrySize, type CacheEntry } from '../../src/entry.ts'
import { EDGE_META_HEADER, EdgeTier, edgeMetaLength, edgeUrlFor } from '../../src/tiers/edge.ts'
import { RedisTier } from '../../src/tiers/redis.ts'
import { cacheKeyOf, cacheStatus, eventually, redisCommand, redisHolds, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { IDENTITY } from '../support/straight-to-origin.ts'

// Per-tier size limits at exactly the limit and one byte over (design.md §4 rule 4): the memory tier's
// per-entry cap (a quarter of MEMORY_MAX_BYTES), the Redis entry limit (RedisTier.fits: 4 MiB encoded), the
// edge's metadata header limit (EdgeTier.fits: 32 KiB) and a body above every tier's limit (the edge's
// 50 MiB). Cache-Status (RFC 9211 §2.6) must say `stored` for exactly the tiers that stored the response,
// and each tier is checked for what it really holds.
//
// The boundaries depend on the stored header fields, so they are measured, not guessed: a probe response
// is filled, read back from Redis and decoded, and each boundary is found with the tiers' own `fits` and
// `entrySize` on that entry. The responses under test have header fields of the same lengths (the origin's
// serial is kept at three digits); each test then checks, on the entry actually stored, that it sits
// exactly at the limit or one byte over.

const MiB = 1024 * 1024
const REDIS_MAX_ENTRY_BYTES = 4 * MiB
const EDGE_MAX_ENTRY_BYTES = 50 * MiB
const EDGE_META_LIMIT = 32 * 1024
const INTERNAL_PREFIX = '/__tiercache'

/** The tiers' own size checks, outside workerd: `fits` decides from the entry alone. */
const redisLimit = new RedisTier({} as never, { prefix: '', maxEntryBytes: REDIS_MAX_ENTRY_BYTES, breakerFailures: 3, breakerCooldownMs: 1, now: Date.now })
const edgeLimit = new EdgeTier({ cacheName: 'default', maxEntryBytes: EDGE_MAX_ENTRY_BYTES, streamAboveBytes: MiB, pathPrefix: INTERNAL_PREFIX, now: Date.now })

/** The largest `n` in [low, high] for which `ok(n)` holds (`ok` is monotone: true, then false). */
function largest(low: number, high: number, ok: (n: number) => boolean): number {
  while (low < high) {
    const mid = Math.ceil((low + high) / 2)
    if (ok(mid)) low = mid
    else high = mid - 1
  }
  return low
}

describe('tier size limits at exactly the limit and one byte over', () => {
  let stack: Stack
  let worker: WorkerProcess

  beforeAll(async () => {
    stack = await startStack({ vars: { COHERENCE_DELTA_MS: '3600000' } })
    worker = stack.workers[0]!
    // Stored header fields include `X-Origin-Serial`: keep it at three digits for every response below.
    for (let serial = 0; serial < 100; ) {
      const res = await fetch(`${stack.origin.url}/public/serial`)
      await res.arrayBuffer()
      serial = Number(res.headers.get('x-origin-serial'))
    }
    await (await worker.fetch('/public/warm-up', { headers: IDENTITY })).arrayBuffer()
  })
  afterAll(() => stack.close())

  const get = async (from: WorkerProcess, path: string) => {
    const res = await from.fetch(path, { headers: IDENTITY })
    const body = new Uint8Array(await res.arrayBuffer())
    return { res, body, status: cacheStatus(res), cacheStatus: res.headers.get('cache-status') ?? '' }
  }
  /** Which tiers `Cache-Status` says stored the response. */
  const storedIn = (status: ReturnType<typeof cacheStatus>) =>
    ['memory', 'edge', 'redis'].filter((tier) => status[`tiercache-${tier}`]?.stored === true)

  async function redisEntry(path: string): Promise<CacheEntry> {
    const text = await redisCommand(stack, 'GET', `${stack.prefix}${cacheKeyOf(path)}`)
    if (typeof text !== 'string') throw new Error(`Redis holds nothing at ${path}`)
    const stored = await decodeFromRedis(text)
    if (stored.kind !== 'entry') throw new Error(`Redis holds a ${stored.kind} at ${path}`)
    return stored
  }
  async function edgeEntry(from: WorkerProcess, path: string): Promise<CacheEntry> {
    const found = await (await from.caches()).default.match(edgeUrlFor(cacheKeyOf(path), INTERNAL_PREFIX))
    const meta = found?.headers.get(EDGE_META_HEADER)
    if (!found || !meta) throw new Error(`the edge holds nothing at ${path}`)
    const stored = decodeEdgeMeta(meta, found.headers as unknown as Headers)
    if (stored.kind !== 'entry') throw new Error(`the edge holds a ${stored.kind} at ${path}`)
    return { ...stored, body: new Uint8Array(await found.arrayBuffer()) }
  }
  /** Fills `path` on the probe worker and returns the entry Redis stored, to measure header overheads on. */
  async function probe(path: string): Promise<CacheEntry> {
    await get(worker, path)
    await eventually(() => redisHolds(stack, path))
    return redisEntry(path)
  }
  const withBody = (entry: CacheEntry, bytes: number): CacheEntry => ({ ...entry, body: new Uint8Array(bytes) })

  it("memory's per-entry cap (MEMORY_MAX_BYTES / 4): an entry of exactly the cap is kept, one byte more is not", async () => {
    const exact = '/bytes/2000?seed=11'
    const over = '/bytes/2001?seed=11'
    // Same key length and header fields as the paths under test; only the body differs.
    const sample = await probe('/bytes/1000?seed=11')
    const cap = entrySize(withBody(sample, 2000), cacheKeyOf(exact))
    const tight = await stack.startWorker({ MEMORY_MAX_BYTES: String(4 * cap) })

    const memoryBytes = async () => (await tight.stats()).memory!.bytes
    const before = await memoryBytes()
    const atCap = await get(tight, exact)
    await eventually(() => redisHolds(stack, exact))
    expect(entrySize(await redisEntry(exact), cacheKeyOf(exact)), 'precondition: the entry is exactly the cap').toBe(cap)
    expect.soft(storedIn(atCap.status), atCap.cacheStatus).toEqual(['memory', 'edge', 'redis'])
    expect.soft((await memoryBytes()) - before, 'bytes memory took').toBe(cap)
    const again = await get(tight, exact)
    expect.soft(servedBy(again.res), again.cacheStatus).toBe('memory')

    const overCap = await get(tight, over)
    await eventually(() => redisHolds(stack, over))
    expect(entrySize(await redisEntry(over), cacheKeyOf(over)), 'precondition: one byte over the cap').toBe(cap + 1)
    expect.soft(storedIn(overCap.status), overCap.cacheStatus).toEqual(['edge', 'redis'])
    expect.soft((await memoryBytes()) - before, 'bytes memory took').toBe(cap)
    await eventually(() => tight.edgeHolds(over))
    const next = await get(tight, over)
    expect.soft(servedBy(next.res), `the next request (${next.cacheStatus})`).toBe('edge')
    expect(Buffer.from(next.body).equals(Buffer.from(seededBytes(2001, 11)))).toBe(true)
  })

  it('the Redis entry limit: a body that exactly fits is stored in Redis, one byte more stays out (and still goes to the edge)', async () => {
    const sample = await probe('/bytes/1001?seed=12')
    const fitting = largest(0, REDIS_MAX_ENTRY_BYTES, (bytes) => redisLimit.fits(withBody(sample, bytes)))
    // Sanity, independent of fits: base64 alone caps the body at 3 MiB; the metadata bound costs a few KiB.
    expect(fitting).toBeLessThanOrEqual(3 * MiB)
    expect(fitting).toBeGreaterThan(3 * MiB - 8 * 1024)
    const exact = `/bytes/${fitting}?seed=12`
    const over = `/bytes/${fitting + 1}?seed=12`

    const atLimit = await get(worker, exact)
    expect(atLimit.body.byteLength).toBe(fitting)
    expect.soft(storedIn(atLimit.status), atLimit.cacheStatus).toEqual(['edge', 'redis'])
    await eventually(() => redisHolds(stack, exact), 10_000)
    expect(await redisCommand(stack, 'STRLEN', `${stack.prefix}${cacheKeyOf(exact)}`), 'the Redis value').toBeLessThanOrEqual(REDIS_MAX_ENTRY_BYTES)
    const inRedis = await redisEntry(exact)
    expect(redisLimit.fits(inRedis), 'precondition: it fits').toBe(true)
    expect(redisLimit.fits(withBody(inRedis, fitting + 1)), 'precondition: one byte more would not').toBe(false)
    expect.soft(Buffer.from(inRedis.body).equals(Buffer.from(seededBytes(fitting, 12))), 'the body in Redis').toBe(true)

    const overLimit = await get(worker, over)
    expect(overLimit.body.byteLength).toBe(fitting + 1)
    expect.soft(storedIn(overLimit.status), overLimit.cacheStatus).toEqual(['edge'])
    expect.soft(overLimit.status['tiercache-redis']?.detail, overLimit.cacheStatus).toBe('too-large')
    await eventually(() => worker.edgeHolds(over), 10_000)
    const atEdge = await edgeEntry(worker, over)
    expect(redisLimit.fits(atEdge), 'precondition: it does not fit').toBe(false)
    expect(redisLimit.fits(withBody(atEdge, fitting)), 'precondition: one byte less would').toBe(true)
    expect.soft(await redisHolds(stack, over), 'Redis holds it').toBe(false)
  })

  it("the edge's metadata header limit (32 KiB): an entry whose metadata is exactly at it goes to the edge, one byte more does not", async () => {
    // Route tags travel in the metadata; one tag's length moves it a byte at a time. The three ids have the
    // same length, so the stored header fields do too.
    const sample = await probe('/public/em-probe')
    const tagOf = (length: number) => 't'.repeat(length)
    const tagLength = largest(1, EDGE_META_LIMIT, (length) => edgeLimit.fits({ ...sample, tags: [tagOf(length)] }))
    const routes = [
      { pattern: '/public/em-exact', tags: [tagOf(tagLength)] },
      { pattern: '/public/em-over1', tags: [tagOf(tagLength + 1)] },
    ]
    const tagged = await stack.startWorker({ ROUTES: JSON.stringify(routes) })

    const atLimit = await get(tagged, '/public/em-exact')
    await eventually(() => redisHolds(stack, '/public/em-exact'))
    expect(edgeMetaLength(await redisEntry('/public/em-exact')), 'precondition: metadata exactly at the limit').toBe(EDGE_META_LIMIT)
    expect.soft(storedIn(atLimit.status), atLimit.cacheStatus).toEqual(['memory', 'edge', 'redis'])
    await eventually(() => tagged.edgeHolds('/public/em-exact'))
    await tagged.clearMemory()
    const fromEdge = await get(tagged, '/public/em-exact')
    expect.soft(servedBy(fromEdge.res), fromEdge.cacheStatus).toBe('edge')

    const overLimit = await get(tagged, '/public/em-over1')
    await eventually(() => redisHolds(stack, '/public/em-over1'))
    // Unpadded base64url: one more byte of metadata is two more characters.
    expect(edgeMetaLength(await redisEntry('/public/em-over1')), 'precondition: one byte of metadata over').toBe(EDGE_META_LIMIT + 2)
    expect.soft(storedIn(overLimit.status), overLimit.cacheStatus).toEqual(['memory', 'redis'])
    expect.soft(await tagged.edgeHolds('/public/em-over1'), 'the edge holds it').toBe(false)
    // Served from Redis once memory is gone, and not promoted into the edge either.
    await tagged.clearMemory()
    const fromRedis = await get(tagged, '/public/em-over1')
    expect.soft(servedBy(fromRedis.res), fromRedis.cacheStatus).toBe('redis')
    expect.soft(fromRedis.status['tiercache-edge']?.stored, fromRedis.cacheStatus).toBeUndefined()
    expect.soft(new TextDecoder().decode(fromRedis.body)).toBe(new TextDecoder().decode(overLimit.body))
  })

  it('a Content-Length of exactly the largest tier limit (the edge, 50 MiB) is stored at the edge only; one byte more streams through and is stored nowhere', { timeout: 180_000 }, async () => {
    const exact = `/bytes/${EDGE_MAX_ENTRY_BYTES}?seed=13`
    const over = `/bytes/${EDGE_MAX_ENTRY_BYTES + 1}?seed=13`

    const atLimit = await get(worker, exact)
    expect(atLimit.res.headers.get('content-length')).toBe(String(EDGE_MAX_ENTRY_BYTES))
    expect(atLimit.body.byteLength).toBe(EDGE_MAX_ENTRY_BYTES)
    expect.soft(storedIn(atLimit.status), atLimit.cacheStatus).toEqual(['edge'])
    await eventually(() => worker.edgeHolds(exact), 60_000)
    const fromEdge = await get(worker, exact)
    expect.soft(servedBy(fromEdge.res), fromEdge.cacheStatus).toBe('edge')
    expect(Buffer.from(fromEdge.body).equals(Buffer.from(seededBytes(EDGE_MAX_ENTRY_BYTES, 13))), 'the body from the edge').toBe(true)
    expect.soft(await redisHolds(stack, exact), 'Redis holds it').toBe(false)

    const overLimit = await get(worker, over)
    expect(overLimit.res.status).toBe(200)
    expect(overLimit.res.headers.get('content-length')).toBe(String(EDGE_MAX_ENTRY_BYTES + 1))
    expect(Buffer.from(overLimit.body).equals(Buffer.from(seededBytes(EDGE_MAX_ENTRY_BYTES + 1, 13))), 'the whole body').toBe(true)
    expect.soft(storedIn(overLimit.status), overLimit.cacheStatus).toEqual([])
    expect.soft(overLimit.status['tiercache-memory']?.detail, overLimit.cacheStatus).toBe('uncacheable-too-large')
    // Nothing was written: the decision came from the header, before the body.
    expect.soft(await worker.edgeHolds(over), 'the edge holds it').toBe(false)
    expect.soft(await redisHolds(stack, over), 'Redis holds it').toBe(false)
  })
})
