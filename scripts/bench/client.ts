/**
 * @module The benchmark's own HTTP client for single requests (pre-warming, samples, stampede, purge).
 *
 * Every request to a worker carries the same `Host` ({@link BENCH_HOST}), whatever port the worker process
 * listens on: tiercache keys on scheme, host and path, so two worker processes only share Redis entries,
 * leases and purges when they see one site, as two data centres of one zone do. `fetch` cannot set `Host`
 * (undici ignores it), hence `node:http` with a keep-alive agent.
 */
import http from 'node:http'

/** The virtual host every worker is addressed as. */
export const BENCH_HOST = 'tiercache.bench'

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })

/** A response read in full. */
export interface SimpleResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  text(): string
  header(name: string): string
}

/** Sends one request to `base + path` with `Host: tiercache.bench` (unless `headers.host` says otherwise). */
export function request(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {}
): Promise<SimpleResponse> {
  const url = new URL(path, base)
  const body = init.body === undefined ? undefined : Buffer.from(init.body)
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: init.method ?? 'GET',
        headers: { host: BENCH_HOST, ...(body ? { 'content-length': String(body.byteLength) } : {}), ...init.headers },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const all = Buffer.concat(chunks)
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: all,
            text: () => all.toString('utf8'),
            header: (name) => {
              const value = res.headers[name.toLowerCase()]
              return Array.isArray(value) ? value.join(', ') : (value ?? '')
            },
          })
        })
        res.on('error', reject)
      }
    )
    req.on('error', reject)
    req.end(body)
  })
}
