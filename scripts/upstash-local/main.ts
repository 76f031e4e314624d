/**
 * @module
 * Command line for the local Upstash-compatible server.
 *
 * @example
 * node scripts/upstash-local/main.ts --port 8079 --token dev-token [--read-only-token ro] [--redis 127.0.0.1:6379] [--db N]
 *
 * Every flag has an environment fallback (`UPSTASH_LOCAL_PORT`, `UPSTASH_LOCAL_TOKEN`, …, see {@link USAGE}).
 * Options are validated before listening, and SIGINT/SIGTERM close the server cleanly.
 */
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { UpstashLocalConfigError, parseRedisUrl } from './options.ts'
import { startUpstashGlobal } from './global.ts'
import { startUpstashLocal } from './server.ts'
import type { UpstashLocalOptions } from './options.ts'
import type { UpstashLocal } from './server.ts'

/** Help text, printed for `--help` and after a usage error. */
export const USAGE = `Usage: node scripts/upstash-local/main.ts --token <token> [options]

  --port <n>               HTTP port, 0 for a free one        env UPSTASH_LOCAL_PORT    (default 8079)
  --host <addr>            interface to listen on             env UPSTASH_LOCAL_HOST    (default 127.0.0.1)
  --token <t>              standard token (required)          env UPSTASH_LOCAL_TOKEN
  --read-only-token <t>    read-only token                    env UPSTASH_LOCAL_READONLY_TOKEN
  --redis <host:port|url>  redis-server to front              env UPSTASH_LOCAL_REDIS   (default 127.0.0.1:6379)
  --db <n>                 Redis database index               env UPSTASH_LOCAL_DB      (default 0)
  --base-path <path>       REST URL path prefix, e.g. /upstash env UPSTASH_LOCAL_BASE_PATH
  --max-body-bytes <n>     request size limit                 env UPSTASH_LOCAL_MAX_BODY_BYTES (default 10 MiB)

Global mode (Upstash Global: a primary and a read replica of its own, redis-servers on free ports):
  --global                 start them; --redis and --db do not apply
  --primary-latency-ms <n> added to every request the primary serves (a far region)   (default 0)
  --replica-latency-ms <n> added to every request the replica serves (the near region) (default 0)
  --replication-lag-ms <n> delay on the replication link                              (default 0)
  --regions <n>            read regions, each a replica and an endpoint of its own (the first on --port) (default 1)
  (all three can be changed while running: POST /__control/global {"lagMs":500})
`

/** Server options, and in global mode (`--global`) the replication lag to start with. */
export type CliOptions = UpstashLocalOptions & { readonly global?: { readonly lagMs: number; readonly regions: number } }

/** Builds server options from argv and the environment; throws {@link UpstashLocalConfigError} on mistakes. */
export function optionsFromCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        'read-only-token': { type: 'string' },
        redis: { type: 'string' },
        db: { type: 'string' },
        'base-path': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        global: { type: 'boolean' },
        'primary-latency-ms': { type: 'string' },
        'replica-latency-ms': { type: 'string' },
        'replication-lag-ms': { type: 'string' },
        regions: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values
  } catch (error) {
    throw new UpstashLocalConfigError((error as Error).message)
  }
  const pick = (flag: string, name: string): string | undefined => {
    const value = values[flag]
    return typeof value === 'string' ? value : env[name] === '' ? undefined : env[name]
  }
  const token = pick('token', 'UPSTASH_LOCAL_TOKEN')
  if (token === undefined) throw new UpstashLocalConfigError('a token is required: pass --token or set UPSTASH_LOCAL_TOKEN')
  const redis = pick('redis', 'UPSTASH_LOCAL_REDIS') ?? '127.0.0.1:6379'
  const { host: redisHost, port: redisPort, ...fromUrl } = parseRedisUrl(redis.includes('://') ? redis : `redis://${redis}`)
  const db = pick('db', 'UPSTASH_LOCAL_DB')
  const maxBodyBytes = pick('max-body-bytes', 'UPSTASH_LOCAL_MAX_BODY_BYTES')
  const knobs = ['primary-latency-ms', 'replica-latency-ms', 'replication-lag-ms', 'regions'].filter((flag) => values[flag] !== undefined)
  if (values.global !== true && knobs.length > 0) throw new UpstashLocalConfigError(`--${knobs[0]} needs --global`)
  if (values.global === true && (values.redis !== undefined || values.db !== undefined)) {
    throw new UpstashLocalConfigError('--global starts its own primary and replica: leave out --redis and --db')
  }
  const knob = (flag: string) => (typeof values[flag] === 'string' ? number(`--${flag}`, values[flag] as string) : 0)
  const global = values.global === true
    ? { global: { lagMs: knob('replication-lag-ms'), regions: Math.max(1, knob('regions')) }, primaryLatencyMs: knob('primary-latency-ms'), replicaLatencyMs: knob('replica-latency-ms') }
    : {}
  return {
    ...global,
    token,
    readOnlyToken: pick('read-only-token', 'UPSTASH_LOCAL_READONLY_TOKEN'),
    port: number('--port', pick('port', 'UPSTASH_LOCAL_PORT') ?? '8079'),
    host: pick('host', 'UPSTASH_LOCAL_HOST') ?? '127.0.0.1',
    basePath: pick('base-path', 'UPSTASH_LOCAL_BASE_PATH'),
    ...(redis.includes('://') ? { redisUrl: redis } : { redisHost, redisPort }),
    ...(db === undefined ? (fromUrl.db === undefined ? {} : { db: fromUrl.db }) : { db: number('--db', db) }),
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes: number('--max-body-bytes', maxBodyBytes) }),
  }
}

function number(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UpstashLocalConfigError(`${flag} must be a non-negative integer, got ${JSON.stringify(text)}`)
  return Number(text)
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE)
    return
  }
  let server: UpstashLocal
  try {
    const { global, ...options } = optionsFromCli(argv, process.env)
    if (global === undefined) {
      server = await startUpstashLocal(options)
    } else {
      const { redisHost: _host, redisPort: _port, redisUrl: _url, db: _db, ...rest } = options
      const db = await startUpstashGlobal({ ...rest, lagMs: global.lagMs, regions: global.regions })
      process.stdout.write(`upstash-local global mode: primary redis :${db.primary.port}, knobs ${JSON.stringify(db.globalKnobs())}\n`)
      for (const [i, region] of db.regions.entries()) {
        process.stdout.write(`  region ${i + 1}: ${region.url} (replica redis :${region.replica.port})\n`)
      }
      server = db
    }
  } catch (error) {
    const usage = error instanceof UpstashLocalConfigError ? `\n\n${USAGE}` : ''
    process.stderr.write(`upstash-local: ${(error as Error).message}${usage}\n`)
    process.exitCode = 2
    return
  }
  process.stdout.write(`upstash-local listening on ${server.url}\n`)
  process.stdout.write(`  UPSTASH_REDIS_REST_URL=${server.url}\n  UPSTASH_REDIS_REST_TOKEN=${server.token}\n`)
  const stop = (signal: string) => {
    process.stdout.write(`upstash-local: ${signal}, shutting down\n`)
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
