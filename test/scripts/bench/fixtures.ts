/** Hand-made benchmark results for the report and target tests (no servers, no timing). */
import type { ThroughputResult } from '../../../scripts/bench/scenarios/throughput.ts'
import type { BenchResults } from '../../../scripts/bench/targets.ts'

export function scenario(id: string, group: ThroughputResult['group'], rps: number, extra: Partial<ThroughputResult> = {}): ThroughputResult {
  const responses = Math.round(rps * 5)
  const run = {
    load: { responses, elapsedS: 5, rps, latencyMs: { mean: 2, p50: 1.5, p90: 3, p99: 9, max: 20 }, statuses: { '200': responses }, errors: 0, timeouts: 0 },
    upstashRequests: 0,
    upstashCommands: 0,
    originRequests: 0,
    workerCounters: { requests: responses },
    requests: responses,
  }
  return {
    id,
    title: id,
    group,
    description: `${id} scenario`,
    url: 'http://127.0.0.1:1',
    path: '/public/x',
    connections: 10,
    durationS: 5,
    runs: [run, run, run],
    median: { rps, p50: 1.5, p90: 3, p99: 9, mean: 2, max: 20 },
    perRequest: { upstashRequests: 0, upstashCommands: 0, originRequests: 0 },
    totals: { responses: responses * 3, requests: responses * 3, upstashRequests: 0, upstashCommands: 0, originRequests: 0, non2xx: 0, errors: 0 },
    offload: 1,
    notes: [],
    ...extra,
  }
}

export function results(scenarios: ThroughputResult[]): BenchResults {
  return {
    environment: {
      command: 'npm run bench',
      argv: [],
      startedAt: '2026-01-01T00:00:00.000Z',
      versions: { node: '22.0.0', workerd: '1.2026', miniflare: '4', wrangler: '4', hono: '4', '@upstash/redis': '1', autocannon: '9', esbuild: '0', 'redis-server': '7' },
      machine: { nproc: 2, cpuModel: 'test cpu', memoryGiB: 4, os: 'Linux x64', kernel: '6' },
      git: { commit: '0123456789abcdef', dirty: false, changedFiles: [] },
    },
    config: { reps: 3, durationS: 5 },
    host: 'test host',
    scenarios,
    targets: [],
    runtimeS: 300,
    notes: [],
  }
}
