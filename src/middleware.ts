/**
 * @module Tiered cache middleware for Hono: memory → edge (Cache API) → Redis (Upstash) → handler.
 */
import type { Context, MiddlewareHandler, Next } from 'hono'
import { createEngine, type Engine } from './engine.ts'
import { resolveOptions, type TieredCacheOptions } from './options.ts'
import { keyParts, matchRoute } from './routes.ts'
import type { Produce, WaitUntil } from './stack/stack.ts'

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
 * Tiered cache middleware.
 *
 * Every GET/HEAD is answered from the cheapest tier with a usable copy (RFC 9111 shared-cache rules);
 * misses fill the tiers above; unsafe methods pass through and invalidate their target (§4.4).
 * Responses carry `Cache-Status` (RFC 9211), `Age` and `Server-Timing`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9111
 * @param options - {@link TieredCacheMiddlewareOptions}; validated here, once.
 * @throws {ConfigError} when an option is invalid
 * @example
 * const app = new Hono<{ Bindings: Env }>()
 * app.use('/api/*', tieredCache({ redis: { url, token }, routes: [{ pattern: '/api/', ttl: 30 }] }))
 * app.get('/api/products', (c) => c.json(products, 200, { 'cache-control': 'public, max-age=60' }))
 */
export function tieredCache(options: TieredCacheMiddlewareOptions = {}): MiddlewareHandler {
  return tieredCacheWithEngine(createEngine(resolveOptions(options)), options.origin)
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
    const produce: Produce =
      origin ??
      (async () => {
        if (produced) throw new Error('tiercache: the downstream handler can only run once per request')
        produced = true
        await next()
        return c.res
      })
    const ctx = waitUntilOf(c)
    // The handler ran and finalized the context with its own response (whose body the cache has read):
    // replace it, without Hono merging the handler's headers back over ours.
    const finish = (response: Response): Response => {
      if (produced) {
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
