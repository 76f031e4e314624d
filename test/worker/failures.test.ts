import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cacheStatus, servedBy, startStack, type Stack } from '../support/stack.ts'

const REDIS_TIMEOUT_MS = 150
/** Room for scheduling on a loaded 2-core machine; the deadline itself is 150 ms. */
const MARGIN_MS = 350

/** A `Server-Timing` metric's duration, or undefined when the metric is absent (the step did not run). */
const serverTiming = (res: Response, name: string): number | undefined => {
  const match = new RegExp(`(?:^|,\\s*)${name};dur=([0-9.]+)`).exec(res.headers.get('server-timing') ?? '')
  return match ? Number(match[1]) : undefined
}

describe('failure behaviour: the cache fails open to the origin', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ vars: { REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS), ORIGIN_TIMEOUT_MS: '1000' } })
  })
  afterAll(() => stack.close())
  afterEach(() => {
    stack.upstash.setFault({ mode: 'ok', latencyMs: 0 })
    stack.origin.setFault({ mode: 'ok', latencyMs: 0 })
  })

  it.each([
    ['answering after 5 s', { mode: 'ok', latencyMs: 5000 }],
    ['hanging', { mode: 'hang', latencyMs: 0 }],
    ['resetting connections', { mode: 'down', latencyMs: 0 }],
    ['answering 500', { mode: 'error', latencyMs: 0 }],
  ] as const)('with Redis %s every request is answered; each Redis call costs at most its deadline', async (label, fault) => {
    // A worker of its own: its breaker starts closed, so the calls that fail are really made (the breaker
    // of an earlier case would otherwise skip Redis and there would be no deadline to check).
    const worker = await stack.startWorker({ REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS), ORIGIN_TIMEOUT_MS: '1000' })
    stack.upstash.setFault(fault)
    let called = 0
    let skipped = 0
    for (let i = 0; i < 6; i++) {
      const res = await worker.fetch(`/public/redis-fault-${label.replace(/\W+/g, '-')}-${i}`)
      expect(res.status).toBe(200)
      expect(servedBy(res)).toBe('origin')
      await res.arrayBuffer()
      const detail = String(cacheStatus(res)['tiercache-redis']?.detail)
      expect(detail).toMatch(/^(redis-error|circuit-open)$/)
      const redis = serverTiming(res, 'redis')
      if (detail === 'redis-error') {
        called++
        // The lookup was made and gave up at its deadline.
        expect(redis).toBeDefined()
        expect(redis!).toBeLessThan(REDIS_TIMEOUT_MS + MARGIN_MS)
      } else {
        skipped++
        expect(redis).toBeUndefined()
      }
      // The purge-log read, when this request made one, is bounded by the same deadline.
      const coherence = serverTiming(res, 'coherence')
      if (coherence !== undefined) expect(coherence).toBeLessThan(REDIS_TIMEOUT_MS + MARGIN_MS)
    }
    expect(called).toBeGreaterThanOrEqual(1)
    expect(called + skipped).toBe(6)
    await worker.dispose()
    stack.workers.splice(stack.workers.indexOf(worker), 1)
  })

  it('serves stale within stale-if-error when the origin fails, and stores nothing from the failure', async () => {
    const first = await stack.workers[0]!.fetch('/sie')
    const original = await first.text()
    // Request max-age=0 makes the stored copy unusable without going to the origin (RFC 9111 §5.2.1.1),
    // so no waiting for it to go stale.
    const revalidate = { headers: { 'cache-control': 'max-age=0' } }
    stack.origin.setFault({ mode: 'error', status: 503 })
    const stale = await stack.workers[0]!.fetch('/sie', revalidate)
    expect(stale.status).toBe(200)
    expect(await stale.text()).toBe(original)
    expect(cacheStatus(stale)['tiercache-memory']).toMatchObject({ hit: true, detail: 'stale-if-error', 'fwd-status': '503' })
    stack.origin.setFault({ mode: 'timeout' })
    const onTimeout = await stack.workers[0]!.fetch('/sie', revalidate)
    expect(onTimeout.status).toBe(200)
    expect(await onTimeout.text()).toBe(original)
    stack.origin.setFault({ mode: 'ok' })
    const recovered = await stack.workers[0]!.fetch('/sie', revalidate)
    expect(recovered.status).toBe(200)
    expect(await recovered.text()).not.toBe(original)
  })

  it('without a stale copy a failing origin gives a clear 502/504 and nothing is stored', async () => {
    stack.origin.setFault({ mode: 'timeout' })
    const timeout = await stack.workers[0]!.fetch('/public/no-stale-1')
    expect(timeout.status).toBe(504)
    expect(await timeout.json()).toMatchObject({ error: 'origin timeout' })
    stack.origin.setFault({ mode: 'reset' })
    const reset = await stack.workers[0]!.fetch('/public/no-stale-1')
    expect(reset.status).toBe(502)
    await reset.arrayBuffer()
    stack.origin.setFault({ mode: 'error', status: 500 })
    const error = await stack.workers[0]!.fetch('/public/no-stale-1')
    expect(error.status).toBe(500)
    await error.arrayBuffer()
    stack.origin.setFault({ mode: 'ok' })
    const ok = await stack.workers[0]!.fetch('/public/no-stale-1')
    expect(ok.status).toBe(200)
    expect(servedBy(ok)).toBe('origin')
    await ok.arrayBuffer()
  })

  it('must-revalidate forbids serving the kept stale copy even on error (RFC 9111 §4.2.4, §5.2.2.2)', async () => {
    const first = await stack.workers[0]!.fetch('/must-revalidate')
    const original = await first.text()
    stack.origin.setFault({ mode: 'error', status: 503 })
    const res = await stack.workers[0]!.fetch('/must-revalidate', { headers: { 'cache-control': 'max-age=0' } })
    expect(res.status).toBe(503)
    const status = cacheStatus(res)['tiercache-memory']
    // The stale copy was there (it has a validator, so it is kept to be revalidated) and was refused.
    expect(status?.fwd).toBe('stale')
    expect(status?.detail).not.toBe('stale-if-error')
    expect(await res.text()).not.toBe(original)
  })
})
