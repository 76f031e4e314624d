/**
 * @module Stampede: 200 concurrent requests for one cold key, split across two worker processes that share
 * Redis (so two isolates, two memory tiers, two edge caches), with a slow origin. Within a process the
 * single-flight table should coalesce; across processes the Redis fill lease should. Target (design.md
 * §8): one origin fetch. Bodies carry the origin's serial, so identical bodies prove one origin answer.
 */
import { servedBy, type BenchContext } from './throughput.ts'
import type { WorkerProcess } from '../workers.ts'

/** One repetition. */
export interface StampedeRun {
  path: string
  requests: number
  originRequests: number
  distinctBodies: number
  statuses: Record<string, number>
  servedBy: Record<string, number>
  /** From the first request sent to the last response. */
  elapsedMs: number
}

export interface StampedeResult {
  concurrency: number
  originLatencyMs: number
  runs: StampedeRun[]
  /** Origin requests per repetition. */
  originRequests: number[]
}

/** Runs `reps` stampedes of `concurrency` requests on fresh keys. */
export async function runStampede(
  ctx: BenchContext,
  options: { workers: [WorkerProcess, WorkerProcess]; concurrency: number; originLatencyMs: number; reps: number; keyPrefix: string }
): Promise<StampedeResult> {
  const { workers, concurrency, originLatencyMs, reps, keyPrefix } = options
  const runs: StampedeRun[] = []
  await ctx.origin.setLatency(originLatencyMs)
  try {
    for (let rep = 0; rep < reps; rep++) {
      const path = `/public/${keyPrefix}-${rep}`
      const before = await ctx.origin.stats()
      const started = performance.now()
      const answers = await Promise.all(
        Array.from({ length: concurrency }, async (_, i) => {
          const res = await workers[i % 2]!.get(path)
          return { status: res.status, body: res.text(), cacheStatus: res.header('cache-status') }
        })
      )
      const elapsedMs = performance.now() - started
      await new Promise((r) => setTimeout(r, 300))
      const after = await ctx.origin.stats()
      const statuses: Record<string, number> = {}
      const served: Record<string, number> = {}
      for (const a of answers) {
        statuses[a.status] = (statuses[a.status] ?? 0) + 1
        const tier = servedBy(a.cacheStatus)
        served[tier] = (served[tier] ?? 0) + 1
      }
      const run: StampedeRun = {
        path,
        requests: concurrency,
        originRequests: after.requests - before.requests,
        distinctBodies: new Set(answers.map((a) => a.body)).size,
        statuses,
        servedBy: served,
        elapsedMs,
      }
      runs.push(run)
      ctx.log(`stampede: rep ${rep + 1}/${reps} origin requests ${run.originRequests}, distinct bodies ${run.distinctBodies}, ${Math.round(elapsedMs)} ms`)
    }
  } finally {
    await ctx.origin.setLatency(0)
  }
  return { concurrency, originLatencyMs, runs, originRequests: runs.map((r) => r.originRequests) }
}
