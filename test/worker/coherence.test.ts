import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from '@upstash/redis'
import { cacheStatus, eventually, sendPurge, servedBy, startStack, TEST_TOKEN, type Stack } from '../support/stack.ts'
import { cacheKey } from '../../src/policy/key.ts'
import { edgeUrlFor } from '../../src/tiers/edge.ts'
import { decodeFromRedis } from '../../src/codec.ts'

// design.md §5: after a purge is acknowledged, no isolate in any data centre serves the purged content
// more than δ later. Two worker processes share Redis; each has its own memory and its own edge cache.
const DELTA_MS = 1000

const version = (body: string): number => Number(/"version":\s*(\d+)/.exec(body)?.[1] ?? NaN)

describe('bounded staleness across worker processes', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ workers: 2, vars: { COHERENCE_DELTA_MS: String(DELTA_MS) } })
  })
  afterAll(() => stack.close())

  it(`over 200 purge/read interleavings neither process serves a purged body more than δ + 1 s later`, async () => {
    const KEYS = 10
    const ROUNDS = 20
    let worst = 0
    let interleavings = 0
    for (let round = 0; round < ROUNDS; round++) {
      const ids = Array.from({ length: KEYS }, (_, k) => `coh-${k}`)
      // Fill both processes (memory + their own edge) with the current version.
      const current = new Map<string, number>()
      for (const id of ids) {
        for (const w of stack.workers) {
          const res = await w.fetch(`/items/${id}`)
          current.set(id, Math.max(current.get(id) ?? 0, version(await res.text())))
        }
      }
      // Write at the origin (no webhook), then purge through process 0, half by URL and half by tag.
      await Promise.all(
        ids.map(async (id, k) => {
          stack.origin.data.put(id, `round ${round}`)
          const old = current.get(id)!
          const body = k % 2 === 0 ? { urls: [`/items/${id}`] } : { tags: [`item-${id}`] }
          const purge = await sendPurge(stack.workers[0]!, { ...body, id: `coh-${round}-${k}` })
          expect(purge.status).toBe(200)
          await purge.arrayBuffer()
          const acknowledged = Date.now()
          // Read from both processes, with a little jitter, until neither serves the old version.
          let lastOld = acknowledged
          for (;;) {
            const bodies = await Promise.all(stack.workers.map((w) => w.fetch(`/items/${id}`).then((r) => r.text())))
            const now = Date.now()
            if (bodies.some((b) => version(b) <= old)) {
              lastOld = now
              if (now - acknowledged > DELTA_MS + 3000) break
              await new Promise((r) => setTimeout(r, 10 + ((round * 7 + k) % 15)))
              continue
            }
            break
          }
          worst = Math.max(worst, lastOld - acknowledged)
          interleavings++
        })
      )
    }
    console.log(`purge-to-invisible: ${interleavings} interleavings, largest delay ${worst} ms (δ = ${DELTA_MS} ms)`)
    expect(interleavings).toBeGreaterThanOrEqual(200)
    expect(worst).toBeLessThanOrEqual(DELTA_MS + 1000)
  }, 240_000)

  it('a purge that lands while the origin holds a fill for 2 s leaves no old body in any tier', async () => {
    const id = 'fence-1'
    const path = `/items/${id}?hold=2000`
    stack.origin.data.put(id, 'the original')
    // Process 1 starts a fill; the origin reads the item at once and answers 2 s later.
    const slowFill = stack.workers[1]!.fetch(path).then((r) => r.text())
    await new Promise((r) => setTimeout(r, 300))
    // The item changes and the purge (by tag) is acknowledged while that fill waits on the origin.
    stack.origin.data.put(id, 'written during the fill')
    const purge = await sendPurge(stack.workers[0]!, { tags: [`item-${id}`], id: 'fence-purge-1' })
    expect(purge.status).toBe(200)
    await purge.arrayBuffer()
    const oldBody = await slowFill
    expect(oldBody).not.toContain('written during the fill')
    const oldVersion = version(oldBody)
    // Let background writes land and δ pass, then look at every tier of both processes: memory first,
    // then (memory dropped) the edge and Redis.
    await new Promise((r) => setTimeout(r, DELTA_MS + 300))
    for (const w of stack.workers) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await w.fetch(path)
        const body = await res.text()
        expect(version(body), `served by ${servedBy(res)}: ${res.headers.get('cache-status')}`).toBeGreaterThan(oldVersion)
        await w.clearMemory()
      }
    }
    const stats = await stack.workers[1]!.stats()
    expect(stats.counters.fills_fenced ?? 0).toBeGreaterThanOrEqual(1)
    // And directly in the shared tiers: whatever Redis and each edge cache hold is the new version.
    const key = cacheKey(new URL(`http://tiercache.test${path}`), { ignoreQueryParams: ['utm_*', 'fbclid', 'gclid'] })
    const redis = new Redis({ url: stack.upstash.url, token: TEST_TOKEN, automaticDeserialization: false, responseEncoding: false })
    const stored = await redis.get<string>(`${stack.prefix}${key}`)
    if (stored !== null) {
      const entry = await decodeFromRedis(stored)
      expect(entry.kind === 'entry' && version(new TextDecoder().decode(entry.body))).toBeGreaterThan(oldVersion)
    }
    for (const w of stack.workers) {
      const edge = await (await w.caches()).default.match(edgeUrlFor(key, '/__tiercache'))
      if (edge) expect(version(await edge.text())).toBeGreaterThan(oldVersion)
    }
  })

  it('an unsafe method through one process invalidates the URL for the other within δ', async () => {
    const id = 'unsafe-1'
    const before = await (await stack.workers[1]!.fetch(`/items/${id}`)).text()
    expect(servedBy(await stack.workers[1]!.fetch(`/items/${id}`))).toBe('memory')
    const put = await stack.workers[0]!.fetch(`/items/${id}`, { method: 'PUT', body: 'changed through the worker' })
    expect(put.status).toBeLessThan(300)
    await put.arrayBuffer()
    const started = Date.now()
    await eventually(async () => (await (await stack.workers[1]!.fetch(`/items/${id}`)).text()) !== before, DELTA_MS + 1000)
    expect(Date.now() - started).toBeLessThanOrEqual(DELTA_MS + 1000)
  })

  it('costs at most one Upstash request per isolate per δ for coherence, and shows the bound', async () => {
    const w = stack.workers[0]!
    await (await w.fetch('/public/coherence-cost')).arrayBuffer()
    await new Promise((r) => setTimeout(r, DELTA_MS))
    stack.upstash.resetStats()
    const started = Date.now()
    let last: Response | undefined
    while (Date.now() - started < 3 * DELTA_MS) {
      last = await w.fetch('/public/coherence-cost')
      await last.arrayBuffer()
      await new Promise((r) => setTimeout(r, 20))
    }
    const elapsed = Date.now() - started
    // Only the log reads reach Upstash here: every request is a memory hit.
    expect(stack.upstash.stats().requests).toBeLessThanOrEqual(Math.ceil(elapsed / DELTA_MS) + 1)
    expect(stack.upstash.stats().requests).toBeGreaterThanOrEqual(2)
    expect(cacheStatus(last!)['tiercache-memory']).toMatchObject({ hit: true, delta: String(DELTA_MS) })
    expect(Number(cacheStatus(last!)['tiercache-memory']!['view-age'])).toBeLessThan(DELTA_MS)
  })
})
