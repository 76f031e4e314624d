/**
 * @module
 * A local Upstash Global database: a primary `redis-server`, a read replica (`redis-server --replicaof`)
 * that follows it through a {@link startLagProxy lag proxy}, and upstash-local in global mode in front of
 * both (`replication.ts`: reads on the replica, writes and scripts on the primary, sync tokens as
 * replication offsets). Both redis-servers are child processes of this one, on free ports, without
 * persistence; `close()` stops them by PID.
 *
 * @example
 * const db = await startUpstashGlobal({ token: 'dev-token', primaryLatencyMs: 80, replicaLatencyMs: 3 })
 * db.setGlobalKnobs({ lagMs: 500 })
 */
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { pingRedis } from '../lib/redis-process.ts'
import { startLagProxy } from './lag-proxy.ts'
import { startUpstashLocal } from './server.ts'
import type { UpstashLocal } from './server.ts'
import { UpstashLocalConfigError } from './options.ts'
import type { UpstashLocalOptions } from './options.ts'

/** Options of {@link startUpstashGlobal}: the server's, without the Redis address (it starts its own). */
export type UpstashGlobalOptions = Omit<UpstashLocalOptions, 'redisUrl' | 'redisHost' | 'redisPort' | 'replica'> & {
  /** Replication lag at start, ms (changeable with `setGlobalKnobs`). @default 0 */
  readonly lagMs?: number
  /**
   * Read regions: each gets a replica of its own (with its own lag proxy) and an upstash-local of its own
   * on a free port, whose reads it serves — a worker pointed at region 2 reads region 2's replica. The
   * first region listens on `port`. @default 1
   */
  readonly regions?: number
}

/** One read region: its REST endpoint (reads from its replica, writes to the shared primary) and its replica. */
export type UpstashRegion = UpstashLocal & { readonly replica: { readonly port: number; readonly pid: number } }

/** A running global database; itself the first region. */
export type UpstashGlobal = UpstashRegion & {
  readonly primary: { readonly port: number; readonly pid: number }
  /** Every region, the first one included; knobs (lag, latencies) are per region. */
  readonly regions: readonly UpstashRegion[]
}

/** A free TCP port on 127.0.0.1 (redis-server cannot listen on port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Starts a non-persistent redis-server child on `port` and waits for it to answer. */
async function startRedis(port: number, extra: string[]): Promise<ChildProcess> {
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', ...extra]
  const child = spawn('redis-server', args, { stdio: 'ignore' })
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start redis-server: ${error.message}`)))
    child.once('exit', (code) => reject(new Error(`redis-server on port ${port} exited (${code}) at start`)))
  })
  failed.catch(() => {})
  for (let i = 0; i < 100; i++) {
    if (await Promise.race([pingRedis('127.0.0.1', port), failed])) return child
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`redis-server on port ${port} did not answer within 5 s`)
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

/** Waits until the replica reports its link to the primary up (the initial sync is done). */
async function waitForLink(port: number): Promise<void> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const info = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port })
      let text = ''
      socket.setTimeout(1000, () => socket.destroy())
      socket.on('data', (chunk) => {
        text += chunk.toString('utf8')
        if (text.includes('\r\n', text.indexOf('\r\n') + 2) && /master_link_status:\w+/.test(text)) socket.end()
      })
      socket.on('close', () => resolve(text))
      socket.on('error', () => resolve(''))
      socket.write('*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n')
    })
    if (/master_link_status:up/.test(info)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`the replica on port ${port} did not finish its initial sync within 20 s`)
}

/** Starts the primary, the replica behind a lag proxy, and upstash-local in global mode. */
export async function startUpstashGlobal(options: UpstashGlobalOptions): Promise<UpstashGlobal> {
  const { lagMs = 0, regions: regionCount = 1, ...serverOptions } = options
  if (!Number.isInteger(regionCount) || regionCount < 1 || regionCount > 16) {
    throw new UpstashLocalConfigError(`regions must be an integer from 1 to 16, got ${JSON.stringify(regionCount)}`)
  }
  const children: ChildProcess[] = []
  const stops: Array<() => Promise<void>> = []
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {})
  }
  try {
    const primaryPort = await freePort()
    // Diskless sync without its default 5 s wait for more replicas: the replica is ready in milliseconds.
    const primary = await startRedis(primaryPort, ['--repl-diskless-sync-delay', '0'])
    children.push(primary)
    stops.push(() => stopChild(primary))
    const regions: UpstashRegion[] = []
    for (let i = 0; i < regionCount; i++) {
      const proxy = await startLagProxy({ host: '127.0.0.1', port: primaryPort })
      stops.push(() => proxy.close())
      const replicaPort = await freePort()
      const replica = await startRedis(replicaPort, ['--replicaof', '127.0.0.1', String(proxy.port)])
      children.push(replica)
      stops.push(() => stopChild(replica))
      await waitForLink(replicaPort)
      proxy.lagMs = lagMs
      const server = await startUpstashLocal(
        {
          ...serverOptions,
          ...(i === 0 ? {} : { port: 0 }),
          redisHost: '127.0.0.1',
          redisPort: primaryPort,
          replica: { host: '127.0.0.1', port: replicaPort },
        },
        { lag: proxy }
      )
      stops.push(() => server.close())
      regions.push({ ...server, replica: { port: replicaPort, pid: replica.pid as number } })
    }
    const first = regions[0] as UpstashRegion
    return { ...first, primary: { port: primaryPort, pid: primary.pid as number }, regions, close: stopAll }
  } catch (error) {
    await stopAll()
    throw error
  }
}
