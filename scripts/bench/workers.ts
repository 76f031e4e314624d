/**
 * @module Worker processes for the benchmark. Each worker is a Miniflare instance, with its own workerd
 * process, controlled from a child Node process (scripts/bench/service.ts `worker`), so neither Miniflare's
 * Node side nor its exit hooks live in the process that generates load. A worker is reachable over real
 * local HTTP (keep-alive), never through `dispatchFetch`, on two sockets:
 *
 * - `url`: a socket bound straight to the worker (Miniflare's `unsafeDirectSockets`), so a request costs
 *   what the worker and workerd cost. The scenarios measure through this one.
 * - `entryUrl`: Miniflare's usual `host`/`port` socket, which first runs Miniflare's own entry worker (the
 *   path `wrangler dev` serves through). On this machine that entry worker costs more time per request
 *   than a whole tiercache memory hit, which would hide the cache's own cost, so it is measured
 *   separately as the host's overhead.
 *
 * Bundles are built with esbuild the way scripts/build-worker.ts builds the shipped worker, into
 * `build/bench/`, so a concurrent `npm test` (which writes `build/worker.js`) is never disturbed.
 */
import path from 'node:path'
import type { Readable } from 'node:stream'
import { Miniflare } from 'miniflare'
import { buildWorker, bundleDir } from '../build-worker.ts'
import { request, type SimpleResponse } from './client.ts'
import { startService } from './services.ts'
import { cpuMicros, findDescendant } from './process-cpu.ts'

/** Bundled scripts, by name. */
export interface Bundles {
  tiercache: string
  constant: string
  honoCache: string
  data: string
}

/** Same date the integration tests use. */
export const COMPATIBILITY_DATE = '2026-07-01'

/** Builds the worker bundles the benchmark runs. */
export async function buildBundles(): Promise<Bundles> {
  const out = (name: string) => path.join(bundleDir, 'bench', `${name}.js`)
  const [tiercache, constant, honoCache, data] = await Promise.all([
    buildWorker('src/worker.ts', out('tiercache')),
    buildWorker('scripts/bench/baselines/constant-worker.ts', out('constant')),
    buildWorker('scripts/bench/baselines/hono-cache-worker.ts', out('hono-cache')),
    buildWorker('scripts/bench/baselines/data-worker.ts', out('data')),
  ])
  return { tiercache, constant, honoCache, data }
}

/** What the worker service needs: which script, under which name, with which vars. */
export interface MiniflareOptions {
  name: string
  scriptPath: string
  bindings: Record<string, string>
}

/**
 * Runs inside the worker service (child process): starts Miniflare with both sockets and returns their
 * URLs. Worker console output goes to this process's stderr, which the parent writes to a log file.
 */
export async function startMiniflare(options: MiniflareOptions): Promise<{ url: string; entryUrl: string; startupMs: string; close(): Promise<void> }> {
  // From here to `ready`: workerd starts, compiles and evaluates the bundle (the start-up figure, startup.ts).
  const started = performance.now()
  const mf = new Miniflare({
    name: options.name,
    modules: true,
    scriptPath: options.scriptPath,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: options.bindings,
    host: '127.0.0.1',
    port: 0,
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.pipe(process.stderr, { end: false })
      stderr.pipe(process.stderr, { end: false })
    },
  })
  try {
    const entry = await mf.ready
    const startupMs = (performance.now() - started).toFixed(1)
    const direct = await mf.unsafeGetDirectURL(options.name)
    return { url: direct.origin, entryUrl: entry.origin, startupMs, close: () => mf.dispose() }
  } catch (error) {
    await mf.dispose()
    throw error
  }
}

/** The tiercache stats route's JSON (src/internal.ts). */
export interface WorkerStats {
  counters: Record<string, number>
  memory: { entries: number; bytes: number; peakBytes: number; maxBytes: number } | null
}

/** One running worker process. */
export interface WorkerProcess {
  name: string
  /** Base URL of the socket bound straight to the worker, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** Base URL of Miniflare's entry socket (`host`/`port`: through Miniflare's entry worker). */
  entryUrl: string
  /** Milliseconds from Miniflare's start to `ready` (workerd up, the bundle compiled and evaluated). */
  startupMs: number
  bindings: Record<string, string>
  /** One request to this worker (as `Host: tiercache.bench`). */
  get(path: string, init?: Parameters<typeof request>[2]): Promise<SimpleResponse>
  /** tiercache only: the stats route. */
  stats(): Promise<WorkerStats>
  /** tiercache only: drops the memory tier. */
  clearMemory(): Promise<void>
  /** CPU time (user + system, µs) the worker's workerd process has used so far; undefined off Linux. */
  cpuMicros(): number | undefined
  stop(): Promise<void>
}

/** Starts `scriptPath` in its own workerd process; its console output goes to `logFile`. */
export async function startWorker(options: MiniflareOptions & { logFile: string; internalToken?: string }): Promise<WorkerProcess> {
  const { name, scriptPath, bindings, logFile, internalToken } = options
  const service = await startService('worker', { name, scriptPath, bindings }, logFile, `worker ${name}`)
  const base = service.url
  let workerd: number | undefined
  const auth = { authorization: `Bearer ${internalToken ?? ''}` }
  return {
    name,
    url: base,
    entryUrl: service.ready['entryUrl'] ?? base,
    startupMs: Number(service.ready['startupMs'] ?? Number.NaN),
    bindings,
    get: (p, init) => request(base, p, init),
    async stats() {
      const res = await request(base, '/__tiercache/stats', { headers: auth })
      if (res.status !== 200) throw new Error(`${name}: stats → ${res.status} ${res.text().slice(0, 300)}`)
      return JSON.parse(res.text()) as WorkerStats
    },
    async clearMemory() {
      const res = await request(base, '/__tiercache/memory/clear', { method: 'POST', headers: auth })
      if (res.status !== 200) throw new Error(`${name}: memory clear → ${res.status}`)
    },
    cpuMicros() {
      workerd ??= findDescendant(service.pid, 'workerd')
      return workerd === undefined ? undefined : cpuMicros(workerd)
    },
    stop: service.stop,
  }
}
