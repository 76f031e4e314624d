import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheStatus, eventually, sendPurge, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { startOwnRedis, startOwnUpstash, type OwnRedis, type OwnUpstash } from '../support/redis-trouble.ts'

// design.md §6 and the README's "How purges reach every isolate": with Redis frozen, killed or
// unreachable, memory hits are still answered at once. The purge-log read goes through the Redis breaker:
// the first few hits pay the Redis deadline while the breaker decides (3 failures), none after that,
// and the view's age in `Cache-Status` grows. Once Redis is back the view is fresh again and purges
// reach the isolate. A redis-server and upstash-local of this suite's own, as child processes.
const REDIS_TIMEOUT_MS = 400
const DELTA_MS = 500
const HITS = 30
/** Hits that may wait for Redis: the breaker's three failures, and one half-open trial. */
const MAY_PAY = 4

const serverTiming = (res: Response, name: string): number => {
  const match = new RegExp(`(?:^|,\\s*)${name};dur=([0-9.]+)`).exec(res.headers.get('server-timing') ?? '')
  return match ? Number(match[1]) : 0
}

interface Hit {
  status: number
  by: string
  body: string
  coherenceMs: number
  viewAge: number | undefined
}

async function hit(worker: WorkerProcess, path: string): Promise<Hit> {
  const res = await worker.fetch(path)
  const body = await res.text()
  const viewAge = cacheStatus(res)['tiercache-memory']?.['view-age']
  return { status: res.status, by: servedBy(res), body, coherenceMs: serverTiming(res, 'coherence'), viewAge: viewAge === undefined ? undefined : Number(viewAge) }
}

describe('memory hits while Redis is in trouble', () => {
  let redis: OwnRedis
  let upstash: OwnUpstash
  let stack: Stack
  let reader: WorkerProcess
  let purger: WorkerProcess
  beforeAll(async () => {
    redis = await startOwnRedis()
    upstash = await startOwnUpstash(redis)
    stack = await startStack({
      workers: 2,
      redis: { url: upstash.url, token: upstash.token },
      vars: { REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS), COHERENCE_DELTA_MS: String(DELTA_MS) },
    })
    ;[reader, purger] = stack.workers as [WorkerProcess, WorkerProcess]
  })
  afterAll(async () => {
    upstash?.thaw()
    redis?.thaw()
    await stack?.close()
    await Promise.allSettled([upstash?.close(), redis?.close()])
  })

  const faults = [
    { name: 'redis-server frozen (SIGSTOP)', hangs: true, apply: () => redis.freeze(), undo: async () => redis.thaw() },
    { name: 'upstash-local frozen (SIGSTOP)', hangs: true, apply: () => upstash.freeze(), undo: async () => upstash.thaw() },
    { name: 'redis-server killed', hangs: false, apply: () => redis.kill(), undo: () => redis.restart() },
    { name: 'upstash-local killed', hangs: false, apply: () => upstash.kill(), undo: () => upstash.restart() },
  ]

  it.each(faults.map((f, i) => [f.name, f, i] as const))('%s: after the first few, no hit waits for Redis; then the view recovers', async (_name, fault, i) => {
    const path = `/public/trouble-${i}`
    // A memory hit on a view younger than δ: Redis is fine and the breaker closed.
    await eventually(async () => {
      const h = await hit(reader, path)
      return h.by === 'memory' && h.viewAge !== undefined && h.viewAge < DELTA_MS
    }, 20_000)
    const cached = (await hit(reader, path)).body

    await fault.apply()
    const hits: Hit[] = []
    for (let n = 0; n < HITS; n++) {
      hits.push(await hit(reader, path))
      await new Promise((r) => setTimeout(r, 100))
    }
    const paid = hits.filter((h) => h.coherenceMs >= REDIS_TIMEOUT_MS * 0.75)
    console.log(
      `${fault.name}: ${paid.length} of ${HITS} hits waited for Redis (coherence ms: ${hits.map((h) => Math.round(h.coherenceMs)).join(' ')}); ` +
        `view-age ${hits[0]!.viewAge} → ${hits.at(-1)!.viewAge} ms`
    )
    for (const h of hits) {
      expect(h).toMatchObject({ status: 200, by: 'memory', body: cached })
      expect(h.coherenceMs < REDIS_TIMEOUT_MS * 0.25 || h.coherenceMs >= REDIS_TIMEOUT_MS * 0.75, 'a hit either waited the deadline or not at all').toBe(true)
    }
    expect(paid.length).toBeLessThanOrEqual(MAY_PAY)
    // The ones that paid are among the first: once the breaker is open, nobody waits.
    const lastPaid = hits.lastIndexOf(paid.at(-1) ?? hits[0]!)
    if (fault.hangs) {
      expect(paid.length).toBeGreaterThanOrEqual(1)
      expect(hits.slice(lastPaid + 1).length).toBeGreaterThanOrEqual(HITS / 2)
    }
    // The view ages, and Cache-Status says so.
    const ages = hits.map((h) => h.viewAge!)
    for (let n = 1; n < ages.length; n++) expect(ages[n]!).toBeGreaterThanOrEqual(ages[n - 1]!)
    expect(ages.at(-1)!).toBeGreaterThan(4 * DELTA_MS)

    await fault.undo()
    // Recovery: the breaker's cool-down passes, a read succeeds, and the view is fresh again.
    await eventually(async () => {
      const h = await hit(reader, path)
      return h.by === 'memory' && h.viewAge !== undefined && h.viewAge < DELTA_MS
    }, 20_000)
    // Purges reach this isolate again: one through the other process, seen here within δ.
    const before = (await hit(reader, path)).body
    const purge = await sendPurge(purger, { urls: [path], id: `trouble-${i}-${Date.now()}` })
    expect(purge.status).toBe(200)
    await purge.arrayBuffer()
    const acknowledged = Date.now()
    await eventually(async () => (await hit(reader, path)).body !== before, DELTA_MS + 5000)
    expect(Date.now() - acknowledged).toBeLessThanOrEqual(DELTA_MS + 1000)
  }, 90_000)
})
