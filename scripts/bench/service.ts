/**
 * @module Child-process entry for the benchmark's local servers, so the load generator never shares an
 * event loop with what it measures:
 *
 *   node scripts/bench/service.ts upstash '{"token":"…","redisHost":"127.0.0.1","redisPort":6379}'
 *   node scripts/bench/service.ts upstash-global '{"token":"…"}'
 *   node scripts/bench/service.ts origin '{}'
 *   node scripts/bench/service.ts node-constant '{"status":200,"headers":{…},"body":"…"}'
 *   node scripts/bench/service.ts worker '{"name":"…","scriptPath":"build/bench/tiercache.js","bindings":{…}}'
 *
 * Each listens on a free port of 127.0.0.1, prints one line `BENCH-SERVICE-READY {"url":…}`, and stops
 * on SIGTERM or as soon as its stdin closes (the parent went away, even if it was killed). SIGINT is left
 * to the parent: Ctrl-C reaches the whole process group, and the parent still needs the Upstash-compatible
 * server to delete the run's Redis keys before it stops the children.
 */
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { startUpstashLocal } from '../upstash-local/server.ts'
import { startUpstashGlobal } from '../upstash-local/global.ts'
import { startDemoOrigin } from '../demo-origin/server.ts'
import { startNodeConstant, type ConstantResponse } from './baselines/node-constant.ts'
import { startMiniflare } from './workers.ts'

/** The line a service prints once it listens. */
export const READY_PREFIX = 'BENCH-SERVICE-READY '

export type ServiceKind = 'upstash' | 'upstash-global' | 'origin' | 'node-constant' | 'worker'

async function start(kind: string, options: Record<string, unknown>): Promise<{ url: string; entryUrl?: string; startupMs?: string; close(): Promise<void> }> {
  switch (kind) {
    case 'upstash':
      return startUpstashLocal({
        port: 0,
        token: String(options['token']),
        redisHost: String(options['redisHost'] ?? '127.0.0.1'),
        redisPort: Number(options['redisPort'] ?? 6379),
      })
    case 'upstash-global':
      // A primary and a read replica of its own (scripts/upstash-local/global.ts); knobs change over /__control/global.
      return startUpstashGlobal({ port: 0, token: String(options['token']) })
    case 'origin':
      return startDemoOrigin({ port: 0 })
    case 'node-constant':
      return startNodeConstant(options as unknown as ConstantResponse)
    case 'worker':
      return startMiniflare(options as unknown as Parameters<typeof startMiniflare>[0])
    default:
      throw new Error(`unknown service kind ${JSON.stringify(kind)}`)
  }
}

async function main(): Promise<void> {
  const [kind = '', json = '{}'] = process.argv.slice(2)
  const service = await start(kind, JSON.parse(json) as Record<string, unknown>)
  let closing = false
  const stop = () => {
    if (closing) return
    closing = true
    service.close().finally(() => process.exit(0))
  }
  process.once('SIGTERM', stop)
  process.on('SIGINT', () => {})
  process.stdin.on('end', stop)
  process.stdin.on('close', stop)
  process.stdin.resume()
  process.stdout.write(`${READY_PREFIX}${JSON.stringify({ url: service.url, ...(service.entryUrl ? { entryUrl: service.entryUrl } : {}), ...(service.startupMs ? { startupMs: service.startupMs } : {}) })}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench service: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  })
}
