/**
 * @module The load generator's ceiling: a plain Node `http` server answering every request with the same
 * bytes the constant worker sends. Whatever autocannon reaches here is the most it can measure on this
 * machine; any worker figure close to it is limited by the load generator, not by the worker.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** The response every constant baseline sends (taken from a real tiercache memory hit). */
export interface ConstantResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** Starts the server on a free port of 127.0.0.1. */
export async function startNodeConstant(response: ConstantResponse): Promise<{ url: string; close(): Promise<void> }> {
  const body = Buffer.from(response.body)
  const headers = { ...response.headers, 'content-length': String(body.byteLength) }
  const server = http.createServer((_req, res) => {
    res.writeHead(response.status, headers)
    res.end(body)
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
