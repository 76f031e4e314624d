/**
 * @module
 * A local HTTP server that speaks the Upstash Redis REST protocol in front of a real `redis-server`,
 * so `@upstash/redis` (and the worker that uses it) runs unchanged in development, tests and the
 * benchmark, without Docker. The protocol it follows is reference `upstash-and-workers.md` §1 and §6;
 * its conformance tests are the rows of §7.
 */
import { Buffer } from 'node:buffer'
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { executePlan, messageOf, planWrites, statusOf } from './api.ts'
import { planRequest, routeKey, routeOf } from './commands.ts'
import { ControlState, handleControl } from './control.ts'
import { HttpError, errorBody } from './errors.ts'
import { resolveOptions } from './options.ts'
import { RedisBackend } from './redis-backend.ts'
import { Replication, parseSyncToken } from './replication.ts'
import type { Node } from './replication.ts'
import type { Route } from './commands.ts'
import type { Fault, Stats } from './control.ts'
import type { UpstashLocalOptions } from './options.ts'
import type { Role } from './redis-backend.ts'

export type { Fault, Stats } from './control.ts'
export type { UpstashLocalOptions } from './options.ts'

/** A running server. Point `UPSTASH_REDIS_REST_URL` at `url` and `UPSTASH_REDIS_REST_TOKEN` at `token`. */
export type UpstashLocal = {
  /** Base REST URL, e.g. `http://127.0.0.1:8079` (plus `basePath`). */
  readonly url: string
  readonly port: number
  readonly token: string
  readonly readOnlyToken: string | undefined
  /** Stops listening, drops open connections (including hung requests) and closes Redis connections. */
  close(): Promise<void>
  stats(): Stats
  resetStats(): void
  /** Replaces the injected fault; `{}` or `{ mode: 'ok' }` restores normal service. */
  setFault(fault: Fault): void
  /** Global mode's knobs now (all 0 in single-region mode). */
  globalKnobs(): GlobalKnobs
  /** Changes global mode's knobs; throws in single-region mode. Also `POST /__control/global`. */
  setGlobalKnobs(knobs: Partial<GlobalKnobs>): void
}

/** What global mode lets a test or the benchmark turn (`/__control/global`). */
export type GlobalKnobs = {
  /** Added latency of requests the primary serves, ms. */
  readonly primaryLatencyMs: number
  /** Added latency of requests the replica serves, ms. */
  readonly replicaLatencyMs: number
  /** Replication lag: how long the primary's stream is held back on its way to the replica, ms. */
  readonly lagMs: number
}

/** The replication link's delay, owned by whoever started the replica (`global.ts`). */
export type ReplicationLag = { lagMs: number }

/** Methods Upstash accepts (§1.1); anything else is 405. */
const METHODS = new Set(['HEAD', 'GET', 'POST', 'PUT'])
const CONTROL_PREFIX = '/__control/'

/**
 * Starts the server. Redis is not contacted before the first request, so the server starts (and
 * answers 500) while Redis is down, and recovers by itself when Redis comes back (§7 H9).
 * @example
 * const upstash = await startUpstashLocal({ token: 'dev-token' })
 * const redis = new Redis({ url: upstash.url, token: upstash.token })
 */
export async function startUpstashLocal(options: UpstashLocalOptions, link: { lag?: ReplicationLag } = {}): Promise<UpstashLocal> {
  const resolved = resolveOptions(options)
  const backend = new RedisBackend(resolved)
  const replica = resolved.replica === undefined ? undefined : new RedisBackend({ ...resolved, redis: { ...resolved.redis, ...resolved.replica } })
  const replication = replica === undefined ? undefined : new Replication(backend, replica)
  const knobs = { primaryLatencyMs: resolved.primaryLatencyMs, replicaLatencyMs: resolved.replicaLatencyMs }
  const control = new ControlState({ global: replication !== undefined })
  const tokens = new Map<Buffer, Role>([[digest(resolved.token), 'standard']])
  if (resolved.readOnlyToken !== undefined) tokens.set(digest(resolved.readOnlyToken), 'readOnly')
  // Opaque read-your-writes token, changed by every request that may have written (§1.7, §7 H2).
  const syncPrefix = randomBytes(4).toString('hex')
  let writes = 0

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    let route: Route | undefined
    let routeError: unknown
    try {
      route = routeOf(url.pathname, resolved.basePath)
    } catch (error) {
      routeError = error
    }
    control.countRequest(route === undefined ? '(invalid)' : routeKey(route))
    const action = await control.apply()
    if (action === 'down') return void req.socket.destroy()
    if (action === 'error') return send(res, 500, errorBody('ERR upstash-local: injected fault (mode "error")'))
    try {
      const method = req.method ?? 'GET'
      if (!METHODS.has(method)) throw new HttpError(405, `ERR method ${method} not allowed; use POST`)
      if (routeError !== undefined) throw routeError
      if (route === undefined) throw new HttpError(404, `ERR not found: ${url.pathname}`)
      if (route.kind !== 'path' && method !== 'POST' && method !== 'PUT') {
        throw new HttpError(405, `ERR method ${method} not allowed on ${routeKey(route)}; use POST`)
      }
      const role = authenticate(req, url)
      const base64 = header(req, 'upstash-encoding')?.toLowerCase() === 'base64'
      if (route.kind !== 'multi-exec') checkResponseFormat(header(req, 'upstash-response-format'), base64)
      const plan = planRequest(route, await readBody(req, resolved.maxBodyBytes), url.searchParams)
      control.countCommands(plan.commands.length)
      if (replication !== undefined) return await handleGlobal(req, res, replication, role, plan, base64)
      const result = await executePlan(backend, role, plan, base64)
      if (result.wrote) writes += 1
      send(res, result.status, result.json, { 'upstash-sync-token': `${syncPrefix}-${writes}` })
    } catch (error) {
      send(res, statusOf(error), errorBody(messageOf(error)))
    }
  }

  /**
   * Global mode: reads go to the replica — once it has caught up with the request's sync token, or to
   * the primary if it does not within `syncWaitMs` — and everything else to the primary. The answer's
   * token is the serving node's replication offset (`replication.ts`).
   */
  async function handleGlobal(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    replication: Replication,
    role: Role,
    plan: ReturnType<typeof planRequest>,
    base64: boolean
  ): Promise<void> {
    const writes = planWrites(plan, await backend.commandTable())
    const token = parseSyncToken(header(req, 'upstash-sync-token'))
    let node: Node = writes ? 'primary' : 'replica'
    if (node === 'replica' && token !== undefined && !(await replication.replicaReaches(token, resolved.syncWaitMs))) node = 'primary'
    control.countNode(node)
    const latency = node === 'primary' ? knobs.primaryLatencyMs : knobs.replicaLatencyMs
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency))
    const result = await executePlan(replication.backend(node), role, plan, base64)
    const offset = Math.max(await replication.offset(node), node === 'replica' ? (token ?? 0) : 0)
    send(res, result.status, result.json, { 'upstash-sync-token': String(offset), 'upstash-local-node': node })
  }

  function globalKnobs(): GlobalKnobs {
    return { ...knobs, lagMs: link.lag?.lagMs ?? 0 }
  }

  function setGlobalKnobs(next: Partial<GlobalKnobs>): void {
    if (replication === undefined) throw new HttpError(400, 'ERR not in global mode: start with a replica (--global)')
    for (const [name, value] of Object.entries(next)) {
      if (!['primaryLatencyMs', 'replicaLatencyMs', 'lagMs'].includes(name)) throw new HttpError(400, `ERR unknown global knob ${name}; use primaryLatencyMs, replicaLatencyMs or lagMs`)
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new HttpError(400, `ERR ${name} must be a non-negative number of ms`)
    }
    if (next.lagMs !== undefined) {
      if (link.lag === undefined) throw new HttpError(400, 'ERR lagMs needs the replication proxy (start with --global)')
      link.lag.lagMs = next.lagMs
    }
    if (next.primaryLatencyMs !== undefined) knobs.primaryLatencyMs = next.primaryLatencyMs
    if (next.replicaLatencyMs !== undefined) knobs.replicaLatencyMs = next.replicaLatencyMs
  }

  /** Resolves the role of the presented token, `Bearer` header first, then `?_token=` (§1.2). */
  function authenticate(req: http.IncomingMessage, url: URL): Role {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '')?.[1]
    for (const candidate of [bearer, url.searchParams.get('_token') ?? undefined]) {
      if (candidate === undefined) continue
      const presented = digest(candidate)
      for (const [known, role] of tokens) if (timingSafeEqual(known, presented)) return role
    }
    throw new HttpError(401, 'WRONGPASS invalid or missing auth token')
  }

  async function handleControlRequest(req: http.IncomingMessage, res: http.ServerResponse, name: string): Promise<void> {
    try {
      const body = (await readBody(req, 64 * 1024)).toString('utf8')
      if (name === 'global') return send(res, 200, JSON.stringify(globalControl(req.method ?? 'GET', body)))
      const { status, json } = handleControl(control, req.method ?? 'GET', name, body)
      send(res, status, json)
    } catch (error) {
      send(res, statusOf(error), errorBody(messageOf(error)))
    }
  }

  /** `GET /__control/global` shows the knobs; `POST` with `{"lagMs":3000}` (any subset) changes them. */
  function globalControl(method: string, body: string): GlobalKnobs {
    if (method === 'POST') {
      let value: unknown
      try {
        value = JSON.parse(body === '' ? '{}' : body)
      } catch {
        throw new HttpError(400, 'ERR global knobs body is not JSON, e.g. {"lagMs":500}')
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'ERR global knobs must be a JSON object, e.g. {"lagMs":500}')
      setGlobalKnobs(value as Partial<GlobalKnobs>)
    } else if (method !== 'GET') {
      throw new HttpError(405, `ERR method ${method} not allowed on /__control/global`)
    }
    return globalKnobs()
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstash-local')
    // Control endpoints live at the root and under the base path, so `${upstash.url}/__control/…` works.
    const controlAt = [CONTROL_PREFIX, `${resolved.basePath}${CONTROL_PREFIX}`].find((p) => url.pathname.startsWith(p))
    const handling = controlAt === undefined
      ? handleApi(req, res, url)
      : handleControlRequest(req, res, url.pathname.slice(controlAt.length))
    handling.catch((error: unknown) => send(res, 500, errorBody(messageOf(error))))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  // Best effort: create the read-only ACL user now; if Redis is down it is retried on first use.
  backend.warmUp().catch(() => {})

  const port = (server.address() as AddressInfo).port
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host
  return {
    url: `http://${host}:${port}${resolved.basePath}`,
    port,
    token: resolved.token,
    readOnlyToken: resolved.readOnlyToken,
    stats: () => control.stats(),
    resetStats: () => control.resetStats(),
    setFault: (fault) => control.setFault(fault),
    globalKnobs,
    setGlobalKnobs,
    close: async () => {
      control.close()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      backend.close()
      replica?.close()
      await closed
    },
  }
}

/** `Upstash-Response-Format`: only `json` is served; `resp2` and anything else get 400 (§1.6, §7 H5). */
function checkResponseFormat(format: string | undefined, base64: boolean): void {
  if (format === undefined || format.toLowerCase() === 'json') return
  if (format.toLowerCase() !== 'resp2') throw new HttpError(400, `ERR invalid Upstash-Response-Format ${JSON.stringify(format)}; use json or resp2`)
  if (base64) throw new HttpError(400, 'ERR Upstash-Response-Format: resp2 cannot be combined with Upstash-Encoding: base64')
  throw new HttpError(400, 'ERR Upstash-Response-Format: resp2 is not supported by upstash-local; use json')
}

/**
 * Reads the whole body. Past `limit` it keeps draining (so the client can read the answer) and then
 * fails with Upstash's message (§1.11, §7 H8).
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
    })
    req.on('end', () => {
      if (size > limit) reject(new HttpError(400, 'ERR max request size exceeded'))
      else resolve(Buffer.concat(chunks, size))
    })
    req.on('error', reject)
    req.on('close', () => reject(new HttpError(400, 'ERR request aborted')))
  })
}

function send(res: http.ServerResponse, status: number, json: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...extra })
  res.end(json)
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Fixed-length digests so tokens of any length compare in constant time. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}
