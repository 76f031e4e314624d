import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { eventually, sendPurge, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { startFakeCloudflare, type FakeCloudflare } from '../support/fake-cloudflare.ts'
import type { PurgeReceipt } from '../../src/purge/fanout.ts'

const ZONE = 'zone0123456789abcdef'
const TOKEN = 'cf-test-token'

/**
 * Expected URL tags, written out: cyrb53 (seed 0) of the cache key in base 36, prefixed
 * `tiercache-url-`. Computed once with an independent BigInt reimplementation of bryc's cyrb53 (not
 * src's `urlTag`), so a mistake in src's hash cannot agree with itself here.
 */
const URL_TAG = {
  'http://tiercache.test/items/cf-1': 'tiercache-url-lqeub2gwci',
  'http://tiercache.test/items/cf-pending': 'tiercache-url-9lt1ckb1yi',
  'http://tiercache.test/items/cf-5xx': 'tiercache-url-r1qt8cepfb',
}
/** The tag every edge entry carries, for "everything" (src/coherence/purge-record.ts ALL_ENTRIES_TAG). */
const ALL_ENTRIES_TAG = 'tiercache-all'

// Every test gets its own fake API and its own worker with its own Redis prefix, so its own token bucket
// and queue: no test depends on what another one used up, and each runs alone (`-t`) as in the file.
describe('Cloudflare zone purge by tag (checked against a local fake of the API)', () => {
  let stack: Stack
  let cf: FakeCloudflare | undefined
  let worker: WorkerProcess | undefined
  beforeAll(async () => {
    stack = await startStack({ workers: 0 })
  })
  afterEach(async () => {
    stack.upstash.setFault({ mode: 'ok' })
    if (worker) {
      stack.workers.splice(stack.workers.indexOf(worker), 1)
      await worker.dispose()
    }
    await cf?.close()
    worker = undefined
    cf = undefined
  })
  afterAll(() => stack.close())

  /** A fresh fake API and a worker whose zone purges go to it, with its own bucket (`perMinute`, `burst`). */
  const zoneWorker = async (budget: { perMinute: number; burst: number } = { perMinute: 5, burst: 25 }) => {
    cf = await startFakeCloudflare()
    worker = await stack.startWorker({
      REDIS_PREFIX: `${stack.prefix}${randomUUID().slice(0, 8)}:`,
      CF_ZONE_ID: ZONE,
      CF_API_TOKEN: TOKEN,
      CF_API_BASE_URL: cf.baseUrl,
      CF_PURGE_PER_MINUTE: String(budget.perMinute),
      CF_PURGE_BURST: String(budget.burst),
    })
    return { cf, worker }
  }
  const purge = async (w: WorkerProcess, body: unknown) => {
    const res = await sendPurge(w, body)
    expect(res.status).toBe(200)
    return (await res.json()) as PurgeReceipt
  }
  const tagsOf = (fake: FakeCloudflare) => fake.calls.map((c) => (c.body as { tags: string[] }).tags)
  /** Fills `path` and checks the next read is a memory hit; returns the body. */
  const warm = async (w: WorkerProcess, path: string) => {
    const body = await (await w.fetch(path)).text()
    const hit = await w.fetch(path)
    expect(await hit.text()).toBe(body)
    expect(servedBy(hit)).toBe('memory')
    return body
  }

  it('sends one purge_cache call with the tags, the URL tags and the exact headers', async () => {
    const { cf, worker } = await zoneWorker()
    const receipt = await purge(worker, { tags: ['product-1', 'products'], urls: ['/items/cf-1'], id: 'cf-1' })
    expect(receipt.cloudflare).toEqual({ status: 'sent', calls: 1, queued: 0 })
    expect(cf.calls).toHaveLength(1)
    const [call] = cf.calls
    expect(call!.method).toBe('POST')
    expect(call!.path).toBe(`/client/v4/zones/${ZONE}/purge_cache`)
    expect(call!.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(call!.headers['content-type']).toBe('application/json')
    expect(call!.body).toEqual({ tags: ['product-1', 'products', URL_TAG['http://tiercache.test/items/cf-1']] })
  })

  it('"everything" purges the tag every edge entry carries, never the whole zone', async () => {
    const { cf, worker } = await zoneWorker()
    await purge(worker, { everything: true, id: 'cf-all' })
    expect(cf.calls.map((c) => c.body)).toEqual([{ tags: [ALL_ENTRIES_TAG] }])
  })

  it('splits more than 100 tags into calls of at most 100', async () => {
    const { cf, worker } = await zoneWorker()
    const tags = Array.from({ length: 150 }, (_, i) => `bulk-${i}`)
    const receipt = await purge(worker, { tags, id: 'cf-bulk' })
    expect(receipt.cloudflare).toEqual({ status: 'sent', calls: 2, queued: 0 })
    expect(tagsOf(cf)).toEqual([tags.slice(0, 100), tags.slice(100)])
  })

  it('a 429 is reported in the receipt, kept queued, and retried by the cron trigger', async () => {
    const { cf, worker } = await zoneWorker()
    cf.rateLimitNext(1)
    const receipt = await purge(worker, { tags: ['later-1'], id: 'cf-429' })
    expect(receipt.cloudflare).toMatchObject({ status: 'rate-limited', calls: 1, queued: 1 })
    expect(cf.calls.map((c) => c.status)).toEqual([429])
    await (await worker.mf.getWorker()).scheduled({ cron: '* * * * *' })
    await eventually(() => cf.calls.length === 2)
    expect(cf.calls[1]).toMatchObject({ status: 200, body: { tags: ['later-1'] } })
  })

  it('past the rate budget purges are queued, not sent, and the receipt says so', async () => {
    // A bucket of one token that refills once a minute: the first purge takes it, the rest must wait.
    const { cf, worker } = await zoneWorker({ perMinute: 1, burst: 1 })
    const outcomes: PurgeReceipt['cloudflare'][] = []
    for (let i = 0; i < 4; i++) outcomes.push((await purge(worker, { tags: [`budget-${i}`], id: `cf-budget-${i}` })).cloudflare)
    expect(outcomes).toEqual([
      { status: 'sent', calls: 1, queued: 0 },
      { status: 'queued', calls: 0, queued: 1 },
      { status: 'queued', calls: 0, queued: 2 },
      { status: 'queued', calls: 0, queued: 3 },
    ])
    expect(tagsOf(cf)).toEqual([['budget-0']])
  })

  it('a 5xx from the API is reported, the purge still commits, and the batch waits for the cron trigger', async () => {
    const { cf, worker } = await zoneWorker()
    const path = '/items/cf-5xx'
    await warm(worker, path)
    cf.failNext(1, 500)
    const receipt = await purge(worker, { urls: [path], id: 'cf-5xx' })
    expect(receipt).toMatchObject({ redis: { status: 'committed' }, cloudflare: { status: 'error', calls: 1, queued: 1 } })
    expect((receipt.cloudflare as { error?: string }).error).toMatch(/500/)
    // The rest of the purge happened: this isolate no longer serves the URL from memory.
    expect(servedBy(await worker.fetch(path))).toBe('origin')
    await (await worker.mf.getWorker()).scheduled({ cron: '* * * * *' })
    await eventually(() => cf.calls.length === 2)
    expect(cf.calls.map((c) => c.status)).toEqual([500, 200])
    expect(tagsOf(cf)).toEqual([[URL_TAG['http://tiercache.test/items/cf-5xx']], [URL_TAG['http://tiercache.test/items/cf-5xx']]])
  })

  it('a 4xx other than 429 is reported and that batch dropped: Cloudflare would refuse it again', async () => {
    const { cf, worker } = await zoneWorker()
    cf.failNext(1, 400)
    const refused = await purge(worker, { tags: ['refused-1'], id: 'cf-400' })
    expect(refused.cloudflare).toMatchObject({ status: 'error', calls: 1, queued: 0 })
    expect((refused.cloudflare as { error?: string }).error).toMatch(/400/)
    const next = await purge(worker, { tags: ['next-1'], id: 'cf-after-400' })
    expect(next.cloudflare).toEqual({ status: 'sent', calls: 1, queued: 0 })
    expect(tagsOf(cf)).toEqual([['refused-1'], ['next-1']])
  })

  it('a repeated id while the first request is still fanning out is a committed duplicate, with no second fan-out', async () => {
    const { cf, worker } = await zoneWorker()
    const path = '/items/cf-pending'
    await warm(worker, path)
    const release = cf.hold()
    let first: Promise<Response> | undefined
    try {
      first = sendPurge(worker, { urls: [path], id: 'cf-pending' })
      // The API call arrives only after Redis committed the purge; its answer is held, so the first
      // request is still fanning out from here on.
      await eventually(() => cf.calls.length === 1)
      // Committed and applied in this isolate: the URL is fetched again and cached again.
      expect(servedBy(await worker.fetch(path))).toBe('origin')
      const recached = await warm(worker, path)
      const again = await sendPurge(worker, { urls: [path], id: 'cf-pending' })
      expect(again.status).toBe(200)
      const duplicate = (await again.json()) as PurgeReceipt
      expect(duplicate).toMatchObject({
        id: 'cf-pending',
        duplicate: true,
        redis: { status: 'duplicate', deletedKeys: 0 },
        cloudflare: { status: 'skipped', reason: 'the first request with this id is still fanning out, or its receipt was not saved' },
        first: null,
      })
      expect(cf.calls).toHaveLength(1)
      expect(await (await worker.fetch(path)).text()).toBe(recached)
      release()
      const firstReceipt = (await (await first).json()) as PurgeReceipt
      expect(firstReceipt).toMatchObject({ duplicate: false, cloudflare: { status: 'sent', calls: 1, queued: 0 } })
      expect(duplicate.seq).toBe(firstReceipt.seq)
      // Once the first request saved its receipt, a repeat carries exactly that receipt as `first`.
      const third = (await (await sendPurge(worker, { urls: [path], id: 'cf-pending' })).json()) as PurgeReceipt
      const { duplicate: _duplicate, ...firstSummary } = firstReceipt
      expect(third).toMatchObject({ duplicate: true, seq: firstReceipt.seq, redis: { status: 'duplicate' }, cloudflare: { status: 'skipped', reason: 'duplicate purge id' } })
      expect(third.first).toEqual(firstSummary)
      expect(cf.calls).toHaveLength(1)
    } finally {
      release()
      await first?.then((r) => r.arrayBuffer()).catch(() => {})
    }
  })

  it('when Redis fails after the commit, the purge still answers 200 and a repeat says what is certain', async () => {
    const { cf, worker } = await zoneWorker()
    const release = cf.hold()
    let first: Promise<Response> | undefined
    try {
      first = sendPurge(worker, { tags: ['unsaved-1'], id: 'cf-unsaved' })
      await eventually(() => cf.calls.length === 1)
      // Committed; now every later Redis call fails — the zone queue's bookkeeping and the receipt save.
      stack.upstash.setFault({ mode: 'error' })
      release()
      const res = await first
      expect(res.status).toBe(200)
      const receipt = (await res.json()) as PurgeReceipt
      expect(receipt).toMatchObject({ id: 'cf-unsaved', duplicate: false, redis: { status: 'committed' }, cloudflare: { status: 'error' } })
      stack.upstash.setFault({ mode: 'ok' })
      const again = (await (await sendPurge(worker, { tags: ['unsaved-1'], id: 'cf-unsaved' })).json()) as PurgeReceipt
      expect(again).toMatchObject({
        duplicate: true,
        seq: receipt.seq,
        cloudflare: { status: 'skipped', reason: 'the first request with this id is still fanning out, or its receipt was not saved' },
        first: null,
      })
      expect(cf.calls).toHaveLength(1)
    } finally {
      release()
      await first?.then((r) => r.arrayBuffer()).catch(() => {})
    }
  })
})
