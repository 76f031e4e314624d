import { randomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from '@upstash/redis'
import { cacheStatus, eventually, sendPurge, servedBy, startStack, startWorkerProcess, TEST_PURGE_SECRET, TEST_TOKEN, type Stack, type WorkerProcess } from '../support/stack.ts'
import { rawPost } from '../support/raw-post.ts'
import { DUPLICATE_NOTE, type PurgeReceipt } from '../../src/purge/fanout.ts'
import { signPurge } from '../../src/purge/signature.ts'

/** The worker's default PURGE_MAX_BYTES (README). */
const PURGE_MAX_BYTES = 65_536
/** A 64-digit hex value no secret signed. */
const randomV1 = () => randomBytes(32).toString('hex')

/**
 * POSTs `body` to the purge route over a real socket, so the framing is known: with its Content-Length,
 * or `chunked` (8 KiB chunks, no Content-Length).
 */
function postRaw(
  worker: WorkerProcess,
  body: string,
  options: { chunked?: boolean; headers?: Record<string, string> } = {}
): Promise<{ status: number; body: string }> {
  const bytes = Buffer.from(body)
  const framing: Record<string, string> = options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(bytes.length) }
  return rawPost(new URL('/__tiercache/purge', worker.url), { 'content-type': 'application/json', ...framing, ...options.headers }, (req) => {
    for (let at = 0; at < bytes.length; at += 8 * 1024) req.write(bytes.subarray(at, at + 8 * 1024))
    req.end()
  })
}

describe('signed purge webhook', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(() => stack.close())
  afterEach(() => stack.upstash.setFault({ mode: 'ok', latencyMs: 0 }))

  const worker = () => stack.workers[0]!
  const get = async (path: string) => {
    const res = await worker().fetch(path)
    return { res, body: await res.text(), by: servedBy(res) }
  }
  /** Fills `path` and checks it is now a memory hit. */
  const warm = async (path: string) => {
    const first = await get(path)
    expect((await get(path)).by).toBe('memory')
    return first.body
  }

  it('purges a URL in every tier and answers with a receipt once Redis has committed', async () => {
    const before = await warm('/items/purge-1')
    stack.origin.data.put('purge-1', 'changed at the origin')
    const res = await sendPurge(worker(), { urls: ['/items/purge-1'], id: 'p-1' })
    expect(res.status).toBe(200)
    const receipt = (await res.json()) as PurgeReceipt
    expect(receipt).toMatchObject({ id: 'p-1', duplicate: false, soft: false, redis: { status: 'committed' }, edge: { status: 'deleted' } })
    expect(receipt.redis.deletedKeys).toBeGreaterThanOrEqual(1)
    expect(receipt.seq).toBeGreaterThan(0)
    const after = await get('/items/purge-1')
    expect(after.by).toBe('origin')
    expect(after.body).not.toBe(before)
    expect(after.body).toContain('changed at the origin')
  })

  it('purges by tag (Cache-Tag / Surrogate-Key) and by prefix', async () => {
    await warm('/tagged/777')
    await warm('/public/pfx-a')
    await warm('/public/pfx-b')
    await warm('/public/other')
    expect((await sendPurge(worker(), { tags: ['product-777'] })).status).toBe(200)
    expect((await get('/tagged/777')).by).toBe('origin')
    expect((await sendPurge(worker(), { prefixes: ['/public/pfx-'] })).status).toBe(200)
    expect((await get('/public/pfx-a')).by).toBe('origin')
    expect((await get('/public/pfx-b')).by).toBe('origin')
    expect((await get('/public/other')).by).toBe('memory')
  })

  it('a repeated purge id is answered as a duplicate that purged nothing, with the first receipt, and fans out nothing twice', async () => {
    await warm('/items/purge-2')
    const first = (await (await sendPurge(worker(), { urls: ['/items/purge-2'], id: 'repeat-1' })).json()) as PurgeReceipt
    await warm('/items/purge-2')
    const again = await sendPurge(worker(), { urls: ['/items/purge-2'], id: 'repeat-1' })
    expect(again.status).toBe(200)
    const second = (await again.json()) as PurgeReceipt
    // It says it is a duplicate that purged nothing, and what the first call did — not a copy that reads
    // like a second purge.
    expect(first).toMatchObject({ duplicate: false, redis: { status: 'committed', deletedKeys: 1 }, memory: { status: 'evicted' } })
    expect(second).toMatchObject({
      id: 'repeat-1',
      seq: first.seq,
      duplicate: true,
      note: DUPLICATE_NOTE,
      redis: { status: 'duplicate', deletedKeys: 0 },
      memory: { status: 'unchanged' },
      edge: { status: 'unchanged', keys: 0 },
      workersCache: { status: 'unchanged' },
    })
    const { duplicate: _duplicate, ...firstSummary } = first
    expect(second.first).toEqual(firstSummary)
    expect(second.first?.at).toEqual(expect.any(Number))
    // Nothing was purged the second time: the refilled copy is still served.
    expect((await get('/items/purge-2')).by).toBe('memory')
    const next = (await (await sendPurge(worker(), { tags: ['nothing'], id: 'repeat-2' })).json()) as PurgeReceipt
    expect(next.seq).toBe((first.seq ?? 0) + 1)
  })

  it('an exact replay without an id is recognised by its signature', async () => {
    const body = JSON.stringify({ tags: ['replayed'] })
    const timestamp = Math.floor(Date.now() / 1000)
    const one = (await (await sendPurge(worker(), undefined, { rawBody: body, timestamp })).json()) as PurgeReceipt
    const two = (await (await sendPurge(worker(), undefined, { rawBody: body, timestamp })).json()) as PurgeReceipt
    expect(two).toMatchObject({ duplicate: true, seq: one.seq })
  })

  describe('bad input is refused, with nothing purged', () => {
    it.each([
      ['a wrong signature', { secret: 'not-the-right-secret-at-all' }, undefined, 401, { error: 'unauthorized' }],
      ['a stale timestamp', { timestamp: Math.floor(Date.now() / 1000) - 301 }, undefined, 401, { error: 'unauthorized' }],
      ['an oversized body', {}, JSON.stringify({ tags: ['x'.repeat(70_000)] }), 413, { error: 'body larger than 65536 bytes' }],
      // JSON allows trailing whitespace: a valid, correctly signed body one byte over the limit.
      ['a body one byte over PURGE_MAX_BYTES', {}, '{"urls":["/items/bad-input"]}'.padEnd(PURGE_MAX_BYTES + 1, ' '), 413, { error: 'body larger than 65536 bytes' }],
      [
        'five v1 values, one of them valid',
        { signatureHeader: (h: string) => `${h},v1=${randomV1()},v1=${randomV1()},v1=${randomV1()},v1=${randomV1()}` },
        undefined,
        401,
        { error: 'unauthorized' },
      ],
      ['a signature header over 4 KiB', { signatureHeader: (h: string) => `${h},x=${'p'.repeat(4097 - h.length - 3)}` }, undefined, 401, { error: 'unauthorized' }],
      ['malformed JSON', {}, '{"urls": [', 400, { error: 'body must be valid JSON' }],
      ['an unknown field', {}, '{"urls":["/bad-input"],"purge_everything":true}', 400, { error: 'unknown field "purge_everything"' }],
    ])('%s', async (_label, options, rawBody, status, body) => {
      const cached = await warm('/items/bad-input')
      const probe = () => sendPurge(worker(), { tags: ['probe'], id: `probe-${crypto.randomUUID()}` })
      const before = (await (await probe()).json()) as PurgeReceipt
      const res = await sendPurge(worker(), { urls: ['/items/bad-input'] }, { ...options, ...(rawBody ? { rawBody } : {}) })
      expect(res.status).toBe(status)
      expect(await res.json()).toEqual(body)
      const still = await get('/items/bad-input')
      expect(still.by).toBe('memory')
      expect(still.body).toBe(cached)
      const after = (await (await probe()).json()) as PurgeReceipt
      expect(after.seq).toBe((before.seq ?? 0) + 1)
    })

    it('a 70 KB chunked unsigned body gets 413, and the worker keeps answering', async () => {
      const cached = await warm('/items/chunked-1')
      const refused = await postRaw(worker(), 'a'.repeat(70_000), { chunked: true })
      expect(refused).toEqual({ status: 413, body: JSON.stringify({ error: 'body larger than 65536 bytes' }) })
      // The same process still serves: a cache hit, then a signed purge that takes effect.
      const still = await get('/items/chunked-1')
      expect(still).toMatchObject({ by: 'memory', body: cached })
      expect((await sendPurge(worker(), { urls: ['/items/chunked-1'] })).status).toBe(200)
      expect((await get('/items/chunked-1')).by).toBe('origin')
    })

    it('an unsigned request gets 401 with no detail', async () => {
      const res = await worker().fetch('/__tiercache/purge', { method: 'POST', body: '{"everything":true}' })
      expect(res.status).toBe(401)
      expect(await res.json()).toEqual({ error: 'unauthorized' })
    })
  })

  it('a body of exactly PURGE_MAX_BYTES is accepted and purges, one byte more is refused, with Content-Length or chunked', async () => {
    // Absolute URLs: over a real socket the webhook's own host is 127.0.0.1, not the cached site's.
    const padded = (path: string, length: number) => JSON.stringify({ urls: [`http://tiercache.test${path}`] }).padEnd(length, ' ')
    const signed = async (body: string) => ({ 'tiercache-signature': await signPurge(TEST_PURGE_SECRET, body) })
    for (const framing of ['content-length', 'chunked'] as const) {
      const path = `/items/at-limit-${framing}`
      const cached = await warm(path)
      const over = padded(path, PURGE_MAX_BYTES + 1)
      const refused = await postRaw(worker(), over, { chunked: framing === 'chunked', headers: await signed(over) })
      expect(refused, framing).toEqual({ status: 413, body: JSON.stringify({ error: 'body larger than 65536 bytes' }) })
      expect(await get(path), framing).toMatchObject({ by: 'memory', body: cached })
      const atLimit = padded(path, PURGE_MAX_BYTES)
      expect(Buffer.byteLength(atLimit)).toBe(PURGE_MAX_BYTES)
      const accepted = await postRaw(worker(), atLimit, { chunked: framing === 'chunked', headers: await signed(atLimit) })
      expect(accepted.status, framing).toBe(200)
      expect(JSON.parse(accepted.body)).toMatchObject({ duplicate: false, redis: { status: 'committed' } })
      expect((await get(path)).by, framing).toBe('origin')
    }
  })

  it('a replay without an id dressed with extra v1 values purges nothing the second time', async () => {
    const path = '/items/replay-1'
    await warm(path)
    const rawBody = JSON.stringify({ urls: [path] })
    const timestamp = Math.floor(Date.now() / 1000)
    const first = (await (await sendPurge(worker(), undefined, { rawBody, timestamp })).json()) as PurgeReceipt
    expect(first).toMatchObject({ duplicate: false, redis: { status: 'committed' } })
    // The purge worked: the next read goes to the origin. Then the URL is cached again.
    expect((await get(path)).by).toBe('origin')
    const recached = await warm(path)
    // The captured request, resent with unverified v1 values around the real one: the same purge.
    for (const dress of [(h: string) => h.replace(',v1=', `,v1=${randomV1()},v1=`), (h: string) => `${h},v1=${randomV1()}`]) {
      const replay = await sendPurge(worker(), undefined, { rawBody, timestamp, signatureHeader: dress })
      expect(replay.status).toBe(200)
      expect(await replay.json()).toMatchObject({ duplicate: true, seq: first.seq })
    }
    const still = await get(path)
    expect(still).toMatchObject({ by: 'memory', body: recached })
    // And nothing reached the purge log: the next purge takes the very next position.
    const next = (await (await sendPurge(worker(), { tags: ['after-replay'], id: 'after-replay' })).json()) as PurgeReceipt
    expect(next.seq).toBe((first.seq ?? 0) + 1)
  })

  it('a repeated id whose stored receipt is unreadable is a committed duplicate, not a 503 to retry forever', async () => {
    const path = '/items/unreadable-1'
    const cached = await warm(path)
    const redis = new Redis({ url: stack.upstash.url, token: TEST_TOKEN })
    // The id key is where the commit script and the receipt live (written out, not src's logKeys).
    await redis.set(`${stack.prefix}plog:id:unreadable-1`, 'not json {', { ex: 60 })
    const res = await sendPurge(worker(), { urls: [path], id: 'unreadable-1' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      id: 'unreadable-1',
      seq: null,
      duplicate: true,
      redis: { status: 'duplicate', deletedKeys: 0 },
      cloudflare: { status: 'skipped', reason: 'the receipt of the first request with this id is unreadable' },
      first: null,
    })
    expect(await get(path)).toMatchObject({ by: 'memory', body: cached })
  })

  it('when the edge delete fails the purge still commits, reports the edge error, and takes effect', async () => {
    // workerd refuses to open a cache with a name this long, so every edge call — the delete too — throws.
    const broken = await stack.startWorker({ EDGE_CACHE: 'x'.repeat(8000) })
    const path = '/items/edge-broken-1'
    const first = await broken.fetch(path)
    const before = await first.text()
    expect(servedBy(await broken.fetch(path))).toBe('memory')
    stack.origin.data.put('edge-broken-1', 'changed before the purge')
    const res = await sendPurge(broken, { urls: [path], id: 'edge-broken-1' })
    expect(res.status).toBe(200)
    const receipt = (await res.json()) as PurgeReceipt
    expect(receipt).toMatchObject({ duplicate: false, redis: { status: 'committed' }, edge: { status: 'error', keys: 0 } })
    expect(receipt.edge.error).toMatch(/cache name/i)
    expect(receipt.redis.deletedKeys).toBeGreaterThanOrEqual(1)
    const after = await broken.fetch(path)
    const body = await after.text()
    expect(servedBy(after)).toBe('origin')
    expect(body).not.toBe(before)
    expect(body).toContain('changed before the purge')
  })

  it('with Redis down the purge answers 503, and a retry with the same id completes it', async () => {
    await warm('/items/purge-3')
    stack.upstash.setFault({ mode: 'error' })
    const failed = await sendPurge(worker(), { urls: ['/items/purge-3'], id: 'retry-1' })
    expect(failed.status).toBe(503)
    expect(await failed.json()).toMatchObject({ id: 'retry-1' })
    stack.upstash.setFault({ mode: 'ok' })
    const retried = await sendPurge(worker(), { urls: ['/items/purge-3'], id: 'retry-1' })
    expect(retried.status).toBe(200)
    expect(await retried.json()).toMatchObject({ duplicate: false, redis: { status: 'committed' } })
    expect((await get('/items/purge-3')).by).toBe('origin')
  })

  it('a soft purge turns entries stale: served once under stale-while-revalidate while revalidated', async () => {
    const before = await warm('/swr-long')
    const origins = stack.origin.stats().requests
    expect((await sendPurge(worker(), { urls: ['/swr-long'], soft: true })).status).toBe(200)
    const stale = await worker().fetch('/swr-long')
    expect(await stale.text()).toBe(before)
    expect(cacheStatus(stale)['tiercache-memory']).toMatchObject({ hit: true, detail: 'stale-while-revalidate' })
    await eventually(() => stack.origin.stats().requests === origins + 1)
    const next = await worker().fetch('/swr-long')
    expect(await next.text()).not.toBe(before)
    expect(cacheStatus(next)['tiercache-memory']).toMatchObject({ hit: true })
    expect(cacheStatus(next)['tiercache-memory']?.detail).toBeUndefined()
  })

  it('a soft purge without stale-while-revalidate revalidates before the next use', async () => {
    await warm('/items/soft-1')
    stack.origin.data.put('soft-1', 'soft purge saw this')
    expect((await sendPurge(worker(), { urls: ['/items/soft-1'], soft: true })).status).toBe(200)
    const res = await worker().fetch('/items/soft-1')
    expect(await res.text()).toContain('soft purge saw this')
    expect(cacheStatus(res)['tiercache-memory']).toMatchObject({ fwd: 'stale', stored: true })
  })

  it('without PURGE_SECRET the route does not exist', async () => {
    const bare = await startWorkerProcess({ ORIGIN_URL: stack.origin.url })
    try {
      const res = await sendPurge(bare, { everything: true }, { secret: TEST_PURGE_SECRET })
      expect(res.status).toBe(404)
      await res.arrayBuffer()
    } finally {
      await bare.dispose()
    }
  })
})
