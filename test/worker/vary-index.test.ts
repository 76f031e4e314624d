import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, sendPurge, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { pool } from '../support/pool.ts'
import { redisCliRaw } from '../support/redis-trouble.ts'
import { globLiteral, keysAndTtls } from '../support/redis-inspect.ts'
import { cacheKey } from '../../src/policy/key.ts'
import { parseVary, variantKeySuffix } from '../../src/policy/vary.ts'
import { URL_INDEX_CAP } from '../../src/tiers/redis.ts'

// A URL's key index (what lets a purge delete its variants from Redis at once) is capped. Past the cap
// variants go unindexed: a purge by URL leaves them in Redis, and every isolate refuses them through
// the purge log. 3,000 `Vary: X-Tenant` variants of one URL, filled through one worker process; the
// other reads them from Redis. The edge tier is off: it plays no part here, and without it the fills
// finish well within the variants' 60 s lifetime on a busy machine.
const DELTA_MS = 1000
const VARIANTS = 3000
const REDIS_PORT = 6379

const serial = (body: string): string => /serial (\d+)/.exec(body)?.[1] ?? ''

describe('a URL with more variants than its key index holds', () => {
  let stack: Stack
  let filler: WorkerProcess
  let reader: WorkerProcess
  beforeAll(async () => {
    stack = await startStack({ workers: 2, vars: { COHERENCE_DELTA_MS: String(DELTA_MS), EDGE_CACHE: 'off' } })
    ;[filler, reader] = stack.workers as [WorkerProcess, WorkerProcess]
  })
  afterAll(() => stack?.close())

  it(`${VARIANTS} variants: the index stays at its cap, and a purge by URL still hides every variant within δ`, async () => {
    const path = `/vary/custom?run=${Date.now()}`
    const url = cacheKey(new URL(`http://tiercache.test${path}`), { ignoreQueryParams: ['utm_*', 'fbclid', 'gclid'] })
    const tenant = (i: number) => ({ headers: { 'x-tenant': `tenant-${i}` } })
    // One at a time: concurrent misses of one URL wait on each other in the isolate anyway.
    const filled = await pool(VARIANTS, 1, async (i) => {
      const res = await filler.fetch(path, tenant(i))
      expect(res.status).toBe(200)
      return serial(await res.text())
    })
    const variantKeys = `${stack.prefix}${globLiteral(url)}|v=*`
    const indexKey = `${stack.prefix}idx:url:${url}`
    // Fills land in the background, in order: the last variant's entry in Redis shows they are done.
    const lastKey = `${stack.prefix}${url}|v=${await variantKeySuffix(parseVary('X-Tenant') as string[], new Headers(tenant(VARIANTS - 1).headers))}`
    await eventually(async () => (await redisCliRaw(REDIS_PORT, 'EXISTS', lastKey)) === '1', 10_000)
    const last = await reader.fetch(path, tenant(VARIANTS - 1))
    expect(servedBy(last)).toBe('redis')
    expect(serial(await last.text())).toBe(filled[VARIANTS - 1])

    const indexed = (await redisCliRaw(REDIS_PORT, 'SMEMBERS', indexKey)).split('\n').filter(Boolean)
    const indexedVariants = indexed.filter((k) => k.includes('|v=')).length
    const stored = (await keysAndTtls(REDIS_PORT, variantKeys)).count
    console.log(`${stored} of ${VARIANTS} variants in Redis; the URL's index holds ${indexed.length} keys (cap ${URL_INDEX_CAP}), ${indexedVariants} of them variants`)
    expect(indexed.length).toBe(URL_INDEX_CAP)
    expect(stored - indexedVariants, 'variants in Redis outside the index').toBeGreaterThan(VARIANTS / 2)

    const res = await sendPurge(filler, { urls: [path], id: `vary-index-${Date.now()}` })
    expect(res.status).toBe(200)
    const receipt = (await res.json()) as { redis: { deletedKeys: number } }
    const acknowledged = Date.now()
    const left = (await keysAndTtls(REDIS_PORT, variantKeys)).count
    console.log(`the purge deleted ${receipt.redis.deletedKeys} keys; ${left} variants stay in Redis until they expire`)
    expect(await redisCliRaw(REDIS_PORT, 'EXISTS', indexKey)).toBe('0')
    expect(left).toBeGreaterThan(VARIANTS / 2)

    // Not one variant from any tier: the reader finds the unindexed ones in Redis and refuses them
    // (purge log); the filler dropped its memory copies when it committed the purge.
    // The reader's view of the purge log may be up to δ old when the purge is acknowledged (it read the log
    // when it fetched the last variant just above), so old variants may still be served within δ — the
    // promise is "not later than δ". The requests go on well past δ, so the bound is really exercised.
    const oldServedAt: number[] = []
    let lastAt = 0
    for (const [worker, step] of [[reader, 1], [filler, 10]] as const) {
      await pool(Math.ceil(VARIANTS / step), 4, async (n) => {
        const i = n * step
        const r = await worker.fetch(path, tenant(i))
        const at = Date.now() - acknowledged
        if (serial(await r.text()) === filled[i]) oldServedAt.push(at)
        lastAt = Math.max(lastAt, at)
      })
    }
    console.log(`after the purge: ${oldServedAt.length} old variants served, the last ${Math.max(0, ...oldServedAt)} ms after the receipt; requests went on for ${lastAt} ms`)
    expect(lastAt).toBeGreaterThan(2 * DELTA_MS)
    expect(oldServedAt.filter((t) => t > DELTA_MS)).toEqual([])
  }, 300_000)
})
