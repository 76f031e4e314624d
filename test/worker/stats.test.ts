/**
 * The stats route's issue-10 fields, in workerd against the local stack: the edge tier's counters, what the
 * isolate sent to Upstash (checked against what the Upstash-compatible server received), the purge-log view
 * age, the hot keys — counted on every hit without a single Upstash request on a memory hit — and the same
 * in Prometheus text.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheKeyOf, eventually, servedBy, startStack, TEST_INTERNAL_TOKEN, type Stack } from '../support/stack.ts'

interface Stats {
  counters: Record<string, number>
  edge: { available: boolean; hits: number; misses: number; stores: number; errors: number } | null
  upstash: { requests: number; commands: number; errors: number } | null
  coherence: { viewAgeMs: number | null; deltaMs: number; knownSeq: number; failing: boolean }
  hotKeys: Array<{ key: string; count: number; bytes: number; tier: string }>
  hotKeysScope: 'fleet' | 'isolate'
  warming: { running: boolean; runs: unknown[] }
}

describe('stats: edge, Upstash, coherence and hot keys', () => {
  let stack: Stack
  beforeAll(async () => {
    // A long δ keeps the purge-log read and the hot-keys merge (never more often than δ) out of the counts.
    stack = await startStack({ vars: { COHERENCE_DELTA_MS: '3600000' } })
  })
  afterAll(() => stack.close())
  const worker = () => stack.workers[0]!
  const stats = async () => (await worker().stats()) as unknown as Stats
  const get = async (path: string) => {
    const res = await worker().fetch(path)
    await res.arrayBuffer()
    return servedBy(res)
  }

  it('hot-key tracking counts memory hits and adds no Upstash request to them', async () => {
    const path = `/public/hk-${randomUUID().slice(0, 8)}`
    expect(await get(path)).toBe('origin')
    // The miss's fills (lookup + fill) have landed once Upstash has seen them and the edge holds the copy.
    await eventually(() => worker().edgeHolds(path), 10_000)
    await eventually(async () => {
      const before = stack.upstash.stats().requests
      await new Promise((r) => setTimeout(r, 100))
      return stack.upstash.stats().requests === before
    }, 10_000)
    stack.upstash.resetStats()
    for (let i = 0; i < 50; i++) expect(await get(path)).toBe('memory')
    expect(stack.upstash.stats().requests).toBe(0)
    // …and yet every one of them was counted; reading the stats costs no Upstash request either.
    const { hotKeys, hotKeysScope, counters } = await stats()
    expect(stack.upstash.stats().requests).toBe(0)
    expect(hotKeysScope).toBe('isolate')
    expect(hotKeys.find((k) => k.key === cacheKeyOf(path))).toMatchObject({ count: 51, tier: 'memory' })
    // The fleet's set, on request: this isolate's counts merged (one request), then read (one more).
    const res = await worker().fetch('/__tiercache/stats?hotKeys=fleet', { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } })
    const fleet = (await res.json()) as Stats
    expect(fleet.hotKeysScope).toBe('fleet')
    expect(fleet.hotKeys.find((k) => k.key === cacheKeyOf(path))).toMatchObject({ count: 51, tier: 'memory' })
    expect(stack.upstash.stats().requests).toBe(2)
    // The merge is counted by the worker, so the benchmark can tell it from a coherence read.
    expect(fleet.counters.hot_keys_merges).toBe((counters.hot_keys_merges ?? 0) + 1)
  })

  it('reports the edge tier, the Upstash traffic the server saw, and the purge-log view', async () => {
    const path = `/public/st-${randomUUID().slice(0, 8)}`
    const before = await stats()
    const serverBefore = stack.upstash.stats()
    expect(await get(path)).toBe('origin')
    await eventually(() => worker().edgeHolds(path), 10_000)
    await worker().clearMemory()
    expect(await get(path)).toBe('edge')
    await worker().clearMemory()
    await worker().clearEdge(path)
    expect(await get(path)).toBe('redis')
    // Wait for the background work (fills, promotions) to finish before comparing counts.
    await eventually(async () => {
      const seen = stack.upstash.stats().requests
      await new Promise((r) => setTimeout(r, 150))
      return stack.upstash.stats().requests === seen
    }, 10_000)
    const after = await stats()
    const server = stack.upstash.stats()
    expect(after.edge).toMatchObject({ available: true })
    // miss → edge miss + store; edge hit; Redis hit → edge miss + store (promotion).
    expect(after.edge!.hits - before.edge!.hits).toBe(1)
    expect(after.edge!.misses - before.edge!.misses).toBe(2)
    expect(after.edge!.stores - before.edge!.stores).toBe(2)
    expect(after.counters.edge_hits).toBe(after.edge!.hits)
    // What the isolate counted is exactly what the server received, requests and commands.
    expect(after.upstash!.requests - before.upstash!.requests).toBe(server.requests - serverBefore.requests)
    expect(after.upstash!.commands - before.upstash!.commands).toBe(server.commands - serverBefore.commands)
    // Lookup + fill for the miss, nothing for the edge hit, one lookup for the Redis hit.
    expect(server.requests - serverBefore.requests).toBe(3)
    expect(after.upstash!.errors).toBe(0)
    expect(after.counters.upstash_commands).toBe(after.upstash!.commands)
    expect(after.coherence).toMatchObject({ deltaMs: 3_600_000, failing: false })
    expect(after.coherence.viewAgeMs).toEqual(expect.any(Number))
    expect(after.warming).toEqual({ running: false, runs: [] })
  })

  it('gives the same counters and gauges in Prometheus text', async () => {
    const res = await worker().fetch('/__tiercache/stats?format=prometheus', { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } })
    const text = await res.text()
    for (const line of [
      /^tiercache_edge_hits_total \d+$/m,
      /^tiercache_edge_misses_total \d+$/m,
      /^tiercache_edge_stores_total \d+$/m,
      /^tiercache_upstash_requests_total [1-9]\d*$/m,
      /^tiercache_upstash_commands_total [1-9]\d*$/m,
      /^tiercache_purge_log_view_age_ms \d+$/m,
      /^tiercache_edge_available 1$/m,
      /^tiercache_warm_running 0$/m,
    ]) {
      expect(text).toMatch(line)
    }
  })
})

describe('stats without Redis', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ noRedis: true })
  })
  afterAll(() => stack.close())

  it("lists this isolate's hot keys, and no Upstash or view age", async () => {
    const w = stack.workers[0]!
    for (let i = 0; i < 3; i++) await (await w.fetch('/public/nr-1')).arrayBuffer()
    const s = (await w.stats()) as unknown as Stats
    expect(s.hotKeysScope).toBe('isolate')
    expect(s.hotKeys[0]).toMatchObject({ key: cacheKeyOf('/public/nr-1'), count: 3, tier: 'memory' })
    expect(s.hotKeys[0]!.bytes).toBeGreaterThan(0)
    expect(s.upstash).toBeNull()
    expect(s.coherence.viewAgeMs).toBeNull()
  })
})
