/**
 * @module Tiered cache middleware for Hono: memory → edge (Cache API) → Redis (Upstash) → handler.
 */
import type { Context, MiddlewareHandler, Next } from 'hono'
import { createEngine, type Engine } from './engine.ts'
import { resolveOptions, type TieredCacheOptions } from './options.ts'
import { keyParts, matchRoute } from './routes.ts'
import type { Produce, WaitUntil } from './stack/stack.ts'
import { attachEngine, offerIsolateEngine } from './isolate-engine.ts'

/** Middleware options: the engine's options plus where misses are answered from. */
export interface TieredCacheMiddlewareOptions extends TieredCacheOptions {
  /**
   * Answers a miss. Defaults to the downstream Hono handler (`next()`); the deployable worker passes
   * a function that fetches `ORIGIN_URL`.
   * @default undefined (call the next handler)
   */
  origin?: Produce
}

const SAFE_METHODS = new Set(['GET', 'HEAD'])
const IGNORED_METHODS = new Set(['OPTIONS', 'TRACE', 'CONNECT'])

const waitUntilOf = (c: Context): WaitUntil => {
  try {
    return c.executionCtx
  } catch {
    // Outside Workers (tests with app.request() and no ctx) background work simply runs detached.
    return { waitUntil: (promise) => void promise.catch(() => {}) }
  }
}

/**
 * Options computed from the Worker's env (`c.env`), for a middleware created at module level, before any
 * env exists. Called once per isolate, on its first request; the result is validated then.
 */
export type TieredCacheOptionsFactory<E = any> = (env: E) => TieredCacheMiddlewareOptions

/**
 * Tiered cache middleware.
 *
 * Every GET/HEAD is answered from the cheapest tier with a usable copy (RFC 9111 shared-cache rules);
 * misses fill the tiers above; unsafe methods pass through and invalidate their target (§4.4).
 * Responses carry `Cache-Status` (RFC 9211), `Age` and `Server-Timing`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9111
 * The first tieredCache created in an isolate also serves `dataCache(c)` (tiercache/data): one memory
 * tier, edge cache, Redis client and purge-log view for both.
 *
 * @param options - {@link TieredCacheMiddlewareOptions}, validated here, once; or a function of the Worker's
 *   env returning them, called and validated once per isolate on its first request.
 * @throws {ConfigError} when an option is invalid (from the isolate's first request, for a factory)
 * @example
 * // From examples/hono-app/src/index.ts (the README's copy is checked against it):
 * const app = new Hono<{ Bindings: Bindings }>()
 * app.use('/api/*', tieredCache((env: Bindings) => ({
 *   redis: { url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, prefix: env.REDIS_PREFIX },
 *   routes: [{ pattern: '/api/', ttl: 30, tags: ['api'] }],
 * })))
 * app.get('/api/hello', (c) => c.json({ message: 'Hello Hono!', at: new Date().toISOString() }))
 */
export function tieredCache<E = any>(options: TieredCacheMiddlewareOptions | TieredCacheOptionsFactory<E> = {}): MiddlewareHandler {
  if (typeof options !== 'function') {
    const engine = createEngine(resolveOptions(options))
    offerIsolateEngine(() => engine)
    return tieredCacheWithEngine(engine, options.origin)
  }
  let built: { engine: Engine; handler: MiddlewareHandler } | undefined
  // Resolved once: a factory that throws (a missing variable) fails each request with its ConfigError
  // until the isolate is replaced, like the deployable worker's configuration.
  const build = (env: unknown): { engine: Engine; handler: MiddlewareHandler } => {
    if (built) return built
    const resolved = options(env as E)
    const engine = createEngine(resolveOptions(resolved))
    built = { engine, handler: tieredCacheWithEngine(engine, resolved.origin) }
    return built
  }
  offerIsolateEngine((env) => build(env).engine)
  return function tieredCache(c: Context, next: Next) {
    return build(c.env).handler(c, next)
  } as MiddlewareHandler
}

/**
 * The middleware over an existing engine (the worker keeps one engine per isolate). A fresh memory hit
 * comes back synchronously: Hono accepts a handler's plain `Response`, and skipping the promise layers
 * is a measurable share of a memory hit (`npm run bench:profile`).
 */
export function tieredCacheWithEngine(engine: Engine, origin?: Produce): MiddlewareHandler {
  const { options, stack, stats } = engine
  const internalPrefix = `${options.internalPrefix}/`
  function tieredCache(c: Context, next: Next): Response | Promise<Response | void> {
    const request = c.req.raw
    const path = c.req.path
    if (path === options.internalPrefix || path.startsWith(internalPrefix)) return next()
    stats.record('requests')
    let produced = false
    /** `Server-Timing` the handler added (the data API's metrics); the stored copy never keeps it. */
    let handlerTiming: string | null = null
    const produce: Produce =
      origin ??
      (async () => {
        if (produced) throw new Error('tiercache: the downstream handler can only run once per request')
        produced = true
        // The handler's dataCache(c) calls share this engine (src/isolate-engine.ts).
        attachEngine(c, engine)
        await next()
        handlerTiming = c.res.headers.get('server-timing')
        return c.res
      })
    const ctx = waitUntilOf(c)
    // The handler ran and finalized the context with its own response (whose body the cache has read):
    // replace it, without Hono merging the handler's headers back over ours.
    const finish = (response: Response): Response => {
      if (produced) {
        if (handlerTiming) {
          try {
            response.headers.append('server-timing', handlerTiming)
          } catch {
            // Immutable headers (a passed-through fetch response): the handler's metrics are left out.
          }
        }
        c.res = undefined
        c.res = response
      }
      return response
    }
    if (IGNORED_METHODS.has(request.method)) return stack.handlePassThrough(request, produce).then(finish)
    if (!SAFE_METHODS.has(request.method)) return stack.handleUnsafe(request, ctx, produce).then(finish)
    const route = matchRoute(options.routes, path)
    if (route?.perUser || route?.cohort) {
      return keyParts(request, route).then((parts) => stack.handle(request, route, parts, ctx, produce)).then(finish)
    }
    const response = stack.handle(request, route, undefined, ctx, produce)
    return response instanceof Promise ? response.then(finish) : finish(response)
  }
  // Hono's `MiddlewareHandler` type promises a Promise; its dispatcher takes a plain Response as well.
  return tieredCache as MiddlewareHandler
}
