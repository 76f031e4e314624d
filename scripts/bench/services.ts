/**
 * @module The local stack around the workers: redis-server (reused, or started by `ensureRedis`), the
 * Upstash-compatible REST server and the demo origin, each in its own child process (see service.ts),
 * driven over their HTTP control routes (`/__control/*`, `/__origin/*`).
 */
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ensureRedis, type RedisHandle } from '../lib/redis-process.ts'
import { onCleanup } from '../lib/lifecycle.ts'
import { READY_PREFIX, type ServiceKind } from './service.ts'
import { pinnedCommand, type Pinning } from './cpu-pinning.ts'

const serviceScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'service.ts')

let pinning: Pinning | undefined

/** Pins services started from now on (see cpu-pinning.ts); `undefined` leaves them to the scheduler. */
export function pinServices(plan: Pinning | undefined): void {
  pinning = plan
}

/** A running child service. */
export interface Service {
  kind: ServiceKind
  url: string
  /** Everything the ready line said (e.g. a worker's `entryUrl`). */
  ready: Record<string, string>
  pid: number
  stop(): Promise<void>
}

/**
 * Starts `scripts/bench/service.ts <kind>` and waits for its ready line. Its stderr (and any other
 * output) goes to `logFile`.
 */
export async function startService(kind: ServiceKind, options: object, logFile: string, label: string = kind): Promise<Service> {
  // The Node baseline is served like a worker: it is the load generator's ceiling on the same CPU.
  const cpus = pinning === undefined ? undefined : kind === 'worker' || kind === 'node-constant' ? pinning.workers : pinning.others
  const [command, args] = pinnedCommand(cpus, process.execPath, [serviceScript, kind, JSON.stringify(options)])
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const log = createWriteStream(logFile, { flags: 'a' })
  child.stderr.pipe(log)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = onCleanup(`${label} (pid ${child.pid})`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    log.end()
  })
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within 30 s (see ${logFile})`)), 30_000)
    lines.on('line', (line) => {
      if (line.startsWith(READY_PREFIX)) {
        clearTimeout(timer)
        resolve(JSON.parse(line.slice(READY_PREFIX.length)) as Record<string, string>)
      } else {
        log.write(`${line}\n`)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${kind} exited (${code}) before it was ready (see ${logFile})`))
    })
  }).catch(async (error: unknown) => {
    await stop()
    throw error
  })
  return { kind, url: ready['url']!, ready, pid: child.pid!, stop }
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init)
  const text = await res.text()
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url} → ${res.status} ${text.slice(0, 200)}`)
  return JSON.parse(text) as T
}

/** Counters of the Upstash-compatible server. */
export interface UpstashStats {
  requests: number
  commands: number
  byPath: Record<string, number>
  /** Global mode only: requests served by the primary and by the replica. */
  byNode?: Record<string, number>
}

/** The Upstash-compatible server, driven over HTTP. */
export class UpstashControl {
  readonly url: string
  readonly token: string
  constructor(url: string, token: string) {
    this.url = url
    this.token = token
  }
  stats(): Promise<UpstashStats> {
    return json(`${this.url}/__control/stats`)
  }
  async setLatency(latencyMs: number): Promise<void> {
    await json(`${this.url}/__control/fault`, { method: 'POST', body: JSON.stringify(latencyMs > 0 ? { latencyMs } : {}) })
  }
  async resetStats(): Promise<void> {
    await json(`${this.url}/__control/reset`, { method: 'POST' })
  }
  /** Global mode: primary and replica latency, replication lag (ms). */
  async setGlobal(knobs: { primaryLatencyMs?: number; replicaLatencyMs?: number; lagMs?: number }): Promise<void> {
    await json(`${this.url}/__control/global`, { method: 'POST', body: JSON.stringify(knobs) })
  }
  /** Runs one Redis command through the REST API. */
  async command<T>(args: Array<string | number>): Promise<T> {
    const body = await json<{ result: T }>(this.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}` },
      body: JSON.stringify(args),
    })
    return body.result
  }
  /** Deletes every key under `prefix` (SCAN + DEL); returns how many. */
  async deletePrefix(prefix: string): Promise<number> {
    let cursor = '0'
    let deleted = 0
    do {
      const [next, keys] = await this.command<[string, string[]]>(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000])
      cursor = next
      if (keys.length > 0) deleted += await this.command<number>(['DEL', ...keys])
    } while (cursor !== '0')
    return deleted
  }
}

/** Counters of the demo origin. */
export interface OriginStats {
  requests: number
  byPath: Record<string, number>
  byMethod: Record<string, number>
}

/** The demo origin, driven over HTTP. */
export class OriginControl {
  readonly url: string
  constructor(url: string) {
    this.url = url
  }
  stats(): Promise<OriginStats> {
    return json(`${this.url}/__origin/stats`)
  }
  async setLatency(latencyMs: number): Promise<void> {
    await json(`${this.url}/__origin/fault`, { method: 'POST', body: JSON.stringify({ mode: 'ok', latencyMs }) })
  }
  /** PUT /items/:id (creates or bumps the version; no purge target is configured, so no webhook). */
  async putItem(id: string, body: string): Promise<{ version: number }> {
    return json(`${this.url}/items/${encodeURIComponent(id)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body }),
    })
  }
}

/** Redis, the Upstash-compatible server and the demo origin, ready to use. */
export interface LocalStack {
  redis: RedisHandle
  upstash: UpstashControl
  origin: OriginControl
  services: Service[]
}

/** Starts (or reuses) redis-server, then the Upstash-compatible server and the demo origin. */
export async function startLocalStack(options: { token: string; logDir: string }): Promise<LocalStack> {
  const redis = await ensureRedis()
  if (redis.started) onCleanup('redis-server', () => redis.stop())
  const upstash = await startService('upstash', { token: options.token, redisHost: redis.host, redisPort: redis.port }, path.join(options.logDir, 'upstash-local.log'))
  const origin = await startService('origin', {}, path.join(options.logDir, 'demo-origin.log'))
  return {
    redis,
    upstash: new UpstashControl(upstash.url, options.token),
    origin: new OriginControl(origin.url),
    services: [upstash, origin],
  }
}
