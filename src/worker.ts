/**
 * @module The deployable worker: tiercache in front of `ORIGIN_URL`.
 * Internal routes live under `INTERNAL_PREFIX` (default `/__tiercache`); every other request is
 * answered by the cache or proxied to the origin.
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { createEngine, type Engine } from './engine.ts'
import { readWorkerConfig, type Env, type WorkerConfig } from './env.ts'
import { ConfigError } from './errors.ts'
import { tieredCacheWithEngine } from './middleware.ts'
import { buildOriginRequest, fetchOrigin } from './origin.ts'
import { internalRoutes } from './internal.ts'
import { stripUnkeyedHeaders } from './policy/key.ts'

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
  const origin = (request: Request) =>
    fetchOrigin(buildOriginRequest(request, config.originUrl, stripUnkeyedHeaders), config.options.originTimeoutMs)
  isolate = { env, config, engine, cache: tieredCacheWithEngine(engine, origin), internal: internalRoutes(config, engine) }
  return isolate
}

const app = new Hono<{ Bindings: Env }>()

app.all('*', async (c, next) => {
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
  return current.cache(c, next)
})

export default {
  fetch: app.fetch,
  /** Cron trigger: sends zone purges a 429 or the rate budget left queued (wrangler.toml [triggers]). */
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    const zone = isolateFor(env).engine.zone
    if (zone) ctx.waitUntil(zone.drain().then((outcome) => console.log(`[tiercache] zone purge drain: ${JSON.stringify(outcome)}`)))
  },
} satisfies ExportedHandler<Env>
