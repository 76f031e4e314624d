/**
 * `npm run dev`: the whole local stack in one command.
 *   redis-server (started if not answering) → Upstash-compatible REST server → demo origin →
 *   `wrangler dev` running the worker on http://127.0.0.1:8787 with the env wired by --var flags.
 * Ctrl-C stops every child this process started, and nothing else.
 *
 * To use a real Upstash database instead of the local one, export UPSTASH_REDIS_REST_URL and
 * UPSTASH_REDIS_REST_TOKEN before running it. INTERNAL_TOKEN and PURGE_SECRET come from the environment,
 * else `.dev.vars`, else dev defaults (scripts/lib/dev-settings.ts); they are printed with ready-to-paste
 * commands once the worker is up.
 *
 * `npm run dev -- --global [--primary-latency-ms 80] [--replica-latency-ms 3] [--replication-lag-ms 500]`
 * runs a local Upstash Global database instead: a primary and a read replica of its own (README "Upstash
 * Global"); the knobs can be changed while it runs through `POST <upstash>/__control/global`.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startUpstashGlobal } from './upstash-local/global.ts'
import { ensureRedisOrExit } from './lib/redis-process.ts'
import { startUpstashLocal, type UpstashLocal } from './upstash-local/server.ts'
import { startDemoOrigin, type DemoOrigin } from './demo-origin/server.ts'
import { projectRoot } from './build-worker.ts'
import { devGuide, devSecrets, DEV_ROUTES } from './lib/dev-settings.ts'

const WORKER_PORT = Number(process.env.TIERCACHE_PORT ?? 8787)
const ORIGIN_PORT = Number(process.env.DEMO_ORIGIN_PORT ?? 8788)
const UPSTASH_PORT = Number(process.env.UPSTASH_LOCAL_PORT ?? 8079)
/** The local Upstash-compatible server's token. */
const DEV_TOKEN = 'tiercache-dev-token'
const secrets = devSecrets(process.env, projectRoot)

/** `--global` and its knobs (ms); anything else on the command line is an error. */
const { values: flags } = parseArgs({
  options: {
    global: { type: 'boolean' },
    'primary-latency-ms': { type: 'string' },
    'replica-latency-ms': { type: 'string' },
    'replication-lag-ms': { type: 'string' },
  },
})
const knob = (name: 'primary-latency-ms' | 'replica-latency-ms' | 'replication-lag-ms'): number => {
  const text = flags[name] ?? '0'
  if (!/^\d+$/.test(text)) throw new Error(`--${name} must be a whole number of ms, e.g. --${name} 80; got ${JSON.stringify(text)}`)
  if (flags.global !== true && flags[name] !== undefined) throw new Error(`--${name} needs --global`)
  return Number(text)
}
const globalKnobs = { primaryLatencyMs: knob('primary-latency-ms'), replicaLatencyMs: knob('replica-latency-ms'), lagMs: knob('replication-lag-ms') }

const cleanups: Array<() => Promise<void>> = []
let stopping = false
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  }
  process.exit(code)
}
process.on('SIGINT', () => void stopAll(0))
process.on('SIGTERM', () => void stopAll(0))

const externalUpstash = process.env.UPSTASH_REDIS_REST_URL && process.env.UPSTASH_REDIS_REST_TOKEN
let upstashUrl = process.env.UPSTASH_REDIS_REST_URL ?? ''
let upstashToken = process.env.UPSTASH_REDIS_REST_TOKEN ?? ''

try {
  if (!externalUpstash && flags.global === true) {
    const upstash = await startUpstashGlobal({ port: UPSTASH_PORT, token: DEV_TOKEN, ...globalKnobs })
    cleanups.push(() => upstash.close())
    upstashUrl = upstash.url
    upstashToken = DEV_TOKEN
    console.log(`redis (global)   primary redis://127.0.0.1:${upstash.primary.port}, replica redis://127.0.0.1:${upstash.replica.port} (started by npm run dev)`)
    console.log(`upstash (local)  ${upstash.url}   knobs: ${JSON.stringify(upstash.globalKnobs())} at ${upstash.url}/__control/global`)
  } else if (!externalUpstash) {
    const redis = await ensureRedisOrExit()
    cleanups.push(() => redis.stop())
    const upstash: UpstashLocal = await startUpstashLocal({ port: UPSTASH_PORT, token: DEV_TOKEN, redisHost: redis.host, redisPort: redis.port })
    cleanups.push(() => upstash.close())
    upstashUrl = upstash.url
    upstashToken = DEV_TOKEN
    console.log(`redis            redis://${redis.host}:${redis.port}${redis.started ? ' (started by npm run dev)' : ''}`)
    console.log(`upstash (local)  ${upstash.url}   control: ${upstash.url}/__control/stats`)
  } else {
    console.log(`upstash          ${upstashUrl} (from UPSTASH_REDIS_REST_URL)`)
  }

  const origin: DemoOrigin = await startDemoOrigin({
    port: ORIGIN_PORT,
    purgeUrl: `http://127.0.0.1:${WORKER_PORT}/__tiercache/purge`,
    purgeSecret: secrets.purgeSecret,
  })
  cleanups.push(() => origin.close())
  console.log(`demo origin      ${origin.url}   control: ${origin.url}/__origin/stats`)

  const vars: Record<string, string> = {
    ORIGIN_URL: origin.url,
    UPSTASH_REDIS_REST_URL: upstashUrl,
    UPSTASH_REDIS_REST_TOKEN: upstashToken,
    PURGE_SECRET: secrets.purgeSecret,
    INTERNAL_TOKEN: secrets.internalToken,
    // The demo origin's per-user pages (/p/*) and per-cohort pages (/cohort/*), cached per user and cohort.
    ROUTES: process.env.ROUTES ?? DEV_ROUTES,
    // On the global database, hits read the replica unless UPSTASH_GLOBAL=false says otherwise.
    ...(flags.global === true ? { UPSTASH_GLOBAL: process.env.UPSTASH_GLOBAL ?? 'true' } : {}),
    // Another key prefix keeps this stack's keys apart from others on the same Redis (tests run it so).
    ...(process.env.REDIS_PREFIX ? { REDIS_PREFIX: process.env.REDIS_PREFIX } : {}),
  }
  const wranglerBin = path.join(projectRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
  const args = [wranglerBin, 'dev', '--ip', '127.0.0.1', '--port', String(WORKER_PORT), '--show-interactive-dev-session=false']
  for (const [key, value] of Object.entries(vars)) args.push('--var', `${key}:${value}`)
  // Free ports and a private state folder, so a second stack (the README test) runs beside this one.
  if (process.env.TIERCACHE_INSPECTOR_PORT) args.push('--inspector-port', process.env.TIERCACHE_INSPECTOR_PORT)
  if (process.env.TIERCACHE_PERSIST_TO) args.push('--persist-to', process.env.TIERCACHE_PERSIST_TO)
  const wrangler = spawn(process.execPath, args, {
    cwd: projectRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_SEND_ERROR_REPORTS: 'false' },
    detached: true,
  })
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (wrangler.exitCode !== null || wrangler.pid === undefined) return resolve()
        wrangler.once('exit', () => resolve())
        process.kill(-wrangler.pid, 'SIGTERM')
      })
  )
  wrangler.once('exit', (code) => {
    if (!stopping) {
      console.error(`wrangler dev exited (${code}); stopping the stack`)
      void stopAll(code ?? 1)
    }
  })
  console.log(`worker           http://127.0.0.1:${WORKER_PORT}   try: curl -i http://127.0.0.1:${WORKER_PORT}/public/1`)
  console.log(`health           http://127.0.0.1:${WORKER_PORT}/__tiercache/health`)
  console.log(devGuide(`http://127.0.0.1:${WORKER_PORT}`, secrets))
  console.log('Ctrl-C stops everything.')
} catch (error) {
  console.error(error)
  await stopAll(1)
}
