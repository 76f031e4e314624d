import { describe, expect, it } from 'vitest'
import { cpuComparison, evaluateTargets, pairedRatio, type ZipfFigures } from '../../../scripts/bench/targets.ts'
import { scenario } from './fixtures.ts'

const verdictOf = (targets: ReturnType<typeof evaluateTargets>, start: string) => targets.find((t) => t.target.startsWith(start))!

describe('evaluateTargets', () => {
  it('judges the memory hit against 0.9 × the constant worker', () => {
    const met = evaluateTargets({ scenarios: [scenario('constant-worker', 'reference', 1000), scenario('memory-hit', 'tiercache', 900)], deltaMs: 2000 })
    expect(verdictOf(met, 'memory hit ≥').verdict).toBe('met')
    const notMet = evaluateTargets({ scenarios: [scenario('constant-worker', 'reference', 1000), scenario('memory-hit', 'tiercache', 899)], deltaMs: 2000 })
    expect(verdictOf(notMet, 'memory hit ≥').verdict).toBe('not met')
    expect(verdictOf(notMet, 'memory hit ≥').why).toBeTruthy()
  })

  it('reports the median of paired repetitions and the workerd CPU per request beside the throughput ratio', () => {
    const withRps = (id: string, group: 'reference' | 'tiercache', rps: number[], cpuUs: number) => {
      const base = scenario(id, group, rps[1]!)
      return { ...base, runs: rps.map((r, i) => ({ ...base.runs[i]!, load: { ...base.runs[i]!.load, rps: r } })), perRequest: { ...base.perRequest, cpuUs } }
    }
    const constant = withRps('constant-worker', 'reference', [1000, 2000, 1500], 80)
    const memory = withRps('memory-hit', 'tiercache', [900, 1000, 1200], 100)
    // Paired ratios 0.9, 0.5, 0.8: the median is 0.8.
    expect(pairedRatio(memory, constant)).toBeCloseTo(0.8)
    expect(cpuComparison(memory, constant)).toMatchObject({ ownUs: 20 })
    const verdict = verdictOf(evaluateTargets({ scenarios: [constant, memory], deltaMs: 2000 }), 'memory hit ≥')
    expect(verdict.measured).toContain('median of paired repetitions 0.80 ×')
    expect(verdict.measured).toContain('workerd CPU 100.0 vs 80.0 µs per request (0.80 × as cheap)')
    expect(verdict.why).toContain('about 20 µs of workerd CPU')
    // Without CPU figures (not Linux) the comparison is left out, not invented.
    expect(cpuComparison(scenario('a', 'tiercache', 1), scenario('b', 'reference', 1))).toBeUndefined()
  })

  it('allows coherence reads on hits but not one Upstash request per hit', () => {
    const base = scenario('memory-hit', 'tiercache', 1000)
    const reading = (n: number) => ({ ...base, runs: base.runs.map((r) => ({ ...r, upstashRequests: n })), totals: { ...base.totals, upstashRequests: 3 * n } })
    // At most ⌈5 s / 2 s⌉ = 3 reads per repetition.
    const t = evaluateTargets({ scenarios: [reading(3)], deltaMs: 2000 })
    expect(verdictOf(t, 'Upstash requests: 0 per memory hit').verdict).toBe('met')
    expect(verdictOf(t, 'coherence').verdict).toBe('met')
    // 9 reads over 3 × 5 s = 7.5 windows of 2 s.
    expect(verdictOf(t, 'coherence').measured).toContain('1.20 per δ')
    expect(verdictOf(evaluateTargets({ scenarios: [reading(4)], deltaMs: 2000 }), 'coherence').verdict).toBe('not met')
    const chatty = { ...base, runs: base.runs.map((r) => ({ ...r, upstashRequests: r.requests })) }
    expect(verdictOf(evaluateTargets({ scenarios: [chatty], deltaMs: 2000 }), 'Upstash requests: 0 per memory hit').verdict).toBe('not met')
  })

  it('takes hot-key merges (counted by the worker) out of the coherence reads and charges each one request', () => {
    const base = scenario('memory-hit', 'tiercache', 1000)
    const withMerges = (upstash: number, merges: number) => ({
      ...base,
      runs: base.runs.map((r) => ({ ...r, upstashRequests: upstash, workerCounters: { ...r.workerCounters, hot_keys_merges: merges } })),
    })
    // 3 reads + 1 merge per repetition: within both budgets, and the merges are named.
    const t = evaluateTargets({ scenarios: [withMerges(4, 1)], deltaMs: 2000 })
    expect(verdictOf(t, 'coherence').verdict).toBe('met')
    expect(verdictOf(t, 'coherence').measured).toContain('3 hot-key merges not counted as reads')
    expect(verdictOf(t, 'Upstash requests: 0 per memory hit').verdict).toBe('met')
    // Without the worker's count, the same 4 requests are 4 reads: over ⌈5 s / 2 s⌉ = 3.
    expect(verdictOf(evaluateTargets({ scenarios: [withMerges(4, 0)], deltaMs: 2000 }), 'coherence').verdict).toBe('not met')
    expect(verdictOf(evaluateTargets({ scenarios: [withMerges(4, 0)], deltaMs: 2000 }), 'Upstash requests: 0 per memory hit').verdict).toBe('not met')
  })

  it('charges a Redis hit one request and a request that fell through to the origin two', () => {
    const base = scenario('redis-hit', 'tiercache', 1000)
    const run = (upstash: number) => ({ ...base.runs[0]!, upstashRequests: upstash, workerCounters: { requests: 5000, redis_hits: 4995, origin_fetches: 5, redis_errors: 5 } })
    const within = { ...base, runs: [run(4995 + 10 + 3)] }
    const t = evaluateTargets({ scenarios: [within], deltaMs: 2000 })
    expect(verdictOf(t, 'Upstash requests: 1 per Redis hit').verdict).toBe('met')
    expect(verdictOf(t, 'Upstash requests: 1 per Redis hit').measured).toContain('5 Redis calls past their deadline')
    const over = { ...base, runs: [run(4995 + 10 + 4)] }
    expect(verdictOf(evaluateTargets({ scenarios: [over], deltaMs: 2000 }), 'Upstash requests: 1 per Redis hit').verdict).toBe('not met')
  })

  it('requires exactly one origin fetch in every stampede repetition', () => {
    const run = { path: '/p', requests: 200, originRequests: 1, distinctBodies: 1, statuses: { '200': 200 }, servedBy: {}, elapsedMs: 100 }
    const ok = evaluateTargets({ scenarios: [], stampede: { concurrency: 200, originLatencyMs: 80, runs: [run], originRequests: [1, 1, 1] }, deltaMs: 2000 })
    expect(verdictOf(ok, '200 concurrent').verdict).toBe('met')
    const bad = evaluateTargets({ scenarios: [], stampede: { concurrency: 200, originLatencyMs: 80, runs: [run], originRequests: [1, 2, 1] }, deltaMs: 2000 })
    expect(verdictOf(bad, '200 concurrent').verdict).toBe('not met')
  })

  it('judges the Zipf offload and latency and explains a shortfall', () => {
    const zipf: ZipfFigures = {
      keys: 10_000, s: 1, seeds: [1, 2, 3, 4], warmupRequests: 60_000, warmupOffload: 0.8, expectedColdShareAfterWarmup: 0.05,
      pacedRate: 240, meanLatencyMs: 5, saturatedMeanLatencyMs: 10, noCacheMeanLatencyMs: 82, latencyImprovement: 16.4, saturatedLatencyImprovement: 8.2,
      originLatencyMs: 80, upstashLatencyMs: 3,
    }
    const t = evaluateTargets({ scenarios: [scenario('zipf', 'tiercache', 3000, { offload: 0.96 })], zipf, deltaMs: 2000 })
    expect(verdictOf(t, 'Zipf workload against').verdict).toBe('met')
    expect(verdictOf(t, 'Zipf workload: mean latency').verdict).toBe('not met')
    expect(verdictOf(t, 'Zipf workload: mean latency').why).toContain('80 ms')
    // With the no-edge pass the explanation carries its figure; the verdict still judges the default run.
    const withNoEdge = evaluateTargets({
      scenarios: [scenario('zipf', 'tiercache', 3000, { offload: 0.96 })],
      zipf: { ...zipf, noEdgeMeanLatencyMs: 2.9, noEdgeLatencyImprovement: 28.3 },
      deltaMs: 2000,
    })
    expect(verdictOf(withNoEdge, 'Zipf workload: mean latency')).toMatchObject({ verdict: 'not met' })
    expect(verdictOf(withNoEdge, 'Zipf workload: mean latency').measured).toContain('edge tier off: 28.3×')
    expect(verdictOf(withNoEdge, 'Zipf workload: mean latency').why).toContain('the same pass gives 28.3× (2.90 ms) (locally the Cache API is')
  })

  it('reports a purge route that is not there as not measured, with the reason', () => {
    const t = evaluateTargets({ scenarios: [], purge: { available: false, reason: 'purge not available in this build' }, deltaMs: 2000 })
    expect(verdictOf(t, 'purge-to-invisible')).toMatchObject({ verdict: 'not measured', why: 'purge not available in this build' })
  })

  it('checks the memory budget on every worker', () => {
    const over = scenario('memory-hit', 'tiercache', 1, { memory: [{ worker: 'w', entries: 1, bytes: 10, peakBytes: 11, maxBytes: 10 }] })
    expect(verdictOf(evaluateTargets({ scenarios: [over], deltaMs: 2000 }), 'the memory tier').verdict).toBe('not met')
  })
})
