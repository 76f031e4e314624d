/**
 * @module tiercache under test, the way the integration tests run it (test/support/stack.ts): the bundled
 * worker (scripts/build-worker.ts) in workerd through Miniflare, every tier on — memory, edge (Miniflare's
 * Cache API) and Redis through upstash-local in front of the shared redis-server, under a unique key
 * prefix that is deleted at the end.
 *
 * The cache-tests client talks to the worker over a real socket. It is workerd's own socket for the
 * worker (Miniflare's `unsafeDirectSockets`), not Miniflare's entry socket: the entry socket first runs
 * Miniflare's own dev-only entry worker, which is not part of what a deployed worker sees.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { stop as stopEsbuild } from 'esbuild'
import { Miniflare } from 'miniflare'
import { buildWorker } from '../build-worker.ts'
import { ensureRedis } from '../lib/redis-process.ts'
import { startUpstashLocal } from '../upstash-local/server.ts'
import { onCleanup, reclaimSignals } from '../lib/lifecycle.ts'

/** The compatibility date the integration tests and the benchmark use. */
const COMPATIBILITY_DATE = '2026-07-01'

/** The worker's name in Miniflare (its direct socket is looked up by it). */
const WORKER_NAME = 'tiercache'

/** A running tiercache with its Redis tier. */
export interface TiercacheStack {
  /** The worker's base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string
  /** Redis key prefix of this run. */
  redisPrefix: string
  /** Bearer token of the worker's internal routes (stats). */
  internalToken: string
}

export interface TiercacheStackOptions {
  /** `ORIGIN_URL`: the cache-tests origin. */
  originUrl: string
  /** Where the worker's console output goes: a file path, or `'inherit'` to print it. */
  output: string | 'inherit'
  /** Called with progress lines. */
  log: (line: string) => void
}

/** Builds the worker, makes sure Redis answers, and starts upstash-local and the worker. */
export async function startTiercacheStack(options: TiercacheStackOptions): Promise<TiercacheStack> {
  const redis = await ensureRedis()
  if (redis.started) onCleanup('redis-server', () => redis.stop())
  options.log(`redis ${redis.host}:${redis.port}${redis.started ? ' (started for this run)' : ' (already running)'}`)

  const upstashToken = randomBytes(16).toString('hex')
  const upstash = await startUpstashLocal({ port: 0, token: upstashToken, redisHost: redis.host, redisPort: redis.port })
  onCleanup('upstash-local', () => upstash.close())
  const redisPrefix = `conformance:${randomBytes(4).toString('hex')}:`
  // Registered after upstash-local, so it runs before upstash-local closes (cleanup runs newest first).
  onCleanup(`redis keys ${redisPrefix}*`, async () => {
    const deleted = await deletePrefix(upstash.url, upstashToken, redisPrefix)
    options.log(`deleted ${deleted} Redis keys under ${redisPrefix}`)
  })

  const scriptPath = await buildWorker()
  // esbuild keeps a service process for later builds; this run makes no more.
  await stopEsbuild()
  const internalToken = randomBytes(16).toString('hex')
  const sink = options.output === 'inherit' ? undefined : createWriteStream(options.output, { flags: 'a' })
  const mf = new Miniflare({
    name: WORKER_NAME,
    modules: true,
    scriptPath,
    compatibilityDate: COMPATIBILITY_DATE,
    host: '127.0.0.1',
    port: 0,
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
    bindings: {
      ORIGIN_URL: options.originUrl,
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstashToken,
      REDIS_PREFIX: redisPrefix,
      // Two cores run the suite's client and origin, workerd and upstash-local at once: a production-like
      // 150 ms deadline would turn scheduler stalls into Redis timeouts (the integration tests do the same).
      REDIS_TIMEOUT_MS: '2000',
      INTERNAL_TOKEN: internalToken,
    },
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.pipe(sink ?? process.stdout, { end: false })
      stderr.pipe(sink ?? process.stderr, { end: false })
    },
  })
  reclaimSignals()
  onCleanup('workerd (Miniflare)', async () => {
    await mf.dispose()
    sink?.end()
  })
  await mf.ready
  const url = (await mf.unsafeGetDirectURL(WORKER_NAME)).origin
  const health = await fetch(`${url}/__tiercache/health`)
  const body = await health.text()
  if (health.status !== 200) throw new Error(`tiercache is not healthy: ${health.status} ${body.slice(0, 400)}`)
  return { url, redisPrefix, internalToken }
}

/** Deletes every key under `prefix` through the REST API (SCAN + DEL); returns how many. */
async function deletePrefix(restUrl: string, token: string, prefix: string): Promise<number> {
  const command = async <T>(args: Array<string | number>): Promise<T> => {
    const res = await fetch(restUrl, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(args) })
    const body = (await res.json()) as { result?: T; error?: string }
    if (!res.ok || body.error !== undefined) throw new Error(`${args[0]} failed: ${body.error ?? res.status}`)
    return body.result as T
  }
  let cursor = '0'
  let deleted = 0
  do {
    const [next, keys] = await command<[string, string[]]>(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000])
    cursor = next
    if (keys.length > 0) deleted += await command<number>(['DEL', ...keys])
  } while (cursor !== '0')
  return deleted
}
