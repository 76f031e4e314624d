import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { eventually, sendPurge, startStack, type Stack } from '../support/stack.ts'
import { startFakeCloudflare, type FakeCloudflare } from '../support/fake-cloudflare.ts'
import { ALL_ENTRIES_TAG, urlTag } from '../../src/coherence/purge-record.ts'
import type { PurgeReceipt } from '../../src/purge/fanout.ts'

const ZONE = 'zone0123456789abcdef'
const TOKEN = 'cf-test-token'

// The tests share one token bucket (5 a minute, burst 6) and run in order: 1 + 1 + 2 + 2 calls use
// the whole burst, so the last test finds it empty. A minute-scale refill cannot happen in between.
describe('Cloudflare zone purge by tag (checked against a local fake of the API)', () => {
  let stack: Stack
  let cf: FakeCloudflare
  beforeAll(async () => {
    cf = await startFakeCloudflare()
    stack = await startStack({
      vars: { CF_ZONE_ID: ZONE, CF_API_TOKEN: TOKEN, CF_API_BASE_URL: cf.baseUrl, CF_PURGE_PER_MINUTE: '5', CF_PURGE_BURST: '6' },
    })
  })
  afterAll(async () => {
    await stack.close()
    await cf.close()
  })
  beforeEach(() => {
    cf.calls.length = 0
  })

  const purge = async (body: unknown) => {
    const res = await sendPurge(stack.workers[0]!, body)
    expect(res.status).toBe(200)
    return (await res.json()) as PurgeReceipt
  }

  it('sends one purge_cache call with the tags, the URL tags and the exact headers', async () => {
    const receipt = await purge({ tags: ['product-1', 'products'], urls: ['/items/cf-1'], id: 'cf-1' })
    expect(receipt.cloudflare).toEqual({ status: 'sent', calls: 1, queued: 0 })
    expect(cf.calls).toHaveLength(1)
    const [call] = cf.calls
    expect(call!.method).toBe('POST')
    expect(call!.path).toBe(`/client/v4/zones/${ZONE}/purge_cache`)
    expect(call!.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(call!.headers['content-type']).toBe('application/json')
    expect(call!.body).toEqual({ tags: ['product-1', 'products', urlTag('http://tiercache.test/items/cf-1')] })
  })

  it('"everything" purges the tag every edge entry carries, never the whole zone', async () => {
    await purge({ everything: true, id: 'cf-all' })
    expect(cf.calls.map((c) => c.body)).toEqual([{ tags: [ALL_ENTRIES_TAG] }])
  })

  it('splits more than 100 tags into calls of at most 100', async () => {
    const tags = Array.from({ length: 150 }, (_, i) => `bulk-${i}`)
    const receipt = await purge({ tags, id: 'cf-bulk' })
    expect(receipt.cloudflare).toMatchObject({ calls: 2 })
    expect(cf.calls.map((c) => (c.body as { tags: string[] }).tags.length)).toEqual([100, 50])
  })

  it('a 429 is reported in the receipt, kept queued, and retried by the cron trigger', async () => {
    cf.rateLimitNext(1)
    const receipt = await purge({ tags: ['later-1'], id: 'cf-429' })
    expect(receipt.cloudflare).toMatchObject({ status: 'rate-limited', calls: 1, queued: 1 })
    expect(cf.calls.map((c) => c.status)).toEqual([429])
    const worker = await stack.workers[0]!.mf.getWorker()
    await worker.scheduled({ cron: '* * * * *' })
    await eventually(() => cf.calls.length === 2)
    expect(cf.calls[1]).toMatchObject({ status: 200, body: { tags: ['later-1'] } })
  })

  it('past the rate budget purges are queued, not sent, and the receipt says so', async () => {
    const outcomes: PurgeReceipt['cloudflare'][] = []
    for (let i = 0; i < 3; i++) outcomes.push((await purge({ tags: [`budget-${i}`], id: `cf-budget-${i}` })).cloudflare)
    expect(outcomes).toEqual([
      { status: 'queued', calls: 0, queued: 1 },
      { status: 'queued', calls: 0, queued: 2 },
      { status: 'queued', calls: 0, queued: 3 },
    ])
    expect(cf.calls).toHaveLength(0)
  })
})
