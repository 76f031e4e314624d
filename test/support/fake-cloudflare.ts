/**
 * A local stand-in for Cloudflare's purge API (`POST /client/v4/zones/:zone/purge_cache`), the one
 * third-party cloud API tiercache calls that cannot run here. It records every request exactly as
 * sent (method, path, headers, JSON body) as it arrives and answers with the API's envelope.
 * `rateLimitNext(n)` makes the next n calls answer 429 like the real rate limiter, `failNext(n, status)`
 * makes them fail with another API error, and `hold()` keeps answers back until released, so a test
 * can act while a purge is still fanning out.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedCall {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  body: unknown
  status: number
}

export interface FakeCloudflare {
  baseUrl: string
  /** Every call, in arrival order (recorded before it is answered). */
  calls: RecordedCall[]
  rateLimitNext(n: number): void
  /** The next `n` purge calls answer `status` (e.g. 500 or 400) with an error envelope. */
  failNext(n: number, status: number): void
  /** Holds every answer (calls are still recorded) until the returned function is called. */
  hold(): () => void
  close(): Promise<void>
}

/** Cloudflare's error codes for the statuses the tests use (the envelope's `errors[].code`). */
const ERROR_CODES: Record<number, { code: number; message: string }> = {
  400: { code: 1012, message: 'Request must contain one of "purge_everything", "files", "tags", "hosts" or "prefixes"' },
  404: { code: 7003, message: 'not found' },
  429: { code: 971, message: 'rate limited' },
  500: { code: 10000, message: 'internal error' },
}

export async function startFakeCloudflare(): Promise<FakeCloudflare> {
  const calls: RecordedCall[] = []
  let limited = 0
  let failing = { n: 0, status: 500 }
  let held: Promise<void> = Promise.resolve()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        body = undefined
      }
      let status = /^\/client\/v4\/zones\/[^/]+\/purge_cache$/.test(req.url ?? '') && req.method === 'POST' ? 200 : 404
      if (status === 200 && limited > 0) {
        limited--
        status = 429
      } else if (status === 200 && failing.n > 0) {
        failing.n--
        status = failing.status
      }
      calls.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, status })
      const envelope =
        status === 200
          ? { success: true, errors: [], messages: [], result: { id: `purge-${calls.length}` } }
          : { success: false, errors: [ERROR_CODES[status] ?? { code: 10000, message: `status ${status}` }], messages: [], result: null }
      void held.then(() => {
        res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '60' } : {}) })
        res.end(JSON.stringify(envelope))
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/client/v4`,
    calls,
    rateLimitNext: (n) => void (limited = n),
    failNext: (n, status) => void (failing = { n, status }),
    hold() {
      let release = () => {}
      held = new Promise<void>((resolve) => (release = resolve))
      return () => {
        release()
        held = Promise.resolve()
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
