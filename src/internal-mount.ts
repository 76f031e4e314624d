/**
 * @module The internal routes (purge webhook, health, stats) for a worker author's own Hono app:
 * `app.route('/__tiercache', tiercacheRoutes())`.
 *
 * A Hono sub-app, not a middleware: `app.route(path, subApp)` is how Hono composes route groups, the
 * mount path is visible in the app's own code next to its other routes, and the sub-app's 404s stay
 * inside its prefix. The routes use the isolate's shared engine (src/isolate-engine.ts), the one the
 * app's `tieredCache` middleware and `dataCache(c)` use, so a purge evicts this isolate's memory at once,
 * deletes from Redis and the edge, and records in the purge log that other isolates read within δ.
 */
import { Hono, type Context } from 'hono'
import { createEngine, type Engine } from './engine.ts'
import { engineOptionsFromEnv, readPurgeConfig, type Env, type WorkerConfig } from './env.ts'
import { ConfigError } from './errors.ts'
import { internalRoutes } from './internal.ts'
import { isolateEngine, offerIsolateEngine } from './isolate-engine.ts'
import { resolveOptions } from './options.ts'

interface Mounted {
  engine: Engine
  config: Pick<WorkerConfig, 'purge' | 'warnings'>
  routes: Hono<{ Bindings: Env }>
}

/**
 * The signed purge webhook (`POST /purge`), `GET /health` and `GET /stats` (Bearer `INTERNAL_TOKEN`),
 * `POST /memory/clear` and the dashboard (everything src/internal.ts serves but `/warm`), as a Hono sub-app to mount at the engine's `internalPrefix`
 * (`/__tiercache` unless the middleware's options set another):
 *
 * ```ts
 * app.route('/__tiercache', tiercacheRoutes())
 * ```
 *
 * Secrets come from the Worker's env by the stand-alone worker's names: `PURGE_SECRET` (and
 * `PURGE_SECRET_PREVIOUS` during a rotation; at least 16 characters), `PURGE_MAX_BYTES`, `INTERNAL_TOKEN`.
 * Without `PURGE_SECRET` the purge route answers 404, as the stand-alone worker's does: never an
 * unsigned purge. Without `INTERNAL_TOKEN` the stats route answers 401.
 *
 * The engine is the isolate's shared one (the first `tieredCache` created, or the one `dataCache` built);
 * when neither exists, one is built from the env's standard variables (as `dataCache` would) and shared.
 *
 * A mount path other than the engine's `internalPrefix` is refused (500 with the ConfigError's message on
 * each request): the middleware skips only its internal prefix, so it would otherwise cache these routes.
 * Warming (`POST /warm`) is the stand-alone worker's alone: it needs to send requests through the app.
 */
export function tiercacheRoutes<E extends object = any>(): Hono<{ Bindings: E }> {
  let mounted: Mounted | undefined
  let ownEngine: Engine | undefined
  const mount = (env: unknown): Mounted => {
    // Rebuilt only if the isolate's shared engine changes (tests reset it between app instances).
    const engine =
      isolateEngine(env) ??
      (ownEngine ??= (() => {
        const built = createEngine(resolveOptions(engineOptionsFromEnv((env ?? {}) as Env)))
        offerIsolateEngine(() => built)
        return built
      })())
    if (mounted?.engine === engine) return mounted
    const warnings: string[] = []
    const config = { purge: readPurgeConfig((env ?? {}) as Env, warnings), warnings }
    for (const warning of warnings) console.warn(`[tiercache] ${warning}`)
    mounted = { engine, config, routes: internalRoutes(config, engine) }
    return mounted
  }

  /** A configuration error, logged and answered as such (the app's author has to fix it; nothing is cached). */
  const misconfigured = (c: Context, detail: string): Response => {
    console.error(detail)
    return c.json({ error: 'tiercache is misconfigured', detail }, 500, { 'cache-control': 'no-store' })
  }

  const app = new Hono<{ Bindings: E }>()
  app.all('*', (c: Context) => {
    let current: Mounted
    try {
      current = mount(c.env)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      return misconfigured(c, error.message)
    }
    const { internalPrefix } = current.engine.options
    const path = c.req.path
    if (path !== internalPrefix && !path.startsWith(`${internalPrefix}/`)) {
      const detail = new ConfigError(
        `tiercacheRoutes() is mounted where ${path} reaches it, outside the cache's internalPrefix "${internalPrefix}": ` +
          `write app.route('${internalPrefix}', tiercacheRoutes()), or set internalPrefix in tieredCache's options to the mount path`
      ).message
      return misconfigured(c, detail)
    }
    const url = new URL(c.req.url)
    url.pathname = path.slice(internalPrefix.length) || '/'
    let ctx: Context['executionCtx'] | undefined
    try {
      ctx = c.executionCtx
    } catch {
      // app.request() without an execution context (tests): background work runs detached.
    }
    return current.routes.fetch(new Request(url, c.req.raw), c.env, ctx)
  })
  return app
}
