/**
 * @module The deployable worker: tiercache in front of `ORIGIN_URL`.
 * Internal routes live under `INTERNAL_PREFIX` (default `/__tiercache`); every other request is
 * answered by the cache or proxied to the origin.
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { LinearRouter } from 'hono/router/linear-router'
import { createEngine, type Engine } from './engine.ts'
import { readWorkerConfig, type Env, type WorkerConfig } from './env.ts'
import { ConfigError } from './errors.ts'
import { tieredCacheWithEngine } from './middleware.ts'
import { buildOriginRequest, fetchOrigin } from './origin.ts'
import { internalRoutes } from './internal.ts'
import { stripUnkeyedHeaders } from './policy/key.ts'
import { offerIsolateEngine } from './isolate-engine.ts'
import { Warmer } from './warm/warmer.ts'
import { matchRoute } from './routes.ts'

/** Everything the worker keeps per isolate, rebuilt only if the env object changes. */
interface Isolate {
  env: Env
  config: WorkerConfig
  engine: Engine
  cache: MiddlewareHandler
  internal: Hono<{ Bindings: Env }>
  warmer: Warmer
}

let isolate: Isolate | undefined

// Configuration is read and validated on an isolate's first request (Workers have no earlier hook):
// a bad value fails that request and every later one with the same clear error.
function isolateFor(env: Env): Isolate {
  if (isolate?.env === env) return isolate
  const config = readWorkerConfig(env)
  for (const warning of config.warnings) console.warn(`[tiercache] ${warning}`)
  const engine = createEngine(config.options)
  const origin = (request: Request, signal: AbortSignal) =>
    fetchOrigin(buildOriginRequest(request, config.originUrl, stripUnkeyedHeaders), signal)
  const warmer = new Warmer(config.warm.limits, {
    now: config.options.now,
    count: (name, by) => engine.stats.record(name, by),
    fromOrigin: (url) => origin(new Request(url), AbortSignal.timeout(config.options.originTimeoutMs)),
    refuse: (url) => {
      const { pathname } = new URL(url)
      const { internalPrefix, routes } = config.options
      if (pathname === internalPrefix || pathname.startsWith(`${internalPrefix}/`)) return 'an internal path'
      const route = matchRoute(routes, pathname)
      if (route?.bypass) return 'its route bypasses the cache'
      if (route?.perUser) return 'a per-user route: nothing shared to warm'
      return undefined
    },
    hot: async (limit) => {
      // This isolate's counts first, so its own traffic is in the fleet's set it reads; without Redis (or
      // while it fails) this isolate's own hot keys are what there is.
      if (engine.hotSet) {
        try {
          await engine.observer.mergeNow()
          return (await engine.hotSet.top(limit)).map((hot) => hot.key)
        } catch (error) {
          console.warn(`[tiercache] warm: the fleet's hot set is unavailable, warming this isolate's (${(error as Error).message})`)
        }
      }
      return (engine.observer.sketch?.top(limit) ?? []).map((hot) => hot.key)
    },
  })
  const internal = internalRoutes(config, engine, { warmer, serve: serveThrough })
  isolate = { env, config, engine, cache: tieredCacheWithEngine(engine, origin), internal, warmer }
  return isolate
}

// A worker that also answers with `dataCache(c)` (tiercache/data) uses this engine: one memory tier and
// purge-log view per isolate for both.
offerIsolateEngine((env) => isolateFor(env as Env).engine)

// One catch-all route: LinearRouter matches `*` with a string compare, where the default router runs a
// regular expression over every path (measurable on a memory hit, `npm run bench:profile`).
const app = new Hono<{ Bindings: Env }>({ router: new LinearRouter() })

// Not `async`: a fresh memory hit returns its Response synchronously all the way out (middleware.ts).
app.all('*', (c, next) => {
  let current: Isolate
  try {
    current = isolateFor(c.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(error.message)
    return c.json({ error: 'tiercache is misconfigured', detail: error.message }, 500)
  }
  const { internalPrefix } = current.config.options
  const path = c.req.path
  if (path.startsWith(`${internalPrefix}/`)) {
    const url = new URL(c.req.url)
    url.pathname = path.slice(internalPrefix.length)
    return current.internal.fetch(new Request(url, c.req.raw), c.env, c.executionCtx)
  }
  // With an origin configured the middleware always answers (it only calls `next` for internal paths,
  // handled above), so the `void` in its signature does not occur here.
  return current.cache(c, next) as Response | Promise<Response>
})

/**
 * A request the worker makes to itself (warming): through the whole app, so it is answered and filled
 * exactly as a client's would be; marked so it does not count as traffic for the hot keys.
 */
function serveThrough(request: Request, env: Env, ctx: Parameters<typeof app.fetch>[2]): Promise<Response> {
  isolate?.engine.observer.markInternal(request)
  return Promise.resolve(app.fetch(request, env, ctx))
}

export default {
  fetch: app.fetch,
  /** Cron trigger: sends zone purges a 429 or the rate budget left queued (wrangler.toml [triggers]). */
  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    const current = isolateFor(env)
    const zone = current.engine.zone
    if (zone) ctx.waitUntil(zone.drain().then((outcome) => console.log(`[tiercache] zone purge drain: ${JSON.stringify(outcome)}`)))
    // Warming on its own schedule (WARM_CRON every WARM_CRON_MINUTES) from the every-minute trigger.
    const cron = current.config.warm.cron
    if (cron && Math.floor(controller.scheduledTime / 60_000) % cron.everyMinutes === 0) {
      ctx.waitUntil(
        current.warmer
          .run(cron.request, cron.base, 'cron', (request) => serveThrough(request, env, ctx))
          .then((receipt) => console.log(`[tiercache] warm: ${JSON.stringify(receipt)}`))
          .catch((error: unknown) => console.error(`[tiercache] warm failed: ${(error as Error).message}`))
      )
    }
  },
} satisfies ExportedHandler<Env>
