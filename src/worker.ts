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

/** Everything the worker keeps per isolate, rebuilt only if the env object changes. */
interface Isolate {
  env: Env
  config: WorkerConfig
  engine: Engine
  cache: MiddlewareHandler
  internal: Hono<{ Bindings: Env }>
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
  isolate = { env, config, engine, cache: tieredCacheWithEngine(engine, origin), internal: internalRoutes(config, engine) }
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

export default {
  fetch: app.fetch,
  /** Cron trigger: sends zone purges a 429 or the rate budget left queued (wrangler.toml [triggers]). */
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    const zone = isolateFor(env).engine.zone
    if (zone) ctx.waitUntil(zone.drain().then((outcome) => console.log(`[tiercache] zone purge drain: ${JSON.stringify(outcome)}`)))
  },
} satisfies ExportedHandler<Env>
