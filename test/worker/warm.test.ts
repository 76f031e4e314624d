/**
 * Warming in workerd against the local stack: `POST /__tiercache/warm` by list, by sitemap (and sitemap
 * index) and by the hot set, with budgets smaller than the work, counted at the demo origin; the auth and
 * input failures; and the cron trigger. Each fill goes through the normal path: the warmed URL is then a
 * hit, and Redis holds it.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheKeyOf, redisHolds, sendPurge, servedBy, startStack, eventually, TEST_INTERNAL_TOKEN, TEST_PURGE_SECRET, type Stack, type WorkerProcess } from '../support/stack.ts'
import { signPurge } from '../../src/purge/signature.ts'
import type { WarmReceipt } from '../../src/warm/run.ts'

/** Sends a signed warm request (signed exactly as a purge). */
async function sendWarm(worker: WorkerProcess, body: unknown, options: { secret?: string; timestamp?: number; rawBody?: string; noSignature?: boolean } = {}) {
  const text = options.rawBody ?? JSON.stringify(body)
  const signature = await signPurge(options.secret ?? TEST_PURGE_SECRET, text, options.timestamp ?? Math.floor(Date.now() / 1000))
  const res = await worker.fetch('/__tiercache/warm', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.noSignature ? {} : { 'tiercache-signature': signature }) },
    body: text,
  })
  return { status: res.status, body: (await res.json()) as WarmReceipt & { error?: string } }
}

const unique = () => randomUUID().slice(0, 8)

describe('warming by list and by sitemap', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({
      vars: { WARM_BUDGET: '50', WARM_CONCURRENCY: '3', ROUTES: JSON.stringify([{ pattern: '/p/', perUser: { identity: 'authorization' } }, { pattern: '/slow', bypass: true }]) },
    })
  })
  afterAll(() => stack.close())
  const worker = () => stack.workers[0]!
  const originCount = (path: string) => stack.origin.stats().byPath[path] ?? 0

  it('a list with a budget smaller than it: fresh URLs cost nothing, the budget is never exceeded, the rest is skipped', async () => {
    const id = unique()
    const paths = Array.from({ length: 6 }, (_, i) => `/public/wl-${id}-${i}`)
    // One URL is already cached (fresh in memory): warming must find it without the origin.
    await (await worker().fetch(paths[0]!)).arrayBuffer()
    expect(originCount(paths[0]!)).toBe(1)

    const { status, body } = await sendWarm(worker(), { urls: paths, budget: 3 })
    expect(status).toBe(200)
    expect(body).toMatchObject({ source: 'list', trigger: 'request', urls: 6, budget: 3, concurrency: 3, alreadyFresh: 1, warmed: 3, failed: 0, skippedOverBudget: 2 })
    expect(body.finishedAt).toBeGreaterThanOrEqual(body.startedAt)
    // Exactly the budget reached the origin, once per warmed URL; the fresh one was not asked again.
    const fetched = paths.map(originCount)
    expect(fetched[0]).toBe(1)
    expect(fetched.slice(1).reduce((a, b) => a + b, 0)).toBe(3)
    expect(fetched.slice(1).every((n) => n <= 1)).toBe(true)
    // What was warmed is in Redis and answers from the cache without the origin.
    const warmed = paths.slice(1).filter((p) => originCount(p) === 1)
    for (const path of warmed) {
      await eventually(() => redisHolds(stack, path), 10_000)
      const res = await worker().fetch(path)
      await res.arrayBuffer()
      expect(servedBy(res)).not.toBe('origin')
    }
    expect(warmed.map(originCount)).toEqual([1, 1, 1])
  })

  it('a sitemap with a budget smaller than it', async () => {
    const prefix = `/public/sm-${unique()}-`
    const { status, body } = await sendWarm(worker(), { sitemap: `/sitemap.xml?prefix=${prefix}&n=7`, budget: 4 })
    expect(status).toBe(200)
    expect(body).toMatchObject({ source: 'sitemap', urls: 7, budget: 4, warmed: 4, alreadyFresh: 0, failed: 0, skippedOverBudget: 3 })
    const counts = Array.from({ length: 7 }, (_, i) => originCount(`${prefix}${i + 1}`))
    expect(counts.reduce((a, b) => a + b, 0)).toBe(4)
    // A second run finds the four fresh and warms the remaining three.
    const again = await sendWarm(worker(), { sitemap: `/sitemap.xml?prefix=${prefix}&n=7` })
    expect(again.body).toMatchObject({ urls: 7, budget: 50, warmed: 3, alreadyFresh: 4, skippedOverBudget: 0 })
    expect(Array.from({ length: 7 }, (_, i) => originCount(`${prefix}${i + 1}`))).toEqual([1, 1, 1, 1, 1, 1, 1])
  })

  it('a sitemap index: the sitemaps it lists', async () => {
    const prefix = `/public/si-${unique()}-`
    const { status, body } = await sendWarm(worker(), { sitemap: `/sitemap-index.xml?prefix=${prefix}&n=5&parts=2` })
    expect(status).toBe(200)
    expect(body).toMatchObject({ source: 'sitemap', urls: 5, warmed: 5, skippedOverBudget: 0 })
  })

  it('counts an origin error, and an answer that may not be stored, as failed with the reason', async () => {
    const { body } = await sendWarm(worker(), { urls: ['/fail?status=503', '/no-store', `/public/ok-${unique()}`] })
    expect(body).toMatchObject({ urls: 3, warmed: 1, failed: 2 })
    expect(body.failures).toEqual(
      expect.arrayContaining([
        { url: 'http://tiercache.test/fail?status=503', reason: 'answered 503' },
        { url: 'http://tiercache.test/no-store', reason: 'answered 200, not storable' },
      ])
    )
  })

  it('refuses URLs that would reach the origin whatever the cache holds, without asking it', async () => {
    const before = stack.origin.stats().requests
    const { body } = await sendWarm(worker(), { urls: ['/p/public', '/slow', '/__tiercache/stats'] })
    expect(body).toMatchObject({ urls: 3, warmed: 0, alreadyFresh: 0, failed: 3, skippedOverBudget: 0 })
    expect(body.failures).toEqual([
      { url: 'http://tiercache.test/p/public', reason: 'a per-user route: nothing shared to warm' },
      { url: 'http://tiercache.test/slow', reason: 'its route bypasses the cache' },
      { url: 'http://tiercache.test/__tiercache/stats', reason: 'an internal path' },
    ])
    expect(stack.origin.stats().requests).toBe(before)
  })

  it('shows the runs and their progress in stats', async () => {
    const stats = (await worker().stats()) as unknown as { warming: { running: boolean; runs: WarmReceipt[] }; counters: Record<string, number> }
    expect(stats.warming.running).toBe(false)
    expect(stats.warming.runs.length).toBeGreaterThanOrEqual(5)
    expect(stats.warming.runs[0]).toMatchObject({ source: 'list', warmed: 0, failed: 3 })
    expect(stats.warming.runs[1]).toMatchObject({ source: 'list', warmed: 1, failed: 2 })
    expect(stats.counters.warm_skipped_over_budget).toBe(5)
  })

  it('refuses bad input with a clear 4xx and warms nothing', async () => {
    const before = stack.origin.stats().requests
    const cases: Array<[unknown, number, RegExp, Parameters<typeof sendWarm>[2]?]> = [
      [{ urls: ['/public/x'] }, 401, /^unauthorized$/, { noSignature: true }],
      [{ urls: ['/public/x'] }, 401, /^unauthorized$/, { secret: 'not-the-secret-at-all' }],
      [{ urls: ['/public/x'] }, 401, /^unauthorized$/, { timestamp: Math.floor(Date.now() / 1000) - 3600 }],
      [undefined, 400, /valid JSON/, { rawBody: '{"urls":' }],
      [{ urls: ['https://elsewhere.example/public/x'] }, 400, /"urls\[0\]" names host "elsewhere.example"; only "tiercache.test"/],
      [{ urls: ['not a url'] }, 400, /"urls\[0\]" must be a path/],
      [{ urls: ['ftp://tiercache.test/x'] }, 400, /"urls\[0\]" must be a path/],
      [{ sitemap: 'https://elsewhere.example/sitemap.xml' }, 400, /"sitemap" names host/],
      [{ urls: ['/a'], hot: true }, 400, /exactly one of/],
      [{}, 400, /exactly one of/],
      [{ urls: [] }, 400, /non-empty array/],
      [{ urls: ['/a'], budget: 0 }, 400, /"budget" must be a positive integer/],
      [{ urls: ['/a'], extra: 1 }, 400, /unknown field "extra"/],
      [{ hot: 'yes' }, 400, /"hot" must be true or a number/],
      [{ sitemap: '/no-such-sitemap' }, 400, /answered 404/],
    ]
    for (const [body, status, error, options] of cases) {
      const res = await sendWarm(worker(), body, options)
      expect({ body, status: res.status }).toEqual({ body, status })
      expect(res.body.error).toMatch(error)
    }
    const oversized = await sendWarm(worker(), { urls: Array.from({ length: 3000 }, (_, i) => `/public/${'x'.repeat(20)}-${i}`) })
    expect(oversized.status).toBe(413)
    expect(oversized.body.error).toBe('body larger than 65536 bytes')
    // Only the missing sitemap reached the origin.
    expect(stack.origin.stats().requests - before).toBe(1)
  })
})

describe('warming the hot set', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(() => stack.close())
  const worker = () => stack.workers[0]!

  it('after a purge of everything, refills the hottest keys with one origin fetch each', async () => {
    const id = unique()
    const hot = [`/public/hot-${id}-a`, `/public/hot-${id}-b`, `/public/hot-${id}-c`]
    const cold = `/public/hot-${id}-cold`
    // a: 6 requests, b: 4, c: 3, cold: 1 — the top 3 are a, b, c.
    for (const [path, n] of [[hot[0]!, 6], [hot[1]!, 4], [hot[2]!, 3], [cold, 1]] as const) {
      for (let i = 0; i < n; i++) await (await worker().fetch(path)).arrayBuffer()
    }
    const purged = await sendPurge(worker(), { everything: true })
    expect(purged.status).toBe(200)
    stack.origin.resetStats()

    const { status, body } = await sendWarm(worker(), { hot: 3 })
    expect(status).toBe(200)
    expect(body).toMatchObject({ source: 'hot', urls: 3, warmed: 3, alreadyFresh: 0, failed: 0, skippedOverBudget: 0 })
    expect(stack.origin.stats().byPath).toEqual({ [hot[0]!]: 1, [hot[1]!]: 1, [hot[2]!]: 1 })
    // Users now find them in the cache; the origin is not asked again.
    for (const path of hot) {
      const res = await worker().fetch(path)
      await res.arrayBuffer()
      expect(servedBy(res)).not.toBe('origin')
    }
    expect(stack.origin.stats().requests).toBe(3)
    // The warm's own requests did not count as traffic: the fleet's counts are the users' (6+1, 4+1, 3+1).
    const res = await worker().fetch('/__tiercache/stats?hotKeys=fleet', { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } })
    const stats = (await res.json()) as { hotKeys: Array<{ key: string; count: number; tier: string }>; hotKeysScope: string }
    expect(stats.hotKeysScope).toBe('fleet')
    expect(stats.hotKeys.slice(0, 3).map(({ key, count }) => ({ key, count }))).toEqual([
      { key: cacheKeyOf(hot[0]!), count: 7 },
      { key: cacheKeyOf(hot[1]!), count: 5 },
      { key: cacheKeyOf(hot[2]!), count: 4 },
    ])
  })
})

describe('warming from the cron trigger', () => {
  let stack: Stack
  const id = unique()
  const paths = [`/public/cron-${id}-1`, `/public/cron-${id}-2`, `/public/cron-${id}-3`]
  beforeAll(async () => {
    stack = await startStack({
      vars: { WARM_CRON: JSON.stringify({ urls: paths, budget: 2 }), WARM_BASE_URL: 'http://tiercache.test', WARM_CRON_MINUTES: '5' },
    })
  })
  afterAll(() => stack.close())

  it('warms on the configured minutes only, within the budget, and records the run', async () => {
    const worker = stack.workers[0]!.mf
    const scheduled = async (minute: number) => (await worker.getWorker()).scheduled({ scheduledTime: new Date(minute * 60_000), cron: '* * * * *' })
    await scheduled(29_000_001) // not a multiple of 5: no warming
    await scheduled(29_000_000)
    await eventually(async () => ((await stack.workers[0]!.stats()) as unknown as { warming: { runs: WarmReceipt[] } }).warming.runs.some((r) => r.finishedAt), 15_000)
    const stats = (await stack.workers[0]!.stats()) as unknown as { warming: { runs: WarmReceipt[] } }
    expect(stats.warming.runs).toHaveLength(1)
    expect(stats.warming.runs[0]).toMatchObject({ source: 'list', trigger: 'cron', urls: 3, budget: 2, warmed: 2, skippedOverBudget: 1 })
    expect(paths.map((p) => stack.origin.stats().byPath[p] ?? 0).reduce((a, b) => a + b, 0)).toBe(2)
  })

  it('refuses a bad WARM_CRON with a message that says what to write', async () => {
    const bad = await stack.startWorker({ WARM_CRON: '{"urls":["/a"]}', WARM_BASE_URL: '' })
    const res = await bad.fetch('/public/1')
    expect(res.status).toBe(500)
    expect(await res.json()).toMatchObject({ detail: expect.stringContaining('set WARM_BASE_URL') })
  })
})
