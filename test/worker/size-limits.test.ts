import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { seededBytes } from '../../scripts/demo-origin/routes/payloads.ts'
import { cacheStatus, eventually, redisHolds, servedBy, startStack, type Stack } from '../support/stack.ts'
import { IDENTITY } from '../support/straight-to-origin.ts'

// design.md §4 rule 4: each tier has a maximum entry size; a larger response is served but not stored
// there — and still stored in the tiers that can hold it. Defaults: memory 1 MiB per entry, Redis 4 MiB
// encoded (base64, so ~3 MiB of incompressible body), edge 50 MiB. `/bytes/:n` is seeded pseudo-random
// (incompressible), so its encoded size in Redis is about 4/3 of the body. Cache-Status (RFC 9211 §2.6)
// says `stored` only for a tier that stored the response.

const MiB = 1024 * 1024

describe('entries too big for some tiers are stored in the others', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ vars: { COHERENCE_DELTA_MS: '3600000' } })
  })
  afterAll(() => stack.close())
  beforeEach(() => stack.origin.resetStats())
  const worker = () => stack.workers[0]!

  it.each([
    { label: '5 MiB', bytes: 5 * MiB },
    { label: '30 MiB', bytes: 30 * MiB },
  ])('$label: the origin is asked once, the 2nd and 3rd requests are edge hits, Cache-Status is truthful', async ({ bytes }) => {
    const path = `/bytes/${bytes}?seed=3`
    const expected = Buffer.from(seededBytes(bytes, 3))

    const first = await worker().fetch(path, { headers: IDENTITY })
    expect(Buffer.from(await first.arrayBuffer()).equals(expected), 'first body').toBe(true)
    expect(servedBy(first)).toBe('origin')
    const status = cacheStatus(first)
    // Too big for memory's per-entry cap and for Redis: neither may claim it.
    expect.soft(status['tiercache-memory']?.stored, `memory (Cache-Status: ${first.headers.get('cache-status')})`).toBeUndefined()
    expect.soft(status['tiercache-redis']?.stored, `redis (Cache-Status: ${first.headers.get('cache-status')})`).toBeUndefined()
    expect.soft(status['tiercache-edge']?.stored, `edge (Cache-Status: ${first.headers.get('cache-status')})`).toBe(true)
    // The edge write runs after the answer (waitUntil): wait for it on its own signal.
    const edgeReceived = await eventually(() => worker().edgeHolds(path), 10_000).then(
      () => true,
      () => false
    )
    expect.soft(edgeReceived, 'the edge received the entry').toBe(true)
    expect.soft(await redisHolds(stack, path), 'Redis holds it').toBe(false)

    for (const n of [2, 3]) {
      const res = await worker().fetch(path, { headers: IDENTITY })
      expect(Buffer.from(await res.arrayBuffer()).equals(expected), `body ${n}`).toBe(true)
      expect.soft(servedBy(res), `request ${n} (Cache-Status: ${res.headers.get('cache-status')})`).toBe('edge')
    }
    expect(stack.origin.stats().byPath[`/bytes/${bytes}`], 'origin requests').toBe(1)
  })

  it('a body Redis can hold but memory cannot is stored in both shared tiers, and Cache-Status says so', async () => {
    const bytes = 2 * MiB
    const path = `/bytes/${bytes}?seed=4`
    const first = await worker().fetch(path, { headers: IDENTITY })
    expect((await first.arrayBuffer()).byteLength).toBe(bytes)
    const status = cacheStatus(first)
    expect(status['tiercache-memory']?.stored).toBeUndefined()
    expect(status['tiercache-redis']?.stored).toBe(true)
    expect(status['tiercache-edge']?.stored).toBe(true)
    await eventually(() => redisHolds(stack, path), 10_000)
    await eventually(() => worker().edgeHolds(path), 10_000)
    // From another process (its own, empty edge) it is a Redis hit.
    const other = await stack.startWorker()
    const res = await other.fetch(path, { headers: IDENTITY })
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(seededBytes(bytes, 4)))).toBe(true)
    expect(servedBy(res)).toBe('redis')
    expect(stack.origin.stats().byPath[`/bytes/${bytes}`]).toBe(1)
  })
})
