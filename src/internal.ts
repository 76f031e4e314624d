/**
 * @module Internal routes, mounted under the internal prefix (default `/__tiercache`):
 * `GET /health` (public: liveness, which tiers are on and whether any is degraded and why, no secrets), `GET /stats` (JSON, or
 * Prometheus text with `?format=prometheus`) and `POST /memory/clear`; the last two require
 * `Authorization: Bearer <INTERNAL_TOKEN>`. `POST /purge` and `POST /warm` are signed with the purge
 * secrets instead (src/purge/route.ts, src/warm/route.ts). `GET /dashboard` is the operator page
 * (src/observe/dashboard/): its session cookie also opens the GET routes here (`/stats`,
 * `/dashboard/status`), never `/memory/clear`.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import type { Engine } from './engine.ts'
import type { Env, WorkerConfig } from './env.ts'
import { timingSafeEqualText } from './purge/timing-safe.ts'
import { handlePurge } from './purge/route.ts'
import { dashboardRoutes } from './observe/dashboard/routes.ts'
import { hasSession } from './observe/dashboard/session.ts'
import { handleWarm } from './warm/route.ts'
import type { Warmer } from './warm/warmer.ts'
import type { FleetHotKey } from './observe/hot-set.ts'

/**
 * `Authorization: Bearer <token>` (RFC 6750 §2.1). The scheme is matched case-insensitively (RFC 9110
 * §11.1: "It uses a case-insensitive token"), followed by one or more spaces (§11.4: auth-scheme
 * [ 1*SP ...]); a bare token or another scheme is refused, like a wrong token.
 */
const BEARER = /^Bearer +(\S+)$/i

/**
 * `/health` reports the purge-log view as degraded once it is this many δ old (after trying to refresh
 * it): purges may then be served later than δ promises.
 */
export const HEALTH_VIEW_AGE_DELTAS = 3

const requireToken: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const token = c.env.INTERNAL_TOKEN
  const given = BEARER.exec(c.req.header('authorization') ?? '')?.[1]
  if (!token || given === undefined || !timingSafeEqualText(given, token)) {
    // The dashboard's session cookie (SameSite=Strict) opens reads only: nothing it unlocks changes state.
    if (c.req.method === 'GET' && given === undefined && (await hasSession(c.req.raw, token, Date.now()))) return next()
    return c.json({ error: 'unauthorized' }, 401, { 'www-authenticate': 'Bearer', 'cache-control': 'no-store' })
  }
  await next()
}

/** Hot keys listed by the stats route. */
export const STATS_HOT_KEYS = 20

/** What the warm route needs from the worker: the warmer, and a way to send a request through the worker. */
export interface WarmAccess {
  warmer: Warmer
  serve(request: Request, env: Env, ctx: Context['executionCtx']): Promise<Response>
}

/**
 * The stats route's hot keys: this isolate's sketch (no I/O, so polling the stats costs Upstash nothing), or
 * with `fleet` the fleet's merged set — this isolate's counts merged first, then read: two Upstash requests —
 * falling back to the isolate's when Redis does not answer.
 */
async function hotKeysOf(engine: Engine, fleet: boolean): Promise<{ hotKeys: FleetHotKey[]; hotKeysScope: 'fleet' | 'isolate' }> {
  if (fleet && engine.hotSet) {
    try {
      await engine.observer.mergeNow()
      return { hotKeys: await engine.hotSet.top(STATS_HOT_KEYS), hotKeysScope: 'fleet' }
    } catch {
      // Redis unavailable: this isolate's own view is still worth showing.
    }
  }
  const local = engine.observer.sketch?.top(STATS_HOT_KEYS) ?? []
  return { hotKeys: local.map(({ key, count, bytes, tier }) => ({ key, count, bytes, tier })), hotKeysScope: 'isolate' }
}

/** Builds the internal sub-app for one isolate. */
export function internalRoutes(config: Pick<WorkerConfig, 'purge' | 'warnings'>, engine: Engine, warm?: WarmAccess): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>()
  const { tiers, stats, options } = engine

  app.get('/health', async (c) => {
    const now = options.now()
    const reasons: string[] = []
    let redis: Record<string, unknown> = { configured: false }
    if (tiers.redis) {
      // The view first (one read at most, skipped while the breaker is open), then a write probe: a
      // Redis that is out of memory or read-only still answers reads.
      // Sharing what it read with the data centre's other isolates runs after the answer, where there is a context to run it in.
      let ctx: { waitUntil(promise: Promise<unknown>): void } | undefined
      try {
        ctx = c.executionCtx
      } catch {
        ctx = undefined
      }
      await engine.coherence.ensureFresh(options.coherenceDeltaMs, undefined, ctx)
      // Errors since the last successful probe (this probe supersedes earlier probes' own).
      const errors = tiers.redis.health.recentErrors().filter((e) => e.operation !== 'health probe')
      const started = Date.now()
      let probe: Record<string, unknown>
      try {
        await tiers.redis.probe()
        probe = { ok: true, latencyMs: Date.now() - started }
        tiers.redis.health.clearErrors()
      } catch (error) {
        const [failure] = tiers.redis.health.recentErrors().filter((e) => e.operation === 'health probe')
        probe = { ok: false, error: (error as Error).message, reason: failure?.reason, detail: failure?.message }
        if (failure) errors.unshift(failure)
      }
      const breaker = tiers.redis.breakerState()
      if (probe.ok !== true) reasons.push('redis-probe-failed')
      if (breaker !== 'closed') reasons.push(`redis-breaker-${breaker}`)
      for (const reason of new Set(errors.map((e) => e.reason))) reasons.push(`redis-errors-${reason}`)
      const viewAgeMs = engine.coherence.viewAge()
      if (viewAgeMs > HEALTH_VIEW_AGE_DELTAS * options.coherenceDeltaMs) reasons.push('purge-log-view-old')
      redis = {
        configured: true,
        reachable: probe.ok === true,
        probe,
        breaker,
        errors,
        purgeLog: {
          viewAgeMs: Number.isFinite(viewAgeMs) ? viewAgeMs : null,
          deltaMs: options.coherenceDeltaMs,
          failing: engine.coherence.failing,
          ...engine.coherence.window(),
        },
      }
    }
    const edgeReason = tiers.edge?.unavailableReason(now)
    const edge = tiers.edge ? { configured: true, available: !edgeReason, ...(edgeReason ? { reason: edgeReason } : {}) } : { configured: false }
    if (edgeReason) reasons.push(`edge-${edgeReason}`)
    return c.json(
      { ok: true, degraded: reasons.length > 0, reasons, tiers: { memory: { configured: Boolean(tiers.memory) }, edge, redis }, warnings: config.warnings },
      200,
      { 'cache-control': 'no-store' }
    )
  })

  // Operator routes: Bearer INTERNAL_TOKEN, compared in constant time; no token configured → 401.
  app.use('/stats', requireToken)
  app.use('/memory/*', requireToken)
  app.use('/dashboard/status', requireToken)
  app.route('/dashboard', dashboardRoutes(engine, options.internalPrefix))

  /** Drops this isolate's memory tier (an operator tool; other isolates are unaffected). */
  app.post('/memory/clear', (c) => {
    tiers.memory?.clear()
    return c.json({ cleared: true }, 200, { 'cache-control': 'no-store' })
  })

  app.get('/stats', async (c) => {
    const now = options.now()
    const memory = tiers.memory?.stats()
    const gauges: Record<string, number> = memory
      ? { memory_bytes: memory.bytes, memory_peak_bytes: memory.peakBytes, memory_max_bytes: memory.maxBytes, memory_entries: memory.entries }
      : {}
    const viewAge = engine.coherence.viewAge(now)
    const coherence = {
      viewAgeMs: engine.purgeLog && Number.isFinite(viewAge) ? Math.max(0, Math.round(viewAge)) : null,
      deltaMs: options.coherenceDeltaMs,
      knownSeq: engine.coherence.window().knownSeq,
      failing: engine.coherence.failing,
    }
    const edgeReason = tiers.edge?.unavailableReason(now)
    const edge = tiers.edge
      ? {
          available: !edgeReason,
          ...(edgeReason ? { reason: edgeReason } : {}),
          hits: stats.get('edge_hits'),
          misses: stats.get('edge_misses'),
          stores: stats.get('edge_stores'),
          errors: stats.get('edge_errors'),
        }
      : null
    const warming = { running: (warm?.warmer.runs.running ?? 0) > 0, runs: warm?.warmer.runs.runs ?? [] }
    // Hot keys first (with `?hotKeys=fleet`, a merge and a read): the Upstash counts below then include them.
    const hot = c.req.query('format') === 'prometheus' ? undefined : await hotKeysOf(engine, c.req.query('hotKeys') === 'fleet')
    const upstash = engine.upstash ? { requests: engine.upstash.requests, commands: engine.upstash.commands, errors: engine.upstash.errors } : null
    if (!hot) {
      if (coherence.viewAgeMs !== null) gauges.purge_log_view_age_ms = coherence.viewAgeMs
      if (edge) gauges.edge_available = edge.available ? 1 : 0
      gauges.warm_running = warm?.warmer.runs.running ?? 0
      const counters: Record<string, number> = upstash ? { upstash_requests: upstash.requests, upstash_commands: upstash.commands, upstash_errors: upstash.errors } : {}
      return c.text(stats.prometheus(gauges, counters), 200, { 'content-type': 'text/plain; version=0.0.4', 'cache-control': 'no-store' })
    }
    const counters = { ...stats.snapshot(), ...(upstash ? { upstash_requests: upstash.requests, upstash_commands: upstash.commands } : {}) }
    return c.json(
      {
        counters,
        memory: memory ?? null,
        redis: tiers.redis ? { breaker: tiers.redis.breakerState() } : null,
        edge,
        upstash,
        coherence,
        ...hot,
        warming,
        latency: stats.latency.snapshot(),
      },
      200,
      { 'cache-control': 'no-store' }
    )
  })

  /** The signed purge webhook (src/purge/route.ts). */
  app.post('/purge', (c) =>
    handlePurge(c, engine.fanout, { ...config.purge, ignoreQueryParams: options.ignoreQueryParams, now: options.now })
  )

  /** The signed warm route (src/warm/route.ts): a list, a sitemap or the hot set, within the run's budget. */
  if (warm) {
    app.post('/warm', (c) =>
      handleWarm(c, warm.warmer, { ...config.purge, now: options.now }, (request) => warm.serve(request, c.env, c.executionCtx))
    )
  }

  app.all('*', (c) => c.json({ error: 'not found' }, 404))
  return app
}
