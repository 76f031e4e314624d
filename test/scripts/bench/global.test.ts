import { describe, expect, it } from 'vitest'
import { renderGlobal, type GlobalRow } from '../../../scripts/bench/scenarios/global.ts'

const latency = { mean: 10, p50: 9.66, p90: 16.94, p99: 20, max: 21 }
const purge = { available: true as const, trials: [], delayMs: { p50: 1234.4, p99: 1600, max: 1636 }, timedOut: 0, pollIntervalMs: 20, deadlineMs: 7500 }

describe('renderGlobal', () => {
  it('states the knobs of every row and the primary share only where there is a primary', () => {
    const rows: GlobalRow[] = [
      {
        database: 'single-region',
        lookups: 'single',
        knobs: { latencyMs: 80 },
        hit: { ...latency, requestsPerHit: 1, primaryPerHit: undefined, servedBy: { redis: 60 } },
        miss: { ...latency, requestsPerMiss: 2, primaryPerMiss: undefined },
        stampede: { originRequests: [1, 1], concurrency: 200 },
        purge,
      },
      {
        database: 'global',
        lookups: 'replica',
        knobs: { primaryLatencyMs: 80, replicaLatencyMs: 3, lagMs: 500 },
        hit: { ...latency, requestsPerHit: 1, primaryPerHit: 0, servedBy: { redis: 60 } },
        miss: { ...latency, requestsPerMiss: 3, primaryPerMiss: 2 },
        stampede: { originRequests: [1, 2], concurrency: 200 },
        purge: { ...purge, timedOut: 1 },
      },
    ]
    const text = renderGlobal(rows, 2000)
    expect(text).toContain('| single-region | Upstash +80 ms | 9.7 / 16.9 | 1.00 (—) | 9.7 / 16.9 | 2.00 (—) | 1, 1 | 1234 / 1636 |')
    expect(text).toContain(
      '| global, `UPSTASH_GLOBAL=true` | primary +80 ms, replica +3 ms, lag 500 ms | 9.7 / 16.9 | 1.00 (0.00) | 9.7 / 16.9 | 3.00 (2.00) | 1, 2 | 1234 / 1636 (1 timed out) |'
    )
    expect(text).toContain('δ = 2000 ms')
  })
})
