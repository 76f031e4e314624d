/**
 * @module The demo origin: a plain `node:http` server with an endpoint for every caching policy tiercache
 * must handle (design §3, §4), stateful items that call the purge webhook after writes (design §5), request
 * accounting, and a fault switch (design §6). Used by `npm run dev`, the integration tests and the benchmark.
 *
 * Every response carries `X-Origin-Serial: <n>`, unique per response for the process lifetime (resets do
 * not rewind it), so a test can tell which origin fetch produced what it received.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ConfigError } from '../../src/errors.ts'
import { applyConditional } from './conditional.ts'
import { CONTROL_PREFIX, controlRoutes } from './control.ts'
import { DEFAULT_FAULT_STATUS, FaultSwitch, parseFaultPatch, type Fault, type FaultPatch } from './faults.ts'
import { flattenHeaders, httpDate, problem, textReply, type HeaderMap, type OriginRequest, type Reply } from './http.ts'
import { ItemStore } from './item-store.ts'
import { createPurgeNotifier, purgeTargetProblem, type PurgeTarget } from './purge-notifier.ts'
import { createRouter, type RouteMatch } from './router.ts'
import { failureRoutes } from './routes/failures.ts'
import { identityRoutes } from './routes/identity.ts'
import { itemRoutes } from './routes/items.ts'
import { payloadRoutes } from './routes/payloads.ts'
import { policyRoutes } from './routes/policies.ts'
import { validatorRoutes } from './routes/validators.ts'
import { varyRoutes } from './routes/vary.ts'
import { sitemapRoutes } from './routes/sitemap.ts'
import { RequestStats, type OriginStats, type RequestRecord } from './stats.ts'
import { DripValve, isWireFault, writeWireFault, type WireReply } from './wire-faults.ts'

/** How the demo origin starts. */
export interface DemoOriginOptions {
  /** Port to listen on; 0 picks a free one (always use 0 in tests). @default 0 */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /** The worker's purge route, e.g. `http://127.0.0.1:8787/__tiercache/purge`. Needs `purgeSecret`. */
  purgeUrl?: string
  /** Shared secret that signs webhook calls. Needs `purgeUrl`. */
  purgeSecret?: string
  /** Delay before every non-control request; the benchmark uses 80. Faults can change it. @default 0 */
  latencyMs?: number
  /** Where webhook failures and handler crashes are reported. @default console.warn */
  warn?: (message: string) => void
  /** Clock for `Date`, `Expires` and `Last-Modified`. @default Date.now */
  now?: () => number
}

/** A running demo origin. */
export interface DemoOrigin {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string
  port: number
  /** Stops listening and drops open connections (including requests held by a `timeout` fault). */
  close(): Promise<void>
  /** Non-control requests received since start or the last reset. */
  stats(): OriginStats
  /** The last requests received, oldest first, with their headers. */
  requestLog(): RequestRecord[]
  resetStats(): void
  /** Stats, items and faults back to the start state (same as `POST /__origin/reset`). */
  reset(): void
  /** Changes the fault state; omitted fields keep their value. Throws on invalid input. */
  setFault(fault: FaultPatch): Fault
  fault(): Fault
  /** Responses a `drip` fault is holding (header section and first half of the body sent). */
  dripping(): number
  /** Sends the rest of every held `drip` body; returns how many were released. */
  releaseDrip(): number
  /**
   * Sets (or with `undefined` clears) where item writes send the purge webhook, for stacks that start the
   * worker after the origin. Throws on an invalid target.
   */
  setPurgeTarget(target: PurgeTarget | undefined): void
  /** The item store. Changes made here bypass the purge webhook. */
  data: ItemStore
}

/** Largest request body accepted (items and `/echo`). */
const MAX_BODY_BYTES = 1024 * 1024
/** Statuses sent without content (RFC 9110 §15.3.5, §15.3.6, §15.4.5). */
const NO_BODY = new Set([204, 205, 304])
const EMPTY = new Uint8Array(0)

function resolveOptions(options: DemoOriginOptions) {
  const { port = 0, host = '127.0.0.1', purgeUrl, purgeSecret, latencyMs = 0 } = options
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`demo origin port must be 0..65535, got ${port}`)
  if (!Number.isInteger(latencyMs) || latencyMs < 0) throw new ConfigError(`demo origin latencyMs must be a whole number ≥ 0`)
  const purgeProblem = purgeTargetProblem(purgeUrl, purgeSecret)
  if (purgeProblem) throw new ConfigError(`demo origin ${purgeProblem}`)
  const purgeTarget = purgeUrl && purgeSecret ? { url: purgeUrl, secret: purgeSecret } : undefined
  return { port, host, purgeTarget, latencyMs, warn: options.warn ?? console.warn, now: options.now ?? Date.now }
}

/** Parses the request target; origin-form is taken as a path even when it starts with `//`. */
function parseTarget(raw: string): URL | undefined {
  return raw.startsWith('/') ? URL.parse(`http://demo-origin.invalid${raw}`) ?? undefined : URL.parse(raw) ?? undefined
}

/**
 * Reads the request body up to `limit` bytes; undefined when it is larger. An oversized body is still
 * drained, so the client gets to read the 413 instead of a broken pipe.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size <= limit) chunks.push(chunk)
  }
  if (size > limit) return undefined
  return chunks.length === 0 ? EMPTY : Buffer.concat(chunks)
}

/**
 * Starts the demo origin and resolves once it is listening.
 *
 * @example
 * const origin = await startDemoOrigin({ port: 0 })
 * await fetch(`${origin.url}/public/1`) // Cache-Control: public, max-age=60; X-Origin-Serial: 1
 * origin.setFault({ mode: 'error', status: 503 })
 * await origin.close()
 */
export async function startDemoOrigin(options: DemoOriginOptions = {}): Promise<DemoOrigin> {
  const config = resolveOptions(options)
  const { warn, now } = config
  const startedAt = now()
  const stats = new RequestStats()
  const faults = new FaultSwitch({ mode: 'ok', status: DEFAULT_FAULT_STATUS, latencyMs: config.latencyMs })
  const drip = new DripValve()
  const data = new ItemStore()
  const purge = createPurgeNotifier({ target: config.purgeTarget, warn })
  let serial = 0

  const setFault = (patch: FaultPatch): Fault => {
    const valid = parseFaultPatch(patch)
    if (typeof valid === 'string') throw new TypeError(`[demo-origin] ${valid}`)
    return faults.set(valid)
  }
  const reset = (): void => {
    stats.reset()
    data.reset()
    faults.reset()
    drip.release()
  }

  const route = createRouter([
    ...policyRoutes(startedAt),
    ...validatorRoutes(startedAt, now),
    ...varyRoutes(),
    ...identityRoutes(),
    ...failureRoutes(),
    ...payloadRoutes(),
    ...itemRoutes(data, purge),
    ...sitemapRoutes(),
  ])
  const controlRoute = createRouter(
    controlRoutes({
      stats: () => stats.snapshot(),
      requestLog: () => stats.log(),
      fault: () => faults.current,
      setFault,
      reset,
      dripping: () => drip.held,
      releaseDrip: () => drip.release(),
    })
  )

  /** The reply as it goes on the wire: the serial and `Date` added, the body as bytes. */
  function toWire(reqSerial: number, reply: Reply): WireReply {
    const headers: HeaderMap = { ...reply.headers, 'X-Origin-Serial': String(reqSerial) }
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'date')) headers['Date'] = httpDate(now())
    const body = NO_BODY.has(reply.status) || reply.body === undefined ? EMPTY : typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body
    return { status: reply.status, headers, body }
  }

  function send(res: ServerResponse, method: string, reqSerial: number, reply: Reply): void {
    if (res.destroyed) return
    const wire = toWire(reqSerial, reply)
    res.statusCode = wire.status
    for (const [name, value] of Object.entries(wire.headers)) res.setHeader(name, typeof value === 'string' ? value : [...value])
    const bodyless = NO_BODY.has(reply.status)
    if (!bodyless) res.setHeader('Content-Length', wire.body.byteLength)
    // HEAD: same header section as GET, no content (RFC 9110 §9.3.2).
    res.end(method === 'HEAD' || bodyless ? undefined : wire.body)
  }

  async function dispatch(match: RouteMatch, req: OriginRequest): Promise<Reply> {
    if (match.kind === 'not-found') return problem(404, `no demo endpoint at ${req.path}`)
    if (match.kind === 'method-not-allowed') return problem(405, `${req.method} not allowed`, { Allow: match.allow.join(', ') })
    const reply = await match.handle({ ...req, params: match.params })
    return req.method === 'GET' || req.method === 'HEAD' ? applyConditional(req.headers, reply) : reply
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reqSerial = ++serial
    const method = req.method ?? 'GET'
    const rawUrl = req.url ?? '/'
    const target = parseTarget(rawUrl)
    if (!target) return send(res, method, reqSerial, problem(400, 'unparseable request target'))
    // 'close' fires when the client leaves or close() drops the connection: either way, stop waiting.
    const gone = new AbortController()
    res.once('close', () => gone.abort())
    const { signal } = gone
    const isControl = target.pathname.startsWith(CONTROL_PREFIX)

    let action: Awaited<ReturnType<FaultSwitch['gate']>> | undefined
    if (!isControl) {
      stats.record({ serial: reqSerial, method, url: rawUrl, path: target.pathname, headers: flattenHeaders(req.headers) })
      action = await faults.gate(signal)
      if (action === 'aborted') return void res.destroy()
      // Sends a TCP RST where the platform allows it, so the client sees ECONNRESET, not a clean close.
      if (action === 'reset') return void req.socket.resetAndDestroy()
      if (action === 'error') {
        const { status } = faults.current
        return send(res, method, reqSerial, textReply({ serial: reqSerial }, `origin fault: error ${status}`, {}, status))
      }
    }

    const body = await readBody(req, MAX_BODY_BYTES)
    if (body === undefined) return send(res, method, reqSerial, problem(413, `request body over ${MAX_BODY_BYTES} bytes`))
    const request: OriginRequest = {
      method,
      url: rawUrl,
      path: target.pathname,
      query: target.searchParams,
      headers: req.headers,
      params: {},
      serial: reqSerial,
      body,
      signal,
    }
    try {
      const reply = await dispatch((isControl ? controlRoute : route)(method, target.pathname), request)
      // Wire faults break the route's own answer, so the broken reply carries that path's cache headers.
      if (action !== undefined && isWireFault(action)) {
        if (res.destroyed) return
        return await writeWireFault(res, action, toWire(reqSerial, reply), { method, signal, drip })
      }
      send(res, method, reqSerial, reply)
    } catch (error) {
      if (signal.aborted) return void res.destroy()
      warn(`[demo-origin] ${method} ${rawUrl} failed: ${error instanceof Error ? error.stack : String(error)}`)
      send(res, method, reqSerial, problem(500, 'demo origin handler crashed'))
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      warn(`[demo-origin] ${String(error)}`)
      res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host

  let closed: Promise<void> | undefined
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })),
    stats: () => stats.snapshot(),
    requestLog: () => stats.log(),
    resetStats: () => stats.reset(),
    reset,
    setFault,
    fault: () => faults.current,
    dripping: () => drip.held,
    releaseDrip: () => drip.release(),
    setPurgeTarget(target) {
      const invalid = target && purgeTargetProblem(target.url, target.secret)
      if (invalid) throw new ConfigError(`demo origin ${invalid}`)
      purge.setTarget(target)
    },
    data,
  }
}
