/**
 * Test helpers for the demo origin: a raw `node:http` client (no automatic decompression, no connection
 * reuse, so gzip bytes and socket resets are seen exactly as sent) and a per-file origin fixture.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { startDemoOrigin, type DemoOrigin, type DemoOriginOptions } from '../../../scripts/demo-origin/server.ts'

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  text: string
}

export interface RawRequest {
  method?: string
  headers?: Record<string, string>
  body?: string | Uint8Array
  signal?: AbortSignal
}

/** Sends one request on a fresh connection and buffers the whole response. */
export function request(url: string, init: RawRequest = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers, agent: false, signal: init.signal }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') })
      })
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

/** Sends JSON with a Content-Type. */
export const sendJson = (url: string, method: string, value: unknown): Promise<RawResponse> =>
  request(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) })

/** The `serial <n>` line of a text body. */
export function bodySerial(text: string): number | undefined {
  const m = /serial (\d+)/.exec(text)
  return m ? Number(m[1]) : undefined
}

/**
 * Starts one origin for the file (port 0), resets it before each test, closes it after. Returns a getter
 * because the origin only exists once `beforeAll` has run.
 */
export function useOrigin(options: DemoOriginOptions = {}): () => DemoOrigin {
  let origin: DemoOrigin | undefined
  beforeAll(async () => {
    origin = await startDemoOrigin({ port: 0, ...options })
  })
  beforeEach(() => origin?.reset())
  afterAll(async () => {
    await origin?.close()
  })
  return () => {
    if (!origin) throw new Error('origin not started')
    return origin
  }
}

/**
 * Starts a new origin for every test: for tests that assert exact item versions, which (by design) keep
 * increasing across resets.
 */
export function useFreshOrigin(options: DemoOriginOptions = {}): () => DemoOrigin {
  let origin: DemoOrigin | undefined
  beforeEach(async () => {
    origin = await startDemoOrigin({ port: 0, ...options })
  })
  afterEach(async () => {
    await origin?.close()
  })
  return () => {
    if (!origin) throw new Error('origin not started')
    return origin
  }
}

/** A raw TCP exchange with the origin: every byte as sent, and how the connection ended. */
export interface RawConnection {
  /** Bytes received so far, as latin1 text (one character per byte). */
  text(): string
  /** Settles when the server ends the connection: `fin` (clean close) or `reset` (ECONNRESET). */
  readonly closed: Promise<'fin' | 'reset'>
  /** Resolves with the bytes received once they satisfy `check`; rejects if the connection ends first. */
  until(check: (text: string) => boolean): Promise<string>
  /** Drops the connection from the client side. */
  destroy(): void
}

/**
 * Sends one request over a plain socket and records the answer byte for byte, for faults that break HTTP
 * framing where no HTTP client would show what was sent.
 */
export function rawRequest(url: string, path: string, init: { method?: string; headers?: Record<string, string> } = {}): RawConnection {
  const { hostname, port } = new URL(url)
  const socket = connect({ host: hostname, port: Number(port) })
  let received = ''
  let ended = false
  const waiters = new Set<() => void>()
  const notify = () => {
    for (const w of [...waiters]) w()
  }
  const closed = new Promise<'fin' | 'reset'>((resolve) => {
    let how: 'fin' | 'reset' = 'fin'
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET') how = 'reset'
    })
    socket.on('close', () => {
      ended = true
      notify()
      resolve(how)
    })
  })
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1')
    notify()
  })
  const headers = { host: `${hostname}:${port}`, ...init.headers }
  const lines = [`${init.method ?? 'GET'} ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  return {
    text: () => received,
    closed,
    until: (check) =>
      new Promise((resolve, reject) => {
        const test = () => {
          if (check(received)) {
            waiters.delete(test)
            resolve(received)
          } else if (ended) {
            waiters.delete(test)
            reject(new Error(`connection ended first; received ${JSON.stringify(received)}`))
          }
        }
        waiters.add(test)
        test()
      }),
    destroy: () => socket.destroy(),
  }
}
