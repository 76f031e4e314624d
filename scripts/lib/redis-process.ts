/**
 * Makes sure a `redis-server` answers before the local stack starts: reuses one that is already
 * listening, otherwise starts a non-persistent one as a child process (stopped by `stop()`), and
 * explains how to install Redis or use a real Upstash database when the binary is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import net from 'node:net'

export interface RedisHandle {
  host: string
  port: number
  /** True when this process started redis-server (and so must stop it). */
  started: boolean
  stop(): Promise<void>
}

/** Sends PING over RESP and resolves true on `+PONG` within `timeoutMs`. */
export function pingRedis(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'))
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')))
  })
}

const redisBinaryAvailable = (): boolean =>
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0

/** Explains what to do when no redis-server can be found or started. */
export const REDIS_MISSING_HELP = [
  'redis-server is not answering on 127.0.0.1 and is not installed.',
  'Install it (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`),',
  'or point tiercache at a real Upstash database instead:',
  '  UPSTASH_REDIS_REST_URL=https://<db>.upstash.io UPSTASH_REDIS_REST_TOKEN=<token> npm run dev',
].join('\n')

/**
 * Returns a handle to a running redis-server on `host:port`, starting one if needed.
 * Throws with {@link REDIS_MISSING_HELP} when Redis is neither running nor installed.
 */
export async function ensureRedis(host = '127.0.0.1', port = 6379): Promise<RedisHandle> {
  if (await pingRedis(host, port)) {
    return { host, port, started: false, stop: async () => {} }
  }
  if (!redisBinaryAvailable()) throw new Error(REDIS_MISSING_HELP)
  const child: ChildProcess = spawn(
    'redis-server',
    ['--bind', host, '--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' }
  )
  for (let i = 0; i < 50; i++) {
    if (await pingRedis(host, port)) {
      return {
        host,
        port,
        started: true,
        stop: () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.kill('SIGTERM')
          }),
      }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGTERM')
  throw new Error(`redis-server did not answer on ${host}:${port} within 5 s`)
}

/** {@link ensureRedis} for a command-line run: when Redis can be neither found nor started, says why and exits 1. */
export async function ensureRedisOrExit(): Promise<RedisHandle> {
  try {
    return await ensureRedis()
  } catch (error) {
    console.error((error as Error).message)
    process.exit(1)
  }
}
