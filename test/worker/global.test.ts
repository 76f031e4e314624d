/**
 * tiercache on an Upstash Global database (README "Upstash Global"): two worker processes in two read
 * regions of the local global database (scripts/upstash-local/global.ts: one primary, a replica per region
 * behind a lag proxy, reads on the region's replica, scripts on the primary), the reader's replica lagging
 * 3 s — longer than δ + 1 s, so any read of the purge log or any unjudged hit from it would break the bound.
 *
 * Both ways of running on it are checked: the default (every lookup is a script, so on the primary) and
 * `UPSTASH_GLOBAL=true` (hits read the replica first, redis-replica.ts).
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startUpstashGlobal, type UpstashGlobal, type UpstashRegion } from '../../scripts/upstash-local/global.ts'
import { cacheStatus, eventually, sendPurge, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import type { Item } from '../../scripts/demo-origin/item-store.ts'
import { itemRead as itemReadAt } from '../support/item-read.ts'

const DELTA_MS = 1000
/** design.md §8: purge-to-invisible ≤ δ + 1 s across worker processes. */
const BOUND_MS = DELTA_MS + 1000
const LAG_MS = 3000
const DEADLINE_MS = 20_000
const TOKEN = 'global-test-token'

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** `GET key` straight on a redis-server (the replica or the primary), bypassing every routing rule. */
const redisGet = (port: number, key: string) =>
  new Promise<string>((resolve, reject) =>
    execFile('redis-cli', ['-p', String(port), '--raw', 'GET', key], { timeout: 10_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim())))
  )

async function readItem(worker: WorkerProcess, path: string): Promise<{ version: number; by: string; startedAt: number; res: Response }> {
  const startedAt = Date.now()
  const res = await worker.fetch(path)
  const text = await res.text()
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${text}`)
  return { version: (JSON.parse(text) as Item).version, by: servedBy(res), startedAt, res }
}

describe.each([
  ['lookups on the primary (default)', 'false'],
  ['UPSTASH_GLOBAL=true: hits read the replica', 'true'],
])('Upstash Global, %s', (_mode, global) => {
  let db: UpstashGlobal
  /** The reader's region: its replica lags; the writer's region (the first) does not. */
  let far: UpstashRegion
  let stack: Stack
  let writer: WorkerProcess
  let reader: WorkerProcess
  beforeAll(async () => {
    db = await startUpstashGlobal({ port: 0, token: TOKEN, regions: 2 })
    far = db.regions[1] as UpstashRegion
    // Two regions: the writer (which sends purges) near the primary's first replica, the reader in a far
    // region whose replica lags. The reader has no memory or edge tier, so every read it answers from
    // cache is a Redis lookup: the path a lagging replica could feed.
    stack = await startStack({ workers: 0, redis: { url: db.url, token: TOKEN }, vars: { COHERENCE_DELTA_MS: String(DELTA_MS), UPSTASH_GLOBAL: global } })
    writer = await stack.startWorker()
    reader = await stack.startWorker({ MEMORY_MAX_BYTES: '64', EDGE_CACHE: 'off', UPSTASH_REDIS_REST_URL: far.url })
  })
  afterAll(async () => {
    await stack?.close()
    await db?.close()
  })

  it('a purge acknowledged by one process hides the old body in the other within δ + 1 s, while the replica still holds it', async () => {
    const id = `g-${global}-${randomUUID().slice(0, 6)}`
    const path = `/items/${id}`
    const key = `${stack.prefix}http://tiercache.test${path}`
    const old = stack.origin.data.put(id, 'before').item.version
    expect((await readItem(reader, path)).by).toBe('origin')
    // The fill reached the replica: from here on the reader's hits can come from it.
    await eventually(async () => (await redisGet(far.replica.port, key)) !== '', DEADLINE_MS)
    await eventually(async () => (await readItem(reader, path)).by === 'redis', DEADLINE_MS)

    far.setGlobalKnobs({ lagMs: LAG_MS })
    try {
      const next = stack.origin.data.put(id, 'after').item.version
      const purge = await sendPurge(writer, { urls: [path], id: `g-purge-${id}` })
      expect(purge.status).toBe(200)
      await purge.arrayBuffer()
      const acknowledged = Date.now()
      // The primary deleted the entry; the replica, 3 s behind, still has it.
      expect(await redisGet(db.primary.port, key)).toBe('')
      expect(await redisGet(far.replica.port, key)).not.toBe('')

      let worst = Number.NEGATIVE_INFINITY
      for (;;) {
        const read = await readItem(reader, path)
        expect([old, next]).toContain(read.version)
        if (read.version === next) {
          // Never a claim the bound does not back: the view the answer was judged by is at most δ old.
          const status = cacheStatus(read.res)['tiercache-redis']
          if (status?.['view-age'] !== undefined) expect(Number(status['view-age'])).toBeLessThanOrEqual(DELTA_MS)
          break
        }
        worst = Math.max(worst, read.startedAt - acknowledged)
        if (Date.now() - acknowledged > DEADLINE_MS) throw new Error(`old body still served ${DEADLINE_MS} ms after the purge`)
        await pause(20)
      }
      console.log(`global (${global}): old body served at most ${Number.isFinite(worst) ? `${worst} ms` : 'never'} after the acknowledgement; δ = ${DELTA_MS} ms, lag = ${LAG_MS} ms`)
      expect(worst).toBeLessThanOrEqual(BOUND_MS)
      // Still inside the lag: the replica has not caught up, yet nothing of the old body was served.
      if (Date.now() - acknowledged < LAG_MS - 200) expect(await redisGet(far.replica.port, key)).not.toBe('')
      // And for the rest of the lag the reader keeps serving the new version.
      while (Date.now() - acknowledged < LAG_MS + 500) {
        expect((await readItem(reader, path)).version).toBe(next)
        await pause(100)
      }
    } finally {
      far.setGlobalKnobs({ lagMs: 0 })
    }
  }, 60_000)

  it('a purge that lands while the origin holds a fill leaves no old body, with the replica lagging', async () => {
    const id = `gf-${global}-${randomUUID().slice(0, 6)}`
    const path = `/items/${id}?hold=2000`
    const key = `${stack.prefix}http://tiercache.test${path}`
    const original = stack.origin.data.put(id, 'the original').item
    far.setGlobalKnobs({ lagMs: LAG_MS })
    try {
      const watch = itemReadAt(stack.origin.data, id)
      let slowFill: Promise<{ version: number }>
      try {
        slowFill = readItem(reader, path)
        await watch.read
      } finally {
        watch.restore()
      }
      const written = stack.origin.data.put(id, 'written during the fill').item
      const purge = await sendPurge(writer, { tags: [`item-${id}`], id: `gf-purge-${id}` })
      expect(purge.status).toBe(200)
      await purge.arrayBuffer()
      expect((await slowFill).version).toBe(original.version)
      await eventually(async () => ((await reader.stats()).counters.fills_fenced ?? 0) >= 1, DEADLINE_MS)
      // Nothing reached the primary, so nothing can replicate.
      expect(await redisGet(db.primary.port, key)).toBe('')
      for (const w of [reader, writer]) expect((await readItem(w, path)).version).toBe(written.version)
    } finally {
      far.setGlobalKnobs({ lagMs: 0 })
    }
  }, 60_000)
})

describe('where a Redis hit is served', () => {
  let db: UpstashGlobal
  let stack: Stack
  beforeAll(async () => {
    db = await startUpstashGlobal({ port: 0, token: TOKEN })
    // A long δ: no purge-log read lands inside the counted window.
    stack = await startStack({ workers: 0, redis: { url: db.url, token: TOKEN }, vars: { COHERENCE_DELTA_MS: '60000', MEMORY_MAX_BYTES: '64', EDGE_CACHE: 'off' } })
  })
  afterAll(async () => {
    await stack?.close()
    await db?.close()
  })

  it.each([
    ['false', { primary: 1 }, 1],
    ['true', { replica: 1 }, 1],
  ])('UPSTASH_GLOBAL=%s: one Upstash request per Redis hit, served by %j', async (global, byNode, requests) => {
    const worker = await stack.startWorker({ UPSTASH_GLOBAL: global })
    const path = `/items/hit-${global}`
    const key = `${stack.prefix}http://tiercache.test${path}`
    stack.origin.data.put(`hit-${global}`, 'x')
    await readItem(worker, path)
    await eventually(async () => (await redisGet(db.replica.port, key)) !== '', DEADLINE_MS)
    await eventually(async () => (await readItem(worker, path)).by === 'redis', DEADLINE_MS)
    const before = (await worker.stats()).counters.redis_requests ?? 0
    db.resetStats()
    expect((await readItem(worker, path)).by).toBe('redis')
    expect(db.stats().byNode).toEqual(byNode)
    expect(((await worker.stats()).counters.redis_requests ?? 0) - before).toBe(requests)
  })

  it('UPSTASH_GLOBAL=true: a miss asks the replica, then the primary for the lease, then fills on the primary (3 requests)', async () => {
    const worker = await stack.startWorker({ UPSTASH_GLOBAL: 'true' })
    stack.origin.data.put('warm', 'x')
    // The first request reads the purge log (a primary script): keep it out of the counted window.
    await readItem(worker, '/items/warm')
    db.resetStats()
    stack.origin.data.put('miss-global', 'x')
    expect((await readItem(worker, '/items/miss-global')).by).toBe('origin')
    await eventually(() => (db.stats().byNode?.primary ?? 0) >= 2, DEADLINE_MS)
    await pause(200)
    expect(db.stats().byNode).toEqual({ replica: 1, primary: 2 })
  })
})
