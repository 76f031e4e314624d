/**
 * @module Cache-policy endpoints: one URL per `Cache-Control` situation a shared cache must get right
 * (RFC 9111 §3 storing, §4.2 freshness, §5.2.2 response directives; RFC 9213 targeted fields; RFC 5861 stale
 * extensions). Each answers GET and HEAD with a body that names the policy and the origin serial.
 */
import { intParam, problem, textReply, type HeaderMap, type OriginRequest, type Reply, type Route } from '../http.ts'

/** Identifiers allowed in `:id` segments; keeps them safe inside quoted ETags and header values. */
const ID = /^[A-Za-z0-9._-]{1,100}$/

/** Validates `req.params.id` and hands it to `then`, or answers 400. */
export function withId<R extends Reply | Promise<Reply>>(req: OriginRequest, then: (id: string) => R): R | Reply {
  const id = req.params['id'] ?? ''
  return ID.test(id) ? then(id) : problem(400, `invalid id ${JSON.stringify(id)}: use [A-Za-z0-9._-]{1,100}`)
}

/** A route whose answer is a fixed header set, with a body naming the endpoint. */
const fixed = (pattern: string, message: string, headers: HeaderMap): Route => ({
  methods: ['GET'],
  pattern,
  handle: (req) => textReply(req, message, headers),
})

/** Largest `max-age` accepted: RFC 9111 §1.2.2 caps delta-seconds at 2^31 for recipients. */
const MAX_DELTA_SECONDS = 2_147_483_648

/**
 * The policy routes. `startedAt` anchors `Last-Modified` so validators stay stable for the process lifetime
 * and 304s are reproducible.
 */
export function policyRoutes(startedAt: number): Route[] {
  const lastModified = new Date(Math.floor(startedAt / 1000) * 1000).toUTCString()
  return [
    {
      // The plain case: shareable, fresh 60 s, both validators, 304 on either (If-None-Match wins).
      methods: ['GET'],
      pattern: '/public/:id',
      handle: (req) =>
        withId(req, (id) =>
          textReply(req, `public resource ${id}`, {
            'Cache-Control': 'public, max-age=60',
            ETag: `"public-${id}"`,
            'Last-Modified': lastModified,
          })
        ),
    },
    {
      methods: ['GET'],
      pattern: '/max-age/:seconds',
      handle: (req) => {
        const seconds = intParam(req.params['seconds'], 0, MAX_DELTA_SECONDS)
        if (seconds === undefined) return problem(400, `seconds must be a whole number 0..${MAX_DELTA_SECONDS}`)
        return textReply(req, `fresh for ${seconds} seconds`, { 'Cache-Control': `max-age=${seconds}` })
      },
    },
    // RFC 9111 §5.2.2.10: s-maxage overrides max-age for shared caches only (and forbids serving stale).
    fixed('/s-maxage', 'shared caches keep this 120 s, browsers 10 s', { 'Cache-Control': 'max-age=10, s-maxage=120' }),
    // RFC 9213: the targeted field decides for the CDN; Cache-Control is what browsers see.
    fixed('/cdn', 'CDN-Cache-Control says 300 s, Cache-Control says 5 s', {
      'CDN-Cache-Control': 'max-age=300',
      'Cache-Control': 'max-age=5',
    }),
    // The most specific targeted field wins: Cloudflare-CDN-Cache-Control > CDN-Cache-Control > Cache-Control.
    fixed('/cf-cdn', 'Cloudflare-CDN-Cache-Control says 600 s, the others 300 s and no-store', {
      'Cloudflare-CDN-Cache-Control': 'max-age=600',
      'CDN-Cache-Control': 'max-age=300',
      'Cache-Control': 'no-store',
    }),
    // RFC 5861 §3: serve stale for 30 s while one background refresh runs. max-age=2 rather than 1:
    // `Date` has one-second resolution, so a refreshed copy stays fresh for at least a second.
    fixed('/swr', 'stale-while-revalidate for 30 s after 2 s', {
      'Cache-Control': 'max-age=2, stale-while-revalidate=30',
    }),
    // RFC 5861 §4: serve stale for 60 s when the origin errors (toggle the fault switch).
    // Long-lived with a stale-while-revalidate window: a soft purge's clean target (no validators).
    fixed('/swr-long', 'fresh 300 s, then stale-while-revalidate for 60 s', {
      'Cache-Control': 'max-age=300, stale-while-revalidate=60',
    }),
    fixed('/sie', 'stale-if-error for 60 s after 1 s', { 'Cache-Control': 'max-age=1, stale-if-error=60' }),
    // RFC 9111 §5.2.2.5: must not be stored at all.
    fixed('/no-store', 'never stored', { 'Cache-Control': 'no-store' }),
    {
      // RFC 9111 §5.2.2.4: may be stored, but every use needs a successful revalidation (304 here).
      methods: ['GET'],
      pattern: '/no-cache',
      handle: (req) => textReply(req, 'stored but revalidated on every use', { 'Cache-Control': 'no-cache', ETag: '"no-cache-v1"' }),
    },
    // RFC 9111 §5.2.2.2: once stale, must not be served without revalidation, stale-if-error notwithstanding.
    // With a validator, so a cache keeps the stale copy to revalidate: must-revalidate must still refuse it.
    fixed('/must-revalidate', 'must-revalidate beats stale-if-error', {
      'Cache-Control': 'max-age=1, must-revalidate, stale-if-error=60',
      ETag: '"must-revalidate-v1"',
    }),
    // RFC 9111 §5.2.2.7: a shared cache must not store it.
    fixed('/private', 'private to one user', { 'Cache-Control': 'private, max-age=60' }),
    {
      // RFC 9111 §5.2.2.7 qualified form: storable by a shared cache once the named field is left out.
      methods: ['GET'],
      pattern: '/private-field',
      handle: (req) =>
        textReply(req, 'shareable apart from Set-Cookie', {
          'Cache-Control': 'private="Set-Cookie", max-age=60',
          'Set-Cookie': `pref=${req.serial}; Path=/`,
        }),
    },
    {
      // Publicly cacheable, yet carries a per-client cookie: design §3 says never store Set-Cookie.
      methods: ['GET'],
      pattern: '/set-cookie',
      handle: (req) =>
        textReply(req, 'public body with a session cookie', {
          'Cache-Control': 'public, max-age=60',
          'Set-Cookie': `session=${req.serial}; Path=/; HttpOnly`,
        }),
    },
    {
      // Tags for purge by tag, in both the Cloudflare (comma) and Fastly (space) spellings.
      methods: ['GET'],
      pattern: '/tagged/:id',
      handle: (req) =>
        withId(req, (id) =>
          textReply(req, `product ${id}`, {
            'Cache-Control': 'max-age=300',
            'Cache-Tag': `product-${id},products`,
            'Surrogate-Key': `product-${id} products`,
          })
        ),
    },
  ]
}
