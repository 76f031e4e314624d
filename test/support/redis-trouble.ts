/**
 * Redis trouble on demand, without touching the shared redis-server: a `redis-server` of the test's
 * own (free port, no persistence) and an upstash-local in front of it, each a child process, so a test
 * can freeze (SIGSTOP), thaw (SIGCONT) or kill (SIGKILL) either one by PID, and make that Redis answer
 * errors: out of memory (`maxmemory 1` under `noeviction`) or read-only (a replica of a dead port).
 *
 * - SIGSTOP on redis-server: upstash-local accepts requests and never answers them.
 * - SIGSTOP on upstash-local: the kernel still accepts connections; nothing answers on them.
 * - SIGKILL on redis-server: upstash-local answers 500 ("Redis unavailable") at once.
 * - SIGKILL on upstash-local: connections are refused.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { pingRedis } from '../../scripts/lib/redis-process.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** A free TCP port on 127.0.0.1 (closed again before use; taken by the caller at once). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** Runs `redis-cli` against `port` and returns its output (trimmed). */
export function redisCli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--no-raw', ...args], { timeout: 10_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout.trim())
    )
  })
}

/** `redis-cli --raw`: replies without type decoration, one line per element. */
export function redisCliRaw(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--raw', ...args], { timeout: 10_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout.replace(/\n$/, ''))
    )
  })
}

/** A child process the test may signal. */
export interface Signallable {
  /** PID of the current child (changes after {@link restart}). */
  readonly pid: number
  /** SIGSTOP: the process stops answering. */
  freeze(): void
  /** SIGCONT: it resumes. */
  thaw(): void
  /** SIGKILL, resolved once it has exited. */
  kill(): Promise<void>
  /** Starts it again on the same port (after {@link kill}). */
  restart(): Promise<void>
  /** Stops it for good. */
  close(): Promise<void>
}

/** A redis-server child: its port, signals, and the two ways to make it refuse writes. */
export interface OwnRedis extends Signallable {
  readonly port: number
  cli(...args: string[]): Promise<string>
  /** `maxmemory 1` with `noeviction`: every write answers `OOM command not allowed ...`. */
  outOfMemory(): Promise<void>
  /** A replica of a port nobody listens on: every write answers `READONLY ...`; reads still work. */
  readOnly(): Promise<void>
  /** Undoes {@link outOfMemory} and {@link readOnly}. */
  writable(): Promise<void>
}

/** An upstash-local child in front of an {@link OwnRedis}. */
export interface OwnUpstash extends Signallable {
  readonly url: string
  readonly token: string
  readonly port: number
}

const children = new Set<ChildProcess>()
// A crashed test run must not leave stopped servers behind.
process.once('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL')
    } catch {}
  }
})

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
  })

async function killChild(child: ChildProcess): Promise<void> {
  const done = exited(child)
  child.kill('SIGKILL')
  await done
  children.delete(child)
}

function signalling(current: () => ChildProcess, start: () => Promise<void>): Signallable {
  return {
    get pid() {
      return current().pid!
    },
    freeze: () => void process.kill(current().pid!, 'SIGSTOP'),
    thaw: () => void process.kill(current().pid!, 'SIGCONT'),
    kill: () => killChild(current()),
    restart: start,
    close: () => killChild(current()),
  }
}

/** Starts a redis-server of the test's own on a free port (no RDB, no AOF). */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort()
  let child!: ChildProcess
  const start = async () => {
    child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    children.add(child)
    for (let i = 0; i < 100 && !(await pingRedis('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 50))
    if (!(await pingRedis('127.0.0.1', port))) throw new Error(`own redis-server did not start on ${port}`)
  }
  await start()
  const cli = (...args: string[]) => redisCli(port, ...args)
  return {
    ...signalling(() => child, start),
    port,
    cli,
    async outOfMemory() {
      await cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
      await cli('CONFIG', 'SET', 'maxmemory', '1')
    },
    async readOnly() {
      // A port that was free a moment ago: the replica never reaches a master and stays read-only.
      await cli('REPLICAOF', '127.0.0.1', String(await freePort()))
    },
    async writable() {
      await cli('CONFIG', 'SET', 'maxmemory', '0')
      await cli('REPLICAOF', 'NO', 'ONE')
    },
  }
}

/** Starts `scripts/upstash-local/main.ts` as a child process in front of `redis`. */
export async function startOwnUpstash(redis: { port: number }, token = 'trouble-token'): Promise<OwnUpstash> {
  let port = 0
  let child!: ChildProcess
  const start = async () => {
    child = spawn(
      process.execPath,
      ['scripts/upstash-local/main.ts', '--port', String(port), '--token', token, '--redis', `127.0.0.1:${redis.port}`],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    children.add(child)
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      const onData = (chunk: Buffer) => {
        out += chunk.toString()
        const match = /listening on (http:\/\/\S+)/.exec(out)
        if (match) {
          child.stdout!.off('data', onData)
          resolve(match[1]!)
        }
      }
      child.stdout!.on('data', onData)
      child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()))
      child.once('exit', (code) => reject(new Error(`upstash-local exited (${code}): ${out}`)))
    })
    // Keep the pipes drained, so a chatty child never blocks on a full pipe.
    child.stdout!.resume()
    child.stderr!.resume()
    port = Number(new URL(url).port)
  }
  await start()
  return {
    ...signalling(() => child, start),
    get url() {
      return `http://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    token,
  }
}
