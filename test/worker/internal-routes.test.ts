import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { servedBy, startStack, startWorkerProcess, TEST_INTERNAL_TOKEN, type Stack } from '../support/stack.ts'

// src/internal.ts: /stats and /memory/clear need `Authorization: Bearer <INTERNAL_TOKEN>` (design.md §4 rule 6).
describe('internal routes require the Bearer token', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(() => stack.close())

  const worker = () => stack.workers[0]!
  const call = (route: 'stats' | 'memory-clear', authorization?: string) =>
    worker().fetch(route === 'stats' ? '/__tiercache/stats' : '/__tiercache/memory/clear', {
      method: route === 'stats' ? 'GET' : 'POST',
      headers: authorization === undefined ? {} : { authorization },
    })

  const refusals: Array<[string, string | undefined]> = [
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer not-the-token'],
    ['the token without a scheme', TEST_INTERNAL_TOKEN],
    ['the token under another scheme', `Basic ${TEST_INTERNAL_TOKEN}`],
    ['the scheme without a space', `Bearer${TEST_INTERNAL_TOKEN}`],
    ['the scheme alone', 'Bearer '],
    ['the token with something after it', `Bearer ${TEST_INTERNAL_TOKEN} extra`],
  ]

  describe.each(['stats', 'memory-clear'] as const)('%s', (route) => {
    it.each(refusals)('answers 401 with WWW-Authenticate: Bearer to %s', async (_label, authorization) => {
      const res = await call(route, authorization)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer')
      expect(await res.json()).toEqual({ error: 'unauthorized' })
    })

    // RFC 9110 §11.1: the auth-scheme is case-insensitive; §11.4 allows one or more spaces after it.
    it.each([`Bearer ${TEST_INTERNAL_TOKEN}`, `bearer ${TEST_INTERNAL_TOKEN}`, `BEARER  ${TEST_INTERNAL_TOKEN}`])('answers 200 to %j', async (authorization) => {
      const res = await call(route, authorization)
      expect(res.status).toBe(200)
      await res.arrayBuffer()
    })
  })

  it('a refused /memory/clear leaves memory alone; an authorised one empties it', async () => {
    const path = '/public/internal-clear'
    await (await worker().fetch(path)).arrayBuffer()
    const hit = await worker().fetch(path)
    await hit.arrayBuffer()
    expect(servedBy(hit)).toBe('memory')
    expect((await call('memory-clear', TEST_INTERNAL_TOKEN)).status).toBe(401)
    const stillHit = await worker().fetch(path)
    await stillHit.arrayBuffer()
    expect(servedBy(stillHit)).toBe('memory')
    const cleared = await call('memory-clear', `Bearer ${TEST_INTERNAL_TOKEN}`)
    expect(await cleared.json()).toEqual({ cleared: true })
    const after = await worker().fetch(path)
    await after.arrayBuffer()
    expect(servedBy(after)).not.toBe('memory')
  })

  it('/stats with the token answers the counters', async () => {
    const res = await call('stats', `Bearer ${TEST_INTERNAL_TOKEN}`)
    const stats = (await res.json()) as { counters: Record<string, number> }
    expect(stats.counters.requests).toBeGreaterThan(0)
  })

  it('without INTERNAL_TOKEN configured, no Authorization opens /stats', async () => {
    const bare = await startWorkerProcess({ ORIGIN_URL: stack.origin.url })
    try {
      for (const authorization of ['Bearer ', 'Bearer undefined', `Bearer ${TEST_INTERNAL_TOKEN}`]) {
        const res = await bare.fetch('/__tiercache/stats', { headers: { authorization } })
        expect(res.status).toBe(401)
        await res.arrayBuffer()
      }
    } finally {
      await bare.dispose()
    }
  })
})
