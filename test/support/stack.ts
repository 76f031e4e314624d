/**
 * The local stack for integration tests: the Upstash-compatible server in front of the real
 * redis-server, the demo origin, and one or more worker processes (workerd via Miniflare) running
 * the bundled worker. Every server listens on a free port; every Redis key gets a unique prefix so
 * suites can run in parallel against the shared redis-server.
 */
import type { Miniflare } from 'miniflare'
import { randomUUID } from 'node:crypto'
import { workerBundlePath } from '../../scripts/build-worker.ts'
import { startUpstashLocal, type UpstashLocal } from '../../scripts/upstash-local/server.ts'
import { startDemoOrigin, type DemoOrigin } from '../../scripts/demo-origin/server.ts'
import { signPurge } from '../../src/purge/signature.ts'
import { MiniflareWithCoverage } from './workerd-coverage.ts'
import { concatBytes } from '../../src/body-stream.ts'

export const TEST_TOKEN = 'test-token'

/** The stats route's JSON. */
export interface WorkerStats {
  counters: Record<string, number>
  memory: { entries: number; bytes: number; peakBytes: number; maxBytes: number } | null
}
export const TEST_PURGE_SECRET = 'test-purge-secret'
export const TEST_INTERNAL_TOKEN = 'test-internal-token'

/** One worker process (its own isolate, memory tier and edge cache). */
export interface WorkerProcess {
  mf: Miniflare
  /** The process's own HTTP address (for clients that need a real socket, like the purge CLI). */
  url: string
  fetch(path: string, init?: RequestInit): Promise<Response>
  /** This process's Workers Cache API storage. */
  caches(): ReturnType<Miniflare['getCaches']>
  /** Drops this process's memory tier. */
  clearMemory(): Promise<void>
  /** Deletes the edge copy of `path` (the whole URL's primary key). */
  clearEdge(path: string): Promise<boolean>
  /** Whether the edge holds a copy of `path` (fills land there in the background, after the answer). */
  edgeHolds(path: string): Promise<boolean>
  /** The worker's stats JSON. */
  stats(): Promise<WorkerStats>
  dispose(): Promise<void>
}

export interface Stack {
  upstash: UpstashLocal
  origin: DemoOrigin
  prefix: string
  workers: WorkerProcess[]
  /** Starts another worker process sharing the same Redis and origin. */
  startWorker(vars?: Record<string, string>): Promise<WorkerProcess>
  /** The bindings a worker of this stack gets, with `vars` on top (for workers started elsewhere). */
  bindings(vars?: Record<string, string>): Record<string, string>
  close(): Promise<void>
}

export interface StackOptions {
  /** Worker processes to start. @default 1 */
  workers?: number
  /** Extra worker vars (override the defaults). */
  vars?: Record<string, string>
  /** Start without the Redis tier configured. */
  noRedis?: boolean
  /**
   * The Upstash REST server workers use, instead of the stack's own in-process one (which still runs):
   * e.g. a child process in front of a redis-server the test may freeze (test/support/redis-trouble.ts).
   */
  redis?: { url: string; token: string }
  /** The bundled worker to run. @default the deployable worker (build/worker.js) */
  scriptPath?: string
}

/**
 * The worker's cache key for `path`: `http://tiercache.test` + path. Written out rather than computed with
 * src's `cacheKey`, so a bug there cannot hide from the tests that use it. Only for paths whose key is the
 * path itself: at most one query parameter, and not a tracking one (sorting and dropped parameters would
 * change the key).
 */
export const cacheKeyOf = (path: string): string => {
  if (!/^\/[A-Za-z0-9/._-]*(\?[a-z0-9_-]+=[A-Za-z0-9_-]*)?$/.test(path) || /[?&](utm_|fbclid=|gclid=)/.test(path)) {
    throw new Error(`cacheKeyOf: use a plain path with at most one query parameter, got ${path}`)
  }
  return `http://tiercache.test${path}`
}

/** The Cache API URL the worker files `path` under: its cache key as one encoded segment under `/__tiercache/edge/`. */
export const edgeUrl = (path: string): string => `http://tiercache.test/__tiercache/edge/${encodeURIComponent(cacheKeyOf(path))}`

/** Starts a worker process (workerd) running the bundle with `bindings`. */
export async function startWorkerProcess(bindings: Record<string, string>, scriptPath = workerBundlePath): Promise<WorkerProcess> {
  const mf = new MiniflareWithCoverage({
    // Never the default 8787: tests must not take the port `npm run dev` uses.
    host: '127.0.0.1',
    port: 0,
    modules: true,
    scriptPath,
    compatibilityDate: '2026-07-01',
    bindings,
  })
  const url = (await mf.ready).toString().replace(/\/$/, '')
  return {
    mf,
    url,
    fetch: (path, init) => mf.dispatchFetch(`http://tiercache.test${path}`, init as never) as unknown as Promise<Response>,
    caches: () => mf.getCaches(),
    async clearMemory() {
      const res = await mf.dispatchFetch('http://tiercache.test/__tiercache/memory/clear', {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` },
      })
      if (res.status !== 200) throw new Error(`memory clear failed: ${res.status}`)
      await res.arrayBuffer()
    },
    async clearEdge(path) {
      return (await mf.getCaches()).default.delete(edgeUrl(path))
    },
    async edgeHolds(path) {
      const found = await (await mf.getCaches()).default.match(edgeUrl(path))
      await found?.arrayBuffer()
      return found !== undefined
    },
    async stats() {
      const res = await mf.dispatchFetch('http://tiercache.test/__tiercache/stats', {
        headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` },
      })
      return (await res.json()) as WorkerStats
    },
    dispose: () => mf.dispose(),
  }
}

/** Starts upstash-local, the demo origin and `workers` worker processes. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const upstash = await startUpstashLocal({ port: 0, token: TEST_TOKEN })
  const origin = await startDemoOrigin({ port: 0 })
  const prefix = `t:${randomUUID().slice(0, 8)}:`
  const baseVars = (): Record<string, string> => ({
    ORIGIN_URL: origin.url,
    ...(options.noRedis
      ? {}
      : { UPSTASH_REDIS_REST_URL: options.redis?.url ?? upstash.url, UPSTASH_REDIS_REST_TOKEN: options.redis?.token ?? TEST_TOKEN }),
    REDIS_PREFIX: prefix,
    // Two cores run vitest, workerd and the local servers at once: a production-like 150 ms deadline
    // would turn scheduler stalls into spurious Redis timeouts. Failure tests set their own.
    REDIS_TIMEOUT_MS: '2000',
    PURGE_SECRET: TEST_PURGE_SECRET,
    INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    ...options.vars,
  })
  const workers: WorkerProcess[] = []
  const stack: Stack = {
    upstash,
    origin,
    prefix,
    workers,
    bindings: (vars = {}) => ({ ...baseVars(), ...vars }),
    async startWorker(vars = {}) {
      const worker = await startWorkerProcess({ ...baseVars(), ...vars }, options.scriptPath)
      workers.push(worker)
      return worker
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.dispose()))
      await Promise.allSettled([upstash.close(), origin.close()])
    },
  }
  for (let i = 0; i < (options.workers ?? 1); i++) await stack.startWorker()
  return stack
}

/** Parses `Cache-Status` into one record per cache, keyed by name (RFC 9211). */
export function cacheStatus(res: Response): Record<string, Record<string, string | true>> {
  const out: Record<string, Record<string, string | true>> = {}
  for (const member of (res.headers.get('cache-status') ?? '').split(/,(?=\s*tiercache)/)) {
    const [name, ...params] = member.split(';').map((p) => p.trim())
    if (!name) continue
    const record: Record<string, string | true> = {}
    for (const p of params) {
      const eq = p.indexOf('=')
      if (eq < 0) record[p] = true
      else record[p.slice(0, eq)] = p.slice(eq + 1).replace(/^"|"$/g, '')
    }
    out[name] = record
  }
  return out
}

/** Which tier answered, from `Cache-Status`: memory, edge, redis, or origin. */
export function servedBy(res: Response): string {
  const status = cacheStatus(res)
  for (const tier of ['memory', 'edge', 'redis']) if (status[`tiercache-${tier}`]?.hit) return tier
  return 'origin'
}

/** Waits for background fills (waitUntil) to land: polls `check` until true or the deadline. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Sends a signed purge webhook call to `worker` and returns the response. */
export async function sendPurge(
  worker: WorkerProcess,
  body: unknown,
  options: {
    secret?: string
    timestamp?: number
    rawBody?: string
    /** Rewrites the signature header (`t=…,v1=…`) before it is sent, e.g. to add `v1` values. */
    signatureHeader?: (header: string) => string
  } = {}
): Promise<Response> {
  const text = options.rawBody ?? JSON.stringify(body)
  const signature = await signPurge(options.secret ?? TEST_PURGE_SECRET, text, options.timestamp ?? Math.floor(Date.now() / 1000))
  return worker.fetch('/__tiercache/purge', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'tiercache-signature': options.signatureHeader?.(signature) ?? signature },
    body: text,
  })
}

/**
 * Runs one Redis command through the stack's Upstash-compatible server, for assertions on what the shared
 * tier holds. It counts as an Upstash request in `stack.upstash.stats()`.
 */
export async function redisCommand(stack: Stack, ...command: string[]): Promise<unknown> {
  const res = await fetch(stack.upstash.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(command),
  })
  const reply = (await res.json()) as { result?: unknown; error?: string }
  if (reply.error !== undefined) throw new Error(`redis ${command[0]} failed: ${reply.error}`)
  return reply.result
}

/** Whether the Redis tier holds an entry (or vary index) at `path`'s primary key. */
export async function redisHolds(stack: Stack, path: string): Promise<boolean> {
  return (await redisCommand(stack, 'EXISTS', `${stack.prefix}${cacheKeyOf(path)}`)) === 1
}

/**
 * Reads a streamed body until at least `bytes` bytes have arrived, without waiting for the rest. Resolves
 * with what arrived; the reader stays open for the caller.
 */
export async function readAtLeast(reader: ReadableStreamDefaultReader<Uint8Array>, bytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let size = 0
  while (size < bytes) {
    const { done, value } = await reader.read()
    if (done) break
    parts.push(value)
    size += value.byteLength
  }
  return concatBytes(parts)
}
