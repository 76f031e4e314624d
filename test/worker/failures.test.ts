import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cacheStatus, servedBy, startStack, type Stack } from '../support/stack.ts'

const REDIS_TIMEOUT_MS = 150

const serverTiming = (res: Response, name: string): number => {
  const match = new RegExp(`${name};dur=([0-9.]+)`).exec(res.headers.get('server-timing') ?? '')
  return match ? Number(match[1]) : 0
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
  ] as const)('with Redis %s every request is still answered, Redis costing at most its deadline', async (_label, fault) => {
    stack.upstash.setFault(fault)
    for (let i = 0; i < 6; i++) {
      const res = await stack.workers[0]!.fetch(`/public/redis-fault-${fault.mode}-${fault.latencyMs}-${i}`)
      expect(res.status).toBe(200)
      await res.arrayBuffer()
      const redis = cacheStatus(res)['tiercache-redis']
      expect(String(redis?.detail)).toMatch(/redis-error|circuit-open/)
      expect(serverTiming(res, 'redis')).toBeLessThan(REDIS_TIMEOUT_MS + 100)
    }
  })

  it('serves stale within stale-if-error when the origin fails, and stores nothing from the failure', async () => {
    const first = await stack.workers[0]!.fetch('/sie')
    const original = await first.text()
    await new Promise((r) => setTimeout(r, 1200))
    stack.origin.setFault({ mode: 'error', status: 503 })
    const stale = await stack.workers[0]!.fetch('/sie')
    expect(stale.status).toBe(200)
    expect(await stale.text()).toBe(original)
    expect(cacheStatus(stale)['tiercache-memory']).toMatchObject({ hit: true, detail: 'stale-if-error', 'fwd-status': '503' })
    stack.origin.setFault({ mode: 'timeout' })
    const onTimeout = await stack.workers[0]!.fetch('/sie')
    expect(onTimeout.status).toBe(200)
    expect(await onTimeout.text()).toBe(original)
    stack.origin.setFault({ mode: 'ok' })
    const recovered = await stack.workers[0]!.fetch('/sie')
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

  it('must-revalidate forbids serving stale even on error (RFC 9111 §4.2.4)', async () => {
    await (await stack.workers[0]!.fetch('/must-revalidate')).arrayBuffer()
    await new Promise((r) => setTimeout(r, 1200))
    stack.origin.setFault({ mode: 'error', status: 503 })
    const res = await stack.workers[0]!.fetch('/must-revalidate')
    expect(res.status).toBe(503)
    await res.arrayBuffer()
  })
})
