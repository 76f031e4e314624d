import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cacheStatus, eventually, servedBy, startStack, type Stack } from '../support/stack.ts'

// Each tier's hit shows in Cache-Status, and Upstash requests are counted at the local server:
// 0 per memory or edge hit, 1 per Redis hit (design.md §8).
describe('tiered read path: memory → edge → Redis → origin', () => {
  let stack: Stack
  beforeAll(async () => {
    // A long δ, and one warm-up request, take the purge-log read (≤ 1 per isolate per δ) out of the
    // per-request counts below; test/worker/coherence.test.ts measures that cost on its own.
    stack = await startStack({ vars: { COHERENCE_DELTA_MS: '3600000' } })
    await (await stack.workers[0]!.fetch('/public/warm-up')).arrayBuffer()
  })
  afterAll(() => stack.close())
  beforeEach(() => {
    stack.upstash.resetStats()
    stack.origin.resetStats()
  })

  const worker = () => stack.workers[0]!
  /** Waits for a miss's background fills: Redis (lookup + fill = 2 Upstash requests) and the edge. */
  const filled = async (path: string) => {
    await eventually(() => stack.upstash.stats().requests === 2)
    await eventually(() => worker().edgeHolds(path))
  }

  it('a miss goes to the origin once and stores the response in every tier', async () => {
    const res = await worker().fetch('/public/tiers-1')
    expect(res.status).toBe(200)
    const body = await res.text()
    const status = cacheStatus(res)
    expect(servedBy(res)).toBe('origin')
    expect(status['tiercache-memory']).toMatchObject({ fwd: 'miss', stored: true })
    expect(status['tiercache-edge']).toMatchObject({ fwd: 'miss', stored: true })
    expect(status['tiercache-redis']).toMatchObject({ fwd: 'miss', stored: true })
    expect(stack.origin.stats().requests).toBe(1)
    expect(res.headers.get('age')).toBe('0')
    expect(res.headers.get('cache-control')).toBe('public, max-age=60')
    expect(res.headers.get('etag')).toBeTruthy()
    expect(res.headers.get('server-timing')).toMatch(/origin;dur=/)
    // Upstash: one lookup (+lease) and one fill.
    await eventually(() => stack.upstash.stats().requests === 2)
    expect(body).toContain('tiers-1')
  })

  it('the next request is a memory hit with no Upstash request and no origin request', async () => {
    await (await worker().fetch('/public/tiers-2')).arrayBuffer()
    await eventually(() => stack.upstash.stats().requests === 2)
    stack.upstash.resetStats()
    const res = await worker().fetch('/public/tiers-2')
    expect(servedBy(res)).toBe('memory')
    expect(cacheStatus(res)['tiercache-memory']).toMatchObject({ hit: true })
    expect(Number(cacheStatus(res)['tiercache-memory']!.ttl)).toBeGreaterThan(50)
    await res.arrayBuffer()
    expect(stack.upstash.stats().requests).toBe(0)
    expect(stack.origin.stats().requests).toBe(1)
  })

  it('with memory evicted the edge answers, with no Upstash request, and refills memory on the second edge hit (src/stack/edge-heat.ts)', async () => {
    const first = await worker().fetch('/public/tiers-3')
    const original = await first.text()
    await filled('/public/tiers-3')
    await worker().clearMemory()
    stack.upstash.resetStats()
    // The first edge hit is served from the stored response as it is: memory is not filled for one hit.
    const res = await worker().fetch('/public/tiers-3')
    expect(servedBy(res)).toBe('edge')
    expect(cacheStatus(res)['tiercache-memory']).toEqual({ fwd: 'miss' })
    expect(await res.text()).toBe(original)
    expect(res.headers.get('x-tiercache'), 'the edge metadata field stays in the tier').toBeNull()
    expect(res.headers.get('cache-tag')).toBeNull()
    expect(res.headers.get('cache-control')).toBe(first.headers.get('cache-control'))
    // The second within the window earns the key a memory copy, and the next request is a memory hit.
    const second = await worker().fetch('/public/tiers-3')
    expect(servedBy(second)).toBe('edge')
    expect(cacheStatus(second)['tiercache-memory']).toMatchObject({ fwd: 'miss', stored: true })
    expect(await second.text()).toBe(original)
    expect(stack.upstash.stats().requests).toBe(0)
    const again = await worker().fetch('/public/tiers-3')
    expect(servedBy(again)).toBe('memory')
    await again.arrayBuffer()
  })

  it('with memory evicted and the edge cleared Redis answers with exactly one Upstash request', async () => {
    const first = await worker().fetch('/public/tiers-4')
    const original = await first.text()
    await filled('/public/tiers-4')
    await worker().clearMemory()
    expect(await worker().clearEdge('/public/tiers-4')).toBe(true)
    stack.upstash.resetStats()
    stack.origin.resetStats()
    const res = await worker().fetch('/public/tiers-4')
    expect(servedBy(res)).toBe('redis')
    const status = cacheStatus(res)
    expect(status['tiercache-edge']).toMatchObject({ fwd: 'miss', stored: true })
    expect(status['tiercache-memory']).toMatchObject({ fwd: 'miss', stored: true })
    expect(await res.text()).toBe(original)
    expect(stack.upstash.stats().requests).toBe(1)
    expect(stack.origin.stats().requests).toBe(0)
    // The edge was refilled from Redis.
    await worker().clearMemory()
    await eventually(async () => {
      const r = await worker().fetch('/public/tiers-4')
      await r.arrayBuffer()
      return servedBy(r) === 'edge' || servedBy(r) === 'memory'
    })
    expect(stack.upstash.stats().requests).toBe(1)
  })

  it('Age keeps growing across tiers from when the origin generated the response (RFC 9111 §4.2.3)', async () => {
    await (await worker().fetch('/public/tiers-5')).arrayBuffer()
    await filled('/public/tiers-5')
    await new Promise((r) => setTimeout(r, 1100))
    await worker().clearMemory()
    const res = await worker().fetch('/public/tiers-5')
    expect(servedBy(res)).toBe('edge')
    expect(Number(res.headers.get('age'))).toBeGreaterThanOrEqual(1)
    await res.arrayBuffer()
  })

  it('binary bodies survive every tier byte for byte', async () => {
    const first = new Uint8Array(await (await worker().fetch('/bytes/4096')).arrayBuffer())
    await filled('/bytes/4096')
    await worker().clearMemory()
    expect(await worker().clearEdge('/bytes/4096')).toBe(true)
    const fromRedis = await worker().fetch('/bytes/4096')
    expect(servedBy(fromRedis)).toBe('redis')
    expect(new Uint8Array(await fromRedis.arrayBuffer())).toEqual(first)
    await eventually(() => worker().edgeHolds('/bytes/4096'))
    await worker().clearMemory()
    const fromEdge = await worker().fetch('/bytes/4096')
    expect(servedBy(fromEdge)).toBe('edge')
    expect(new Uint8Array(await fromEdge.arrayBuffer())).toEqual(first)
  })
})
