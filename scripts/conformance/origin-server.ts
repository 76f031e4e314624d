/**
 * @module The cache-tests origin (`test-engine/server/server.mjs`) as a child process on a free port,
 * bound to 127.0.0.1 by the listen-loopback.ts preload (and close-on-length-mismatch.ts, which keeps one
 * test's malformed response from corrupting the next test's connection). The server is configured the way its npm scripts
 * configure it, through `npm_config_*` variables; port 0 lets the kernel pick the port, which the server
 * prints (`Listening on http://127.0.0.1:PORT/`), so there is no window in which another process could
 * take a port picked in advance.
 */
import { createWriteStream } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { spawnChild, type Child } from './child.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
/** Preloads: bind to 127.0.0.1 only; close a connection whose response body contradicts its Content-Length. */
const PRELOADS = ['listen-loopback.ts', 'close-on-length-mismatch.ts'].map((file) => pathToFileURL(path.join(here, file)).href)

/** How long the server may take to print its address and answer its first request. */
const START_TIMEOUT_MS = 30_000

/** A running cache-tests origin. */
export interface OriginServer {
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string
  pid: number
  stop(): Promise<void>
}

export interface OriginServerOptions {
  /** The suite copy's root. */
  suiteDir: string
  /** Where the server writes its pid file (it insists on writing one). */
  pidFile: string
  /**
   * Where the server's output (its warnings, and a single test's dump) goes: a file path, or
   * `'inherit'` to print it (single-test mode shows the origin's side next to the client's).
   */
  output: string | 'inherit'
}

/** Matches the server's start-up line and captures host and port. */
const LISTENING = /^Listening on https?:\/\/(.+):(\d+)\/$/

/** Starts the origin and resolves once it has said where it listens and answered a request there. */
export async function startOriginServer(options: OriginServerOptions): Promise<OriginServer> {
  const child = spawnChild(
    'cache-tests origin',
    process.execPath,
    ['--no-warnings', ...PRELOADS.flatMap((url) => ['--import', url]), 'test-engine/server/server.mjs'],
    {
      cwd: options.suiteDir,
      env: { ...process.env, npm_config_protocol: 'http', npm_config_port: '0', npm_config_pidfile: options.pidFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    }
  )
  try {
    const url = await listeningUrl(child, options.output)
    await waitUntilAnswering(url, child)
    return { url, pid: child.process.pid!, stop: child.stop }
  } catch (error) {
    await child.stop()
    throw error
  }
}

/** Reads the server's output until its `Listening on` line; everything goes to `output` as well. */
function listeningUrl(child: Child, output: string | 'inherit'): Promise<string> {
  const sink = output === 'inherit' ? process.stdout : createWriteStream(output, { flags: 'a' })
  child.process.stderr!.pipe(output === 'inherit' ? process.stderr : sink, { end: false })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the cache-tests origin did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS)
    const lines = createInterface({ input: child.process.stdout! })
    lines.on('line', (line) => {
      sink.write(`${line}\n`)
      const match = LISTENING.exec(line)
      if (!match) return
      clearTimeout(timer)
      if (match[1] !== '127.0.0.1') reject(new Error(`the cache-tests origin listens on ${match[1]}, not 127.0.0.1: the preload did not apply`))
      else resolve(`http://127.0.0.1:${match[2]}`)
    })
    void child.exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`the cache-tests origin exited (${code}) before it listened`))
    })
  })
}

/**
 * Polls `GET /state/<probe>` until the server answers it (with its own 404, "State not found"): proof
 * that the handler, not only the socket, is up.
 */
async function waitUntilAnswering(url: string, child: Child): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  let lastError: unknown
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error('the cache-tests origin exited while starting')
    try {
      const res = await fetch(`${url}/state/tiercache-conformance-probe`, { signal: AbortSignal.timeout(2_000) })
      const body = await res.text()
      if (res.status === 404 && body.startsWith('State not found')) return
      lastError = new Error(`unexpected answer ${res.status} ${body.slice(0, 100)}`)
    } catch (error) {
      lastError = error
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the cache-tests origin at ${url} did not answer: ${(lastError as Error)?.message}`)
}
