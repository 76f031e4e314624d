/**
 * A local stand-in for Cloudflare's purge API (`POST /client/v4/zones/:zone/purge_cache`), the one
 * third-party cloud API tiercache calls that cannot run here. It records every request exactly as
 * sent (method, path, headers, JSON body) and answers with the API's envelope; `rateLimitNext(n)`
 * makes the next n calls answer 429 like the real rate limiter.
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
  calls: RecordedCall[]
  rateLimitNext(n: number): void
  close(): Promise<void>
}

export async function startFakeCloudflare(): Promise<FakeCloudflare> {
  const calls: RecordedCall[] = []
  let limited = 0
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
      const status = /^\/client\/v4\/zones\/[^/]+\/purge_cache$/.test(req.url ?? '') && req.method === 'POST' ? (limited > 0 ? 429 : 200) : 404
      if (status === 429) limited--
      calls.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, status })
      const envelope =
        status === 200
          ? { success: true, errors: [], messages: [], result: { id: `purge-${calls.length}` } }
          : { success: false, errors: [{ code: status === 429 ? 971 : 7003, message: status === 429 ? 'rate limited' : 'not found' }], messages: [], result: null }
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '60' } : {}) })
      res.end(JSON.stringify(envelope))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/client/v4`,
    calls,
    rateLimitNext: (n) => void (limited = n),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
