import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cacheStatus, eventually, sendPurge, servedBy, startStack, startWorkerProcess, TEST_PURGE_SECRET, type Stack } from '../support/stack.ts'
import type { PurgeReceipt } from '../../src/purge/fanout.ts'

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

  it('a repeated purge id gets the first receipt back and fans out nothing twice', async () => {
    await warm('/items/purge-2')
    const first = (await (await sendPurge(worker(), { urls: ['/items/purge-2'], id: 'repeat-1' })).json()) as PurgeReceipt
    await warm('/items/purge-2')
    const again = await sendPurge(worker(), { urls: ['/items/purge-2'], id: 'repeat-1' })
    expect(again.status).toBe(200)
    const second = (await again.json()) as PurgeReceipt
    expect(second).toMatchObject({ id: 'repeat-1', seq: first.seq, duplicate: true })
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

    it('an unsigned request gets 401 with no detail', async () => {
      const res = await worker().fetch('/__tiercache/purge', { method: 'POST', body: '{"everything":true}' })
      expect(res.status).toBe(401)
      expect(await res.json()).toEqual({ error: 'unauthorized' })
    })
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
