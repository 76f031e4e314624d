/**
 * @module tiercache/data: cache values (query results, API answers, rendered fragments) in the same tiers,
 * purge log and counters as the HTTP middleware.
 *
 * @example
 * import { tieredCache } from 'tiercache'
 * import { dataCache } from 'tiercache/data'
 * app.use('/api/*', tieredCache((env) => ({ redis: { url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN } })))
 * app.get('/users/:id', async (c) => {
 *   const user = await dataCache(c).getOrSet(`user:${c.req.param('id')}`, () => loadUser(c.req.param('id')), { ttl: 60, tags: ['users'] })
 *   return c.json(user)
 * })
 */
import type { Context } from 'hono'
import { createEngine, type Engine } from '../engine.ts'
import { engineOptionsFromEnv, type Env } from '../env.ts'
import { attachedEngine, isolateEngine, offerIsolateEngine } from '../isolate-engine.ts'
import { resolveOptions, type TieredCacheOptions } from '../options.ts'
import { DataCache, type TimingSink } from './cache.ts'
import type { Background } from './steps.ts'
import type { GetOrSetOptions } from './options.ts'

export { DataCache, type WrapOptions, type TimingSink } from './cache.ts'
export type { GetOrSetOptions, DataEntryOptions, EarlyRefreshOptions } from './options.ts'
export type { JsonValue, DataValue } from './value.ts'
export { LoaderTimeoutError } from './errors.ts'
export { ConfigError, TierError } from '../errors.ts'

/** Options of {@link dataCache}. */
export interface DataCacheOptions {
  /**
   * Options applied under every call's own (`ttl`, `tags`, ...).
   * @default {} (each call gives its `ttl`)
   */
  defaults?: GetOrSetOptions
  /**
   * The engine's options, used only when no tieredCache middleware (or deployable worker) in this isolate
   * offers its engine. One engine is built per isolate from the first such options seen.
   * @default built from the env: UPSTASH_REDIS_REST_URL / _TOKEN, REDIS_PREFIX, REDIS_TIMEOUT_MS,
   *   COHERENCE_DELTA_MS, LEASE_MS, COALESCE_WAIT_MS, MEMORY_MAX_BYTES, EDGE_CACHE (see the README)
   */
  tiers?: TieredCacheOptions
}

/** What {@link dataCache} needs outside Hono: the Worker's env, and its ctx for background work. */
export interface DataCacheHost {
  env: unknown
  ctx?: { waitUntil(promise: Promise<unknown>): void }
}

let ownEngine: { engine: Engine } | undefined

/** The isolate's engine when nothing offered one: from `tiers`, else from the env's variables. Built once. */
function engineOf(env: unknown, tiers: TieredCacheOptions | undefined): Engine {
  if (ownEngine) return ownEngine.engine
  const engine = createEngine(resolveOptions(tiers ?? engineOptionsFromEnv((env ?? {}) as Env)))
  ownEngine = { engine }
  // Middlewares created later in this isolate cannot adopt it (their options are their own), but a later
  // dataCache() call finds it here.
  offerIsolateEngine(() => engine)
  return engine
}

const detached: Background = { waitUntil: (promise) => void promise.catch(() => {}) }

const isContext = (value: unknown): value is Context =>
  typeof value === 'object' && value !== null && 'req' in value && 'env' in value && typeof (value as Context).header === 'function'

/**
 * The data cache of this request. In a Hono handler pass the context: values share the engine of the
 * tieredCache middleware that ran on the request (or of the first one created in the isolate), background
 * work goes to `c.executionCtx.waitUntil`, and each call adds a `tiercache-data` metric to the response's
 * `Server-Timing`. Elsewhere (a queue consumer, a cron handler) pass `{ env, ctx }`.
 *
 * Which engine: the request's middleware's; else the isolate's first tieredCache (a factory-configured one is
 * resolved here with `c.env` if it has not run yet) or deployable worker; else one built once per isolate
 * from `options.tiers`, or from the env's standard variables.
 *
 * @throws {ConfigError} when the engine has to be built and its options are invalid
 */
export function dataCache(host: Context | DataCacheHost, options: DataCacheOptions = {}): DataCache {
  if (isContext(host)) {
    const engine = attachedEngine(host) ?? isolateEngine(host.env) ?? engineOf(host.env, options.tiers)
    let background: Background = detached
    try {
      background = host.executionCtx
    } catch {
      // app.request() without an execution context (tests): background work runs detached.
    }
    const timing: TimingSink = (name, ms, description) =>
      host.header('server-timing', `${name};dur=${ms.toFixed(1)};desc="${description}"`, { append: true })
    return new DataCache({ engine, background, timing, defaults: options.defaults })
  }
  if (typeof host !== 'object' || host === null || !('env' in host)) {
    throw new TypeError('tiercache dataCache() takes a Hono context (dataCache(c)) or { env, ctx } (dataCache({ env, ctx }))')
  }
  const engine = isolateEngine(host.env) ?? engineOf(host.env, options.tiers)
  return new DataCache({ engine, background: host.ctx ?? detached, defaults: options.defaults })
}
