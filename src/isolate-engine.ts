/**
 * @module The engine an isolate's HTTP middleware and data API share.
 *
 * A Worker author writes `app.use('/api/*', tieredCache(...))` and calls `dataCache(c)` in other handlers;
 * both must use one memory tier, one edge cache, one Redis client and one purge-log view per isolate, or
 * the isolate would read the log twice per δ and keep two copies of hot values. The first middleware (or
 * worker) created in the isolate offers its engine here; the data API takes it from the request when that
 * middleware ran on it, and from here otherwise. A factory-configured middleware offers a provider that
 * needs the Worker's `env`, so its engine is built by whichever comes first: its own first request or the
 * first `dataCache(c)` call.
 */
import type { Context } from 'hono'
import type { Engine } from './engine.ts'

/** Builds (once) or returns the isolate's engine from the Worker's env. */
export type EngineProvider = (env: unknown) => Engine

let provider: EngineProvider | undefined

/** Offers `next` as the isolate's shared engine; the first offer wins (later middlewares keep their own). */
export function offerIsolateEngine(next: EngineProvider): void {
  provider ??= next
}

/** The isolate's shared engine, built from `env` if it has not been yet; undefined when nothing offered one. */
export function isolateEngine(env: unknown): Engine | undefined {
  return provider?.(env)
}

/** Context variable under which the middleware leaves its engine for the request's handlers. */
const ENGINE_VAR = 'tiercache.engine'

/** Marks `c` as handled by `engine` (the middleware does this before running the handler). */
export function attachEngine(c: Context, engine: Engine): void {
  c.set(ENGINE_VAR as never, engine as never)
}

/** The engine of the middleware that ran on this request, if one did. */
export function attachedEngine(c: Context): Engine | undefined {
  return c.get(ENGINE_VAR as never) as Engine | undefined
}

/** Forgets the offered engine (tests only: one module instance serves many app instances there). */
export function resetIsolateEngine(): void {
  provider = undefined
}
