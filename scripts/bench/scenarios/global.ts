/**
 * @module Upstash Global beside single-region (issue 12): the same worker against a single-region database
 * (near at +3 ms, far at +80 ms) and against the local global database (scripts/upstash-local/global.ts:
 * primary +80 ms, replica +3 ms, replication lag 0 / 500 / 3,000 ms), with lookups on the primary (the
 * default: every lookup is a script) and with `UPSTASH_GLOBAL=true` (hits read the replica first).
 *
 * Per configuration: Redis-hit and miss latency (sequential requests, so each figure is one request's
 * path and not queueing), Upstash requests per hit and per miss and how many of them the primary served,
 * a 200-request stampede across two worker processes (origin fetches), and purge-to-invisible in the
 * second process. Hit and miss workers run with a 10-minute δ so no purge-log read falls in the counted
 * window; the stampede and purge workers use the default δ.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { summariseLatencies, type LatencySummary } from '../summary.ts'
import { runPurge, type PurgeResult } from './purge.ts'
import { runStampede } from './stampede.ts'
import { servedBy, type BenchContext } from './throughput.ts'
import type { UpstashControl, UpstashStats } from '../services.ts'
import type { WorkerProcess } from '../workers.ts'

/** The far primary and the near replica (and the single-region database at either distance). */
export const PRIMARY_MS = 80
export const REPLICA_MS = 3
export const LAGS_MS = [0, 500, 3000] as const

/** One configuration's figures. */
export interface GlobalRow {
  database: 'single-region' | 'global'
  /** Where lookups go: `primary` (default), `replica` (`UPSTASH_GLOBAL=true`); for single-region the database. */
  lookups: 'primary' | 'replica' | 'single'
  /** The knobs, stated: single-region latency, or primary / replica latency and lag. */
  knobs: { latencyMs: number } | { primaryLatencyMs: number; replicaLatencyMs: number; lagMs: number }
  hit: LatencySummary & { requestsPerHit: number; primaryPerHit: number | undefined; servedBy: Record<string, number> }
  miss: LatencySummary & { requestsPerMiss: number; primaryPerMiss: number | undefined }
  stampede: { originRequests: number[]; concurrency: number }
  purge: PurgeResult
}

export interface GlobalDeps {
  ctx: BenchContext
  single: UpstashControl
  global: UpstashControl
  runId: string
  stampedeConcurrency: number
  purgeTrials: number
  deltaMs: number
  purgeSecret: string
  /** Starts a tiercache worker with these vars over the run's defaults. */
  startTiercache(name: string, extra: Record<string, string>): Promise<WorkerProcess>
}

const HIT_KEYS = 20
const HIT_REQUESTS = 60
const MISS_REQUESTS = 30
const resource = (id: string): string => `/etag/${id}?max-age=3600`

async function timed(worker: WorkerProcess, path: string): Promise<{ ms: number; tier: string }> {
  const started = performance.now()
  const res = await worker.get(path)
  const ms = performance.now() - started
  if (res.status !== 200) throw new Error(`${worker.name} GET ${path}: ${res.status} ${res.text().slice(0, 200)}`)
  return { ms, tier: servedBy(res.header('cache-status')) }
}

const delta = (before: UpstashStats, after: UpstashStats) => ({
  requests: after.requests - before.requests,
  primary: after.byNode === undefined ? undefined : (after.byNode['primary'] ?? 0) - (before.byNode?.['primary'] ?? 0),
})

/** Runs every configuration in turn; each gets its own Redis prefix and fresh worker processes. */
export async function runGlobal(deps: GlobalDeps): Promise<GlobalRow[]> {
  const { ctx, single, global, runId } = deps
  const configs: Array<Pick<GlobalRow, 'database' | 'lookups' | 'knobs'>> = [
    { database: 'single-region', lookups: 'single', knobs: { latencyMs: REPLICA_MS } },
    { database: 'single-region', lookups: 'single', knobs: { latencyMs: PRIMARY_MS } },
    ...LAGS_MS.flatMap((lagMs) =>
      (['primary', 'replica'] as const).map((lookups) => ({
        database: 'global' as const,
        lookups,
        knobs: { primaryLatencyMs: PRIMARY_MS, replicaLatencyMs: REPLICA_MS, lagMs },
      }))
    ),
  ]
  const rows: GlobalRow[] = []
  for (const [i, config] of configs.entries()) {
    const control = config.database === 'global' ? global : single
    const lagMs = 'lagMs' in config.knobs ? config.knobs.lagMs : 0
    if ('latencyMs' in config.knobs) await single.setLatency(config.knobs.latencyMs)
    else await global.setGlobal(config.knobs)
    const label = `global ${i + 1}/${configs.length} ${config.database} lookups=${config.lookups} ${JSON.stringify(config.knobs)}`
    const vars = {
      UPSTASH_REDIS_REST_URL: control.url,
      REDIS_PREFIX: `bench:${runId}:g${i}:`,
      ...(config.lookups === 'replica' ? { UPSTASH_GLOBAL: 'true' } : {}),
    }
    const workers: WorkerProcess[] = []
    try {
      // Hits and misses: no memory, no edge, a long δ (no purge-log read inside the counted window).
      const solo = await deps.startTiercache(`g${i}-solo`, { ...vars, MEMORY_MAX_BYTES: '64', EDGE_CACHE: 'off', COHERENCE_DELTA_MS: '600000' })
      workers.push(solo)
      const hitPaths = Array.from({ length: HIT_KEYS }, (_, k) => resource(`g${i}-hit-${k}`))
      for (const p of hitPaths) await solo.get(p)
      // The fills must have reached the replica before hits are measured.
      await sleep(lagMs + 500)
      const hitBefore = await control.stats()
      const hitTimes: number[] = []
      const served: Record<string, number> = {}
      for (let n = 0; n < HIT_REQUESTS; n++) {
        const { ms, tier } = await timed(solo, hitPaths[n % HIT_KEYS]!)
        hitTimes.push(ms)
        served[tier] = (served[tier] ?? 0) + 1
      }
      const hitCount = delta(hitBefore, await control.stats())

      const missBefore = await control.stats()
      const missTimes: number[] = []
      for (let n = 0; n < MISS_REQUESTS; n++) missTimes.push((await timed(solo, resource(`g${i}-miss-${n}`))).ms)
      await sleep(500 + PRIMARY_MS * 2)
      const missCount = delta(missBefore, await control.stats())
      ctx.log(`${label}: hit p50 ${summariseLatencies(hitTimes).p50.toFixed(1)} ms, miss p50 ${summariseLatencies(missTimes).p50.toFixed(1)} ms`)

      // Stampede and purge across two processes with the default δ and every tier on.
      const a = await deps.startTiercache(`g${i}-a`, vars)
      workers.push(a)
      const b = await deps.startTiercache(`g${i}-b`, vars)
      workers.push(b)
      const stampede = await runStampede(ctx, { workers: [a, b], concurrency: deps.stampedeConcurrency, originLatencyMs: PRIMARY_MS, reps: 2, keyPrefix: `g${i}-stampede-${runId}` })
      const purge = await runPurge(ctx, {
        workers: [a, b],
        secret: deps.purgeSecret,
        trials: deps.purgeTrials,
        deadlineMs: deps.deltaMs + lagMs + 5000,
        keyPrefix: `g${i}-${runId}`,
      })
      rows.push({
        ...config,
        hit: {
          ...summariseLatencies(hitTimes),
          requestsPerHit: hitCount.requests / HIT_REQUESTS,
          primaryPerHit: hitCount.primary === undefined ? undefined : hitCount.primary / HIT_REQUESTS,
          servedBy: served,
        },
        miss: {
          ...summariseLatencies(missTimes),
          requestsPerMiss: missCount.requests / MISS_REQUESTS,
          primaryPerMiss: missCount.primary === undefined ? undefined : missCount.primary / MISS_REQUESTS,
        },
        stampede: { originRequests: stampede.originRequests, concurrency: deps.stampedeConcurrency },
        purge,
      })
    } finally {
      for (const w of workers) await w.stop()
    }
  }
  await single.setLatency(0)
  await global.setGlobal({ primaryLatencyMs: 0, replicaLatencyMs: 0, lagMs: 0 })
  return rows
}

/** The markdown section for the report. */
export function renderGlobal(rows: readonly GlobalRow[], deltaMs: number): string {
  const knobs = (r: GlobalRow) =>
    'latencyMs' in r.knobs ? `Upstash +${r.knobs.latencyMs} ms` : `primary +${r.knobs.primaryLatencyMs} ms, replica +${r.knobs.replicaLatencyMs} ms, lag ${r.knobs.lagMs} ms`
  const where = (r: GlobalRow) => (r.lookups === 'single' ? 'single-region' : r.lookups === 'primary' ? 'global, lookups on primary (default)' : 'global, `UPSTASH_GLOBAL=true`')
  const n = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits))
  const purge = (p: PurgeResult) => (p.available ? `${n(p.delayMs.p50, 0)} / ${n(p.delayMs.max, 0)}${p.timedOut > 0 ? ` (${p.timedOut} timed out)` : ''}` : 'n/a')
  const lines = [
    '## Upstash Global beside single-region',
    '',
    `Local model (scripts/upstash-local/global.ts): a primary and a read replica; reads served by the replica, writes and EVAL by the primary; ` +
      `replication lag injected on the replication link. Hit and miss: sequential requests, memory and edge off (every request reaches Redis), ` +
      `origin without added delay; stampede: ${rows[0]?.stampede.concurrency ?? 200} cold requests across two processes, origin +${PRIMARY_MS} ms; ` +
      `purge: delay until the second process stops serving the purged body (δ = ${deltaMs} ms).`,
    '',
    '| database | knobs | Redis hit p50 / p90 ms | Upstash req. per hit (primary) | miss p50 / p90 ms | Upstash req. per miss (primary) | stampede origin fetches | purge-to-invisible p50 / max ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${where(r)} | ${knobs(r)} | ${n(r.hit.p50)} / ${n(r.hit.p90)} | ${n(r.hit.requestsPerHit, 2)} (${n(r.hit.primaryPerHit, 2)}) | ` +
        `${n(r.miss.p50)} / ${n(r.miss.p90)} | ${n(r.miss.requestsPerMiss, 2)} (${n(r.miss.primaryPerMiss, 2)}) | ${r.stampede.originRequests.join(', ')} | ${purge(r.purge)} |`
    ),
    '',
  ]
  return lines.join('\n')
}
