/**
 * @module The throughput scenarios' common shape: warm up, then repeat a fixed-length load, and around
 * each repetition read the counters of everything involved (Upstash-compatible server, demo origin,
 * tiercache's stats route) so every figure is a difference measured at the source, not an estimate.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from '../client.ts'
import { runLoad, runPacedLoad, type LoadResult } from '../load.ts'
import { counterDelta, median, sumCounters } from '../summary.ts'
import type { OriginControl, UpstashControl } from '../services.ts'
import type { WorkerProcess } from '../workers.ts'

/** Shared by every scenario of one run. */
export interface BenchContext {
  upstash: UpstashControl
  origin: OriginControl
  durationS: number
  reps: number
  warmupS: number
  log(message: string): void
}

/** Where a scenario's load goes and what it asks for. */
export interface ThroughputDefinition {
  id: string
  title: string
  group: 'reference' | 'baseline' | 'tiercache'
  /** One sentence on what is measured and how the tier under test is isolated. */
  description: string
  url: string
  /** The path for repetition `rep` (0-based; -1 = warm-up): fixed, or a generator called per request. */
  path: (rep: number) => string | (() => string)
  /** A representative path, shown in the report. */
  pathLabel: string
  connections: number
  /** Request headers (workers are addressed as `Host: tiercache.bench`). */
  headers?: Record<string, string>
  /** tiercache processes taking this load (their stats are read around each repetition). */
  workers?: WorkerProcess[]
  /** Worker processes whose workerd CPU time is read around each repetition. @default workers */
  cpu?: Array<Pick<WorkerProcess, 'cpuMicros'>>
  /** Replaces the default warm-up (a `warmupS` load) when given. */
  warmUp?: () => Promise<void>
  /** Runs before repetition `rep` (0-based), outside its measurement. */
  beforeRepetition?: (rep: number) => Promise<void>
  /** Seconds per repetition, when not the run's `durationS`. */
  durationS?: number
  /** Offered load in requests per second, open loop (paced); closed loop at full speed over `connections` when absent. */
  rate?: () => number
  /** Whether origin offload means anything here (not for the origin itself or the constant servers). @default true */
  offload?: boolean
}

/** Counters read around one repetition. */
export interface RunRecord {
  load: LoadResult
  upstashRequests: number
  upstashCommands: number
  originRequests: number
  /** Sum of the deltas of every worker's counters. */
  workerCounters: Record<string, number>
  /**
   * Requests the server side saw: tiercache's own `requests` counter when there is one (it also counts the
   * ≤ `connections` requests still in flight when the load generator stopped, whose Upstash and origin
   * requests were counted too), else the responses.
   */
  requests: number
  /** workerd CPU time per request (µs) of the worker processes under load, when readable. */
  cpuUsPerRequest?: number
}

/** Memory tier state of one worker process. */
export interface MemoryReport {
  worker: string
  entries: number
  bytes: number
  peakBytes: number
  maxBytes: number
}

/** A throughput scenario's result. */
export interface ThroughputResult {
  id: string
  title: string
  group: ThroughputDefinition['group']
  description: string
  url: string
  path: string
  connections: number
  durationS: number
  /** Offered load (req/s) when paced. */
  rate?: number
  runs: RunRecord[]
  /** Medians over repetitions. */
  median: { rps: number; p50: number; p90: number; p99: number; mean: number; max: number }
  /** Medians over repetitions of per-response ratios. */
  perRequest: { upstashRequests: number; upstashCommands: number; originRequests: number; cpuUs?: number }
  totals: { responses: number; requests: number; upstashRequests: number; upstashCommands: number; originRequests: number; non2xx: number; errors: number }
  /** 1 − origin requests / responses (median over repetitions). */
  offload: number
  /** Share of tiercache requests answered by each tier (from the worker counters, all repetitions). */
  hitRatio?: Record<string, number>
  /** Redis value bytes written vs body bytes written (worker counters, all repetitions). */
  redisBytes?: { redisBytesWritten: number; bodyBytesWritten: number; ratio: number; fills: number }
  memory?: MemoryReport[]
  /** One `Cache-Status` (and `Server-Timing`) seen after the load, to show the path taken. */
  sample?: { path: string; status: number; cacheStatus: string; serverTiming: string }
  notes: string[]
  extra?: Record<string, unknown>
}

const counters = async (workers: WorkerProcess[]) => Promise.all(workers.map(async (w) => (await w.stats()).counters))

/** Time for `waitUntil` fills to reach the servers before the counters are read. */
const SETTLE_MS = 300

/** Runs one throughput scenario: warm-up, then `ctx.reps` repetitions of `ctx.durationS` seconds. */
export async function runThroughput(ctx: BenchContext, def: ThroughputDefinition): Promise<ThroughputResult> {
  const [result] = await runInterleaved(ctx, [def])
  return result!
}

/**
 * Runs scenarios that are compared with each other with their repetitions interleaved (A1 B1 A2 B2 …)
 * after warming each up, so a slow drift of the machine (another process, a GC-heavy phase) lands on
 * both sides of a ratio instead of on one.
 */
export async function runInterleaved(ctx: BenchContext, defs: ThroughputDefinition[], reps = ctx.reps): Promise<ThroughputResult[]> {
  for (const def of defs) {
    ctx.log(`${def.id}: warm-up`)
    if (def.warmUp) await def.warmUp()
    else if (ctx.warmupS > 0) await load(def, -1, ctx.warmupS)
    await sleep(SETTLE_MS)
  }
  const runs: RunRecord[][] = defs.map(() => [])
  for (let rep = 0; rep < reps; rep++) {
    for (const [i, def] of defs.entries()) {
      await def.beforeRepetition?.(rep)
      runs[i]!.push(await runRepetition(ctx, def, rep, reps))
    }
  }
  return Promise.all(defs.map((def, i) => summarise(def, def.durationS ?? ctx.durationS, runs[i]!, def.workers ?? [])))
}

/** Closed loop (autocannon) at full speed, or open loop at `def.rate`. */
function load(def: ThroughputDefinition, rep: number, durationS: number): Promise<LoadResult> {
  const common = { url: def.url, path: def.path(rep), durationS, headers: def.headers ?? {} }
  return def.rate ? runPacedLoad({ ...common, rate: def.rate() }) : runLoad({ ...common, connections: def.connections })
}

async function runRepetition(ctx: BenchContext, def: ThroughputDefinition, rep: number, reps: number): Promise<RunRecord> {
  const workers = def.workers ?? []
  const cpuOf = def.cpu ?? workers
  const [upBefore, originBefore, workersBefore] = await Promise.all([ctx.upstash.stats(), ctx.origin.stats(), counters(workers)])
  // Read right around the load (not after the settle pause or the stats requests), so the CPU is the load's.
  const cpuBefore = cpuOf.map((w) => w.cpuMicros())
  const result = await load(def, rep, def.durationS ?? ctx.durationS)
  const cpuAfter = cpuOf.map((w) => w.cpuMicros())
  await sleep(SETTLE_MS)
  const [upAfter, originAfter, workersAfter] = await Promise.all([ctx.upstash.stats(), ctx.origin.stats(), counters(workers)])
  const cpuUs = cpuOf.length > 0 && [...cpuBefore, ...cpuAfter].every((v) => v !== undefined)
    ? cpuAfter.reduce((sum: number, after, i) => sum + after! - cpuBefore[i]!, 0)
    : undefined
  const workerCounters = sumCounters(workersAfter.map((after, i) => counterDelta(workersBefore[i] ?? {}, after)))
  const record: RunRecord = {
    load: result,
    requests: workers.length > 0 ? (workerCounters['requests'] ?? result.responses) : result.responses,
    upstashRequests: upAfter.requests - upBefore.requests,
    upstashCommands: upAfter.commands - upBefore.commands,
    originRequests: originAfter.requests - originBefore.requests,
    workerCounters,
  }
  if (cpuUs !== undefined) record.cpuUsPerRequest = cpuUs / Math.max(1, result.responses)
  ctx.log(
    `${def.id}: rep ${rep + 1}/${reps} ${Math.round(result.rps)} req/s, p50 ${result.latencyMs.p50.toFixed(2)} ms, ` +
      `p99 ${result.latencyMs.p99.toFixed(2)} ms, mean ${result.latencyMs.mean.toFixed(2)} ms, upstash ${record.upstashRequests}, origin ${record.originRequests}` +
      (record.cpuUsPerRequest === undefined ? '' : `, workerd ${record.cpuUsPerRequest.toFixed(1)} µs CPU/req`)
  )
  return record
}

async function summarise(def: ThroughputDefinition, durationS: number, runs: RunRecord[], workers: WorkerProcess[]): Promise<ThroughputResult> {
  const per = (pick: (r: RunRecord) => number) => median(runs.map((r) => pick(r) / Math.max(1, r.requests)))
  const total = (pick: (r: RunRecord) => number) => runs.reduce((sum, r) => sum + pick(r), 0)
  const non2xx = total((r) => Object.entries(r.load.statuses).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0))
  const result: ThroughputResult = {
    id: def.id,
    title: def.title,
    group: def.group,
    description: def.description,
    url: def.url,
    path: def.pathLabel,
    connections: def.connections,
    durationS,
    ...(def.rate ? { rate: def.rate() } : {}),
    runs,
    median: {
      rps: median(runs.map((r) => r.load.rps)),
      p50: median(runs.map((r) => r.load.latencyMs.p50)),
      p90: median(runs.map((r) => r.load.latencyMs.p90)),
      p99: median(runs.map((r) => r.load.latencyMs.p99)),
      mean: median(runs.map((r) => r.load.latencyMs.mean)),
      max: median(runs.map((r) => r.load.latencyMs.max)),
    },
    perRequest: {
      upstashRequests: per((r) => r.upstashRequests),
      upstashCommands: per((r) => r.upstashCommands),
      originRequests: per((r) => r.originRequests),
      ...(runs.every((r) => r.cpuUsPerRequest !== undefined) && runs.length > 0 ? { cpuUs: median(runs.map((r) => r.cpuUsPerRequest!)) } : {}),
    },
    totals: {
      responses: total((r) => r.load.responses),
      requests: total((r) => r.requests),
      upstashRequests: total((r) => r.upstashRequests),
      upstashCommands: total((r) => r.upstashCommands),
      originRequests: total((r) => r.originRequests),
      non2xx,
      errors: total((r) => r.load.errors),
    },
    offload: def.offload === false ? Number.NaN : median(runs.map((r) => 1 - r.originRequests / Math.max(1, r.requests))),
    notes: [],
  }
  if (non2xx > 0) result.notes.push(`${non2xx} responses were not 2xx`)
  if (result.totals.errors > 0) result.notes.push(`${result.totals.errors} connection errors/timeouts`)
  if (workers.length > 0) {
    const c = sumCounters(runs.map((r) => r.workerCounters))
    const requests = c['requests'] ?? 0
    const share = (name: string) => (requests > 0 ? (c[name] ?? 0) / requests : Number.NaN)
    result.hitRatio = {
      memory: share('memory_hits'),
      collapsed: share('collapsed'),
      edge: share('edge_hits'),
      redis: share('redis_hits'),
      stale: share('stale_served'),
      origin: share('origin_fetches'),
    }
    const redisBytesWritten = c['redis_bytes_written'] ?? 0
    const bodyBytesWritten = c['body_bytes_written'] ?? 0
    if (redisBytesWritten > 0 || bodyBytesWritten > 0) {
      result.redisBytes = {
        redisBytesWritten,
        bodyBytesWritten,
        ratio: bodyBytesWritten > 0 ? redisBytesWritten / bodyBytesWritten : Number.NaN,
        fills: c['origin_fetches'] ?? 0,
      }
    }
    for (const name of ['redis_errors', 'edge_errors', 'memory_errors', 'origin_errors']) {
      if ((c[name] ?? 0) > 0) result.notes.push(`worker counter ${name} = ${c[name]}`)
    }
    result.memory = await memoryReports(workers)
    const samplePath = def.path(0)
    const path = typeof samplePath === 'function' ? samplePath() : samplePath
    const res = await request(def.url, path, { headers: def.headers ?? {} })
    result.sample = { path, status: res.status, cacheStatus: res.header('cache-status'), serverTiming: res.header('server-timing') }
  }
  return result
}

/** Memory tier state of each worker (peak is over the worker's whole life). */
export async function memoryReports(workers: WorkerProcess[]): Promise<MemoryReport[]> {
  return Promise.all(
    workers.map(async (w) => {
      const { memory } = await w.stats()
      return { worker: w.name, entries: memory?.entries ?? 0, bytes: memory?.bytes ?? 0, peakBytes: memory?.peakBytes ?? 0, maxBytes: memory?.maxBytes ?? 0 }
    })
  )
}

/** Which tier answered, from `Cache-Status` (RFC 9211): memory, edge, redis, or origin. */
export function servedBy(cacheStatus: string): 'memory' | 'edge' | 'redis' | 'origin' {
  const members = cacheStatus.split(/,(?=\s*tiercache)/).map((m) => m.split(';').map((p) => p.trim()))
  for (const tier of ['memory', 'edge', 'redis'] as const) {
    if (members.some(([name, ...params]) => name === `tiercache-${tier}` && params.includes('hit'))) return tier
  }
  return 'origin'
}
