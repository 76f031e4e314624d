/**
 * Test helpers for the demo origin: a raw `node:http` client (no automatic decompression, no connection
 * reuse, so gzip bytes and socket resets are seen exactly as sent) and a per-file origin fixture.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
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
