/**
 * @module The operator dashboard, mounted at `<internal prefix>/dashboard`:
 *
 * - `GET /dashboard`: the page with a valid session cookie, else the sign-in form;
 * - `POST /dashboard`: signs in (form field `token` = `INTERNAL_TOKEN`) and redirects to the page (303);
 *   a wrong token gets the form again with a 401 and a clear message;
 * - `POST /dashboard/logout`: ends the session;
 * - `GET /dashboard/status`: JSON the page polls besides `/stats`: Redis health and the breaker, and this
 *   isolate's purge-log view with its newest records (session cookie or Bearer token).
 *
 * Sign-in is POST only and the cookie is `SameSite=Strict`, so no other site can sign a browser in or
 * make it send the cookie; requests a browser marks `Sec-Fetch-Site: cross-site` are refused as well.
 * Nothing the cookie unlocks changes state (stats are GETs; `/memory/clear` still needs the Bearer
 * token); a state-changing button would need a CSRF token on top.
 */
import { Hono, type Context } from 'hono'
import type { Engine } from '../../engine.ts'
import type { Env } from '../../env.ts'
import { timingSafeEqualText } from '../../purge/timing-safe.ts'
import { readBoundedText } from '../../purge/read-bounded.ts'
import type { PurgeRecord } from '../../coherence/purge-record.ts'
import { dashboardPage, documentHeaders, loginPage, type LoginMessage } from './page.ts'
import { hasSession, isLoopbackHttp, issueSession, sessionCookie } from './session.ts'

/** How often the page polls, in ms. */
export const POLL_MS = 3000
/** Largest sign-in body read: a form with one token field. */
export const LOGIN_MAX_BYTES = 4096
/** Purge records `/dashboard/status` lists, and items shown per list in each. */
export const RECENT_PURGES = 20
const LIST_ITEMS = 20

type DashboardContext = Context<{ Bindings: Env }>

const html = async (body: string, status: number, extra: Record<string, string> = {}): Promise<Response> =>
  new Response(body, { status, headers: { ...(await documentHeaders()), ...extra } })

/** A record with each list cut to {@link LIST_ITEMS} (the count of the rest in `more`). */
const summarise = (record: PurgeRecord) => {
  const cut = (items: readonly string[]) => items.slice(0, LIST_ITEMS)
  const more = record.urls.length + record.tags.length + record.prefixes.length - cut(record.urls).length - cut(record.tags).length - cut(record.prefixes).length
  return { seq: record.seq, t: record.t, all: record.all, soft: record.soft, urls: cut(record.urls), tags: cut(record.tags), prefixes: cut(record.prefixes), more }
}

/** Plain http to a host that is not loopback: the `Secure` cookie will not be kept (session.ts). */
const plainHttp = (c: DashboardContext): boolean => {
  const url = new URL(c.req.url)
  return url.protocol === 'http:' && !isLoopbackHttp(url)
}
const PLAIN_HTTP: LoginMessage = {
  notice: 'This page came over plain http: the session cookie is Secure, so the browser will not keep it. Open it over https.',
}

/** `Sec-Fetch-Site: cross-site` (Fetch Metadata): a browser says another site started this request. */
const crossSite = (c: DashboardContext): boolean => c.req.header('sec-fetch-site') === 'cross-site'

/** Builds the dashboard sub-app; `prefix` is the internal prefix (the cookie's `Path`). */
export function dashboardRoutes(engine: Engine, prefix: string): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>()
  const { options, tiers, coherence } = engine
  const noToken: LoginMessage = {
    form: false,
    notice: 'The dashboard is off: this worker has no INTERNAL_TOKEN. Set one (wrangler secret put INTERNAL_TOKEN, or .dev.vars for wrangler dev) and reload.',
  }

  app.get('/', async (c) => {
    const token = c.env.INTERNAL_TOKEN
    if (!token) return html(loginPage(prefix, noToken), 401)
    if (await hasSession(c.req.raw, token, options.now())) return html(dashboardPage(prefix, POLL_MS), 200)
    return html(loginPage(prefix, plainHttp(c) ? PLAIN_HTTP : {}), 200)
  })

  app.post('/', async (c) => {
    const token = c.env.INTERNAL_TOKEN
    if (!token) return html(loginPage(prefix, noToken), 401)
    if (crossSite(c)) return html(loginPage(prefix, { error: 'Sign-in refused: the form was sent from another site.' }), 403)
    // The form is urlencoded (HTML's default enctype); nothing else is parsed.
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/x-www-form-urlencoded') {
      return html(loginPage(prefix, { error: 'Sign in with the form: send the token as the urlencoded form field "token".' }), 400)
    }
    const text = await readBoundedText(c.req.raw, LOGIN_MAX_BYTES)
    if (text === undefined) return html(loginPage(prefix, { error: `The form is larger than ${LOGIN_MAX_BYTES} bytes.` }), 413)
    const given = new URLSearchParams(text).get('token')
    if (!given) return html(loginPage(prefix, { error: 'Enter the token.' }), 400)
    if (!timingSafeEqualText(given, token)) {
      return html(loginPage(prefix, { error: "Wrong token: that is not this worker's INTERNAL_TOKEN." }), 401)
    }
    const url = new URL(c.req.url)
    return new Response(null, {
      status: 303,
      headers: {
        location: `${prefix}/dashboard`,
        'set-cookie': sessionCookie(await issueSession(token, options.now()), prefix, url),
        'cache-control': 'no-store, private',
      },
    })
  })

  app.post('/logout', (c) => {
    if (crossSite(c)) return html(loginPage(prefix, { error: 'Sign-out refused: the form was sent from another site.' }), 403)
    return new Response(null, {
      status: 303,
      headers: { location: `${prefix}/dashboard`, 'set-cookie': sessionCookie(undefined, prefix, new URL(c.req.url)), 'cache-control': 'no-store, private' },
    })
  })

  app.get('/status', async (c) => {
    const redis = tiers.redis
    // Like a request about to serve a hit: bring the view within δ (at most one log read per δ, skipped
    // while the breaker is open), so purges sent through other isolates show up here too.
    if (redis) {
      let ctx: { waitUntil(promise: Promise<unknown>): void } | undefined
      try {
        ctx = c.executionCtx
      } catch {
        ctx = undefined
      }
      await coherence.ensureFresh(options.coherenceDeltaMs, ctx)
    }
    const viewAgeMs = coherence.viewAge()
    return c.json(
      {
        now: options.now(),
        redis: redis ? { configured: true, breaker: redis.breakerState(), failing: coherence.failing, errors: redis.health.recentErrors() } : { configured: false },
        purgeLog: {
          shared: coherence.shared,
          viewAgeMs: Number.isFinite(viewAgeMs) ? Math.max(0, Math.round(viewAgeMs)) : null,
          deltaMs: options.coherenceDeltaMs,
          failing: coherence.failing,
          ...coherence.window(),
          recent: coherence.recent(RECENT_PURGES).map(summarise),
        },
      },
      200,
      { 'cache-control': 'no-store, private', 'x-content-type-options': 'nosniff' }
    )
  })

  app.all('*', (c) => c.json({ error: 'not found' }, 404))
  return app
}
