import { describe, expect, it } from 'vitest'
import { LATENCY_BOUNDS_MS, LatencyHistograms, MAX_METRICS } from '../../src/observe/latency.ts'
import { LookupStatus } from '../../src/observe/lookup-status.ts'
import { Stats } from '../../src/observe/stats.ts'
import { createEngine } from '../../src/engine.ts'
import { resolveOptions } from '../../src/options.ts'
import { DataCache } from '../../src/data/cache.ts'

describe('latency histograms', () => {
  it('counts each observation in the first bucket whose bound it does not exceed (bounds are inclusive)', () => {
    const h = new LatencyHistograms()
    for (const ms of [0, 0.5, 0.6, 1, 4, 5, 5.01, 20_000]) h.record('redis', ms)
    const { redis } = h.snapshot()
    expect(redis!.count).toBe(8)
    expect(redis!.buckets['0.5']).toBe(2)
    expect(redis!.buckets['1']).toBe(4)
    expect(redis!.buckets['5']).toBe(6)
    expect(redis!.buckets['10']).toBe(7)
    expect(redis!.buckets[String(LATENCY_BOUNDS_MS.at(-1))]).toBe(7)
    expect(redis!.buckets['+Inf']).toBe(8)
    expect(redis!.maxMs).toBe(20_000)
    expect(redis!.sumMs).toBeCloseTo(20_016.11, 2)
  })

  it('estimates percentiles within the bucket, never above the largest value seen', () => {
    const h = new LatencyHistograms()
    // 100 observations spread evenly over (10, 20] ms: the estimate interpolates within that bucket.
    for (let i = 1; i <= 100; i++) h.record('origin', 10 + i / 10)
    const origin = h.snapshot().origin!
    expect(origin.p50Ms).toBe(15)
    expect(origin.p95Ms).toBe(19.5)
    expect(origin.p99Ms).toBe(19.9)
    const one = new LatencyHistograms()
    one.record('edge', 3)
    // A lone 3 ms sits in (2, 5]: interpolation alone would say 5, the maximum caps it at 3.
    expect(one.snapshot().edge!.p99Ms).toBe(3)
    // Past the last bound the bucket reaches up to the largest value: rank 1.98 of 2 → 98 % of (10 s, 60 s].
    one.record('edge', 60_000)
    expect(one.snapshot().edge!.p99Ms).toBe(59_000)
    // The median now lands at the top of 3's bucket: an estimate is as fine as its buckets.
    expect(one.snapshot().edge!.p50Ms).toBe(5)
  })

  it('ignores impossible durations and bounds the number of metrics', () => {
    const h = new LatencyHistograms()
    h.record('x', -1)
    h.record('x', Number.NaN)
    h.record('x', Number.POSITIVE_INFINITY)
    expect(h.snapshot()).toEqual({})
    for (let i = 0; i < MAX_METRICS + 5; i++) h.record(`m${i}`, 1)
    expect(Object.keys(h.snapshot())).toHaveLength(MAX_METRICS)
  })

  it('writes a Prometheus histogram in seconds with cumulative buckets', () => {
    const stats = new Stats(0)
    stats.record('requests')
    stats.latency.record('redis', 3)
    stats.latency.record('redis', 700)
    const text = stats.prometheus()
    expect(text).toContain('# TYPE tiercache_lookup_duration_seconds histogram')
    expect(text).toContain('tiercache_lookup_duration_seconds_bucket{metric="redis",le="0.002"} 0')
    expect(text).toContain('tiercache_lookup_duration_seconds_bucket{metric="redis",le="0.005"} 1')
    expect(text).toContain('tiercache_lookup_duration_seconds_bucket{metric="redis",le="1"} 2')
    expect(text).toContain('tiercache_lookup_duration_seconds_bucket{metric="redis",le="+Inf"} 2')
    expect(text).toContain('tiercache_lookup_duration_seconds_sum{metric="redis"} 0.703')
    expect(text).toContain('tiercache_lookup_duration_seconds_count{metric="redis"} 2')
    expect(text).toContain('tiercache_requests_total 1')
  })

  it('LookupStatus records each Server-Timing metric once per request, exactly as the header reports it', () => {
    const h = new LatencyHistograms()
    const status = new LookupStatus(h)
    status.time('edge', 1.25)
    status.time('origin', 42)
    status.time('origin', 8)
    expect(status.serverTiming()).toBe('edge;dur=1.3, origin;dur=50.0')
    // The header may be built again (a 304 after a 200 path): the request is still counted once.
    status.serverTiming()
    const snapshot = h.snapshot()
    expect(snapshot.edge!.count).toBe(1)
    expect(snapshot.edge!.sumMs).toBe(1.25)
    expect(snapshot.origin!.count).toBe(1)
    expect(snapshot.origin!.sumMs).toBe(50)
    expect(new LookupStatus().serverTiming()).toBe('')
  })

  it('data API calls land in the histograms under their Server-Timing name, tiercache-data, one per call', async () => {
    const engine = createEngine(resolveOptions({ edge: false, memory: { maxBytes: 1 << 20, maxEntryBytes: 1 << 16 } }))
    const timings: string[] = []
    const cache = new DataCache({ engine, background: { waitUntil: () => {} }, timing: (name) => void timings.push(name) })
    await cache.getOrSet('k', async () => 'v', { ttl: 60 })
    await cache.getOrSet('k', async () => 'v', { ttl: 60 })
    await cache.get('other')
    expect(timings).toEqual(['tiercache-data', 'tiercache-data', 'tiercache-data'])
    expect(engine.stats.latency.snapshot()['tiercache-data']!.count).toBe(3)
  })
})
