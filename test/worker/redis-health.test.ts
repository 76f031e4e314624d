import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { startOwnRedis, startOwnUpstash, type OwnRedis, type OwnUpstash } from '../support/redis-trouble.ts'

// `/health` says degraded, and why, when Redis answers errors (a GET still works on an out-of-memory or
// read-only Redis: only writes fail), when the breaker is open, and when the purge-log view is older
// than a few δ; and healthy again once Redis is. A redis-server and upstash-local of this suite's own.
const DELTA_MS = 500

interface Health {
  ok: boolean
  degraded: boolean
  reasons: string[]
  tiers: {
    redis: {
      reachable: boolean
      breaker: string
      probe: { ok: boolean; reason?: string }
      errors: Array<{ operation: string; reason: string; message: string; count: number }>
      purgeLog: { viewAgeMs: number | null; deltaMs: number; failing: boolean }
    }
  }
}

describe('/health when Redis is in trouble', () => {
  let redis: OwnRedis
  let upstash: OwnUpstash
  let stack: Stack
  let worker: WorkerProcess
  const health = async (): Promise<Health> => (await (await worker.fetch('/__tiercache/health')).json()) as Health
  const healthy = async () => !(await health()).degraded

  beforeAll(async () => {
    redis = await startOwnRedis()
    upstash = await startOwnUpstash(redis)
    stack = await startStack({
      redis: { url: upstash.url, token: upstash.token },
      vars: { REDIS_TIMEOUT_MS: '1000', COHERENCE_DELTA_MS: String(DELTA_MS) },
    })
    worker = stack.workers[0]!
  })
  afterAll(async () => {
    await stack?.close()
    await Promise.allSettled([upstash?.close(), redis?.close()])
  })

  it('is healthy while Redis answers, with a fresh purge-log view', async () => {
    const h = await health()
    expect(h).toMatchObject({ ok: true, degraded: false, reasons: [] })
    expect(h.tiers.redis).toMatchObject({ reachable: true, breaker: 'closed', probe: { ok: true }, errors: [] })
    expect(h.tiers.redis.purgeLog.viewAgeMs).toBeLessThan(DELTA_MS)
  })

  it.each([
    ['out of memory', 'out-of-memory', /OOM command not allowed/, () => redis.outOfMemory()],
    ['a read-only replica', 'read-only', /READONLY/, () => redis.readOnly()],
  ] as const)('with %s: degraded with the reason, requests still answered, healthy again after', async (_label, reason, message, apply) => {
    await apply()
    // Traffic meets the errors first: a miss takes a fill lease and fills (writes), and still succeeds.
    const miss = await worker.fetch(`/public/health-${reason}-${Date.now()}`)
    expect(miss.status).toBe(200)
    await miss.arrayBuffer()
    const h = await health()
    expect(h.degraded).toBe(true)
    expect(h.reasons).toEqual(expect.arrayContaining(['redis-probe-failed', `redis-errors-${reason}`]))
    expect(h.tiers.redis.probe).toMatchObject({ ok: false, reason })
    expect(h.tiers.redis.errors).toContainEqual(expect.objectContaining({ operation: 'lookup', reason, message: expect.stringMatching(message) }))
    // Error answers come back as fast as results: they do not open the breaker, and the purge log
    // (read-only) is still read.
    expect(h.tiers.redis.breaker).toBe('closed')
    expect(h.tiers.redis.purgeLog.viewAgeMs).toBeLessThan(DELTA_MS)

    await redis.writable()
    await eventually(healthy, 10_000)
    expect((await health()).tiers.redis).toMatchObject({ reachable: true, errors: [] })
  })

  it('with Redis unreachable: degraded by the failed probe, the open breaker and the ageing view; healthy again after', async () => {
    await upstash.kill()
    let last: Health | undefined
    await eventually(async () => {
      last = await health()
      return ['redis-breaker-open', 'purge-log-view-old', 'redis-errors-unreachable'].every((r) => last!.reasons.includes(r))
    }, 15_000)
    expect(last!.degraded).toBe(true)
    expect(last!.tiers.redis.purgeLog.failing).toBe(true)
    await upstash.restart()
    await eventually(healthy, 20_000)
  })
})
