/**
 * @module Per-user endpoints for the private-leak rules (design §4.1; RFC 9111 §3.5, §5.2.2.7).
 *
 * The user comes from `Authorization: Bearer <user>` or, failing that, `Cookie: user=<name>`. Each endpoint
 * pairs a user-specific (or not) body with a different `Cache-Control` / `Vary` so a test can check the
 * cache neither leaks one user's body to another nor refuses what it may share.
 */
import { header, intParam, problem, textReply, type OriginRequest, type Route } from '../http.ts'

/** Reads a cookie's value from the request (RFC 6265 §4.2.1). */
function cookie(req: Pick<OriginRequest, 'headers'>, name: string): string | undefined {
  for (const pair of (header(req, 'cookie') ?? '').split(';')) {
    const [key, ...rest] = pair.trim().split('=')
    if (key === name && rest.length > 0) return rest.join('=')
  }
  return undefined
}

/** The caller's identity, or `anonymous`. Bearer wins over the cookie. */
export function identify(req: Pick<OriginRequest, 'headers'>): string {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header(req, 'authorization') ?? '')
  return bearer?.[1] ?? cookie(req, 'user') ?? 'anonymous'
}

/**
 * The `/me*` routes, the per-user routes under `/p/` (for a tiercache route with `perUser`; the three
 * ways origins mark personal answers) and the per-cohort routes under `/cohort/` (answers that differ by
 * country or experiment bucket without saying so in `Vary`).
 */
export function identityRoutes(): Route[] {
  return [
    {
      // Per-user, marked private: cacheable for this user only (RFC 9111 §5.2.2.7 speaks to shared caches).
      // `?max-age=` sets the lifetime (the benchmark keeps entries fresh for a whole run).
      methods: ['GET'],
      pattern: '/p/private',
      handle: (req) => {
        const maxAge = intParam(req.query.get('max-age'), 0, 86_400, 60)
        if (maxAge === undefined) return problem(400, 'max-age must be 0..86400')
        return textReply(req, `hello ${identify(req)}, your private page`, { 'Cache-Control': `private, max-age=${maxAge}` })
      },
    },
    {
      // Per-user, plain max-age: a shared cache refuses it for a request with Authorization (§3.5).
      methods: ['GET'],
      pattern: '/p/plain',
      handle: (req) => textReply(req, `hello ${identify(req)}, your plain page`, { 'Cache-Control': 'max-age=60' }),
    },
    {
      // Per-user, public (wrongly): still personal; a per-user cache keeps it per user and sends it as private.
      methods: ['GET'],
      pattern: '/p/public',
      handle: (req) => textReply(req, `hello ${identify(req)}, your public page`, { 'Cache-Control': 'public, max-age=60' }),
    },
    {
      // Per-user, Vary: Cookie.
      methods: ['GET'],
      pattern: '/p/vary-cookie',
      handle: (req) => textReply(req, `hello ${identify(req)}, your cookie page`, { 'Cache-Control': 'max-age=60', Vary: 'Cookie' }),
    },
    {
      // Per-user and tagged per user, so the origin can purge one user's pages by tag.
      methods: ['GET'],
      pattern: '/p/tagged',
      handle: (req) =>
        textReply(req, `hello ${identify(req)}, your tagged page`, { 'Cache-Control': 'private, max-age=60', 'Cache-Tag': `user-${identify(req)}` }),
    },
    {
      // Differs by country (Cloudflare's CF-IPCountry) but sends no Vary: a per-cohort route keys on it.
      methods: ['GET'],
      pattern: '/cohort/country',
      handle: (req) => textReply(req, `prices for ${header(req, 'cf-ipcountry') ?? 'nowhere'}`, { 'Cache-Control': 'public, max-age=60' }),
    },
    {
      // Differs by the `ab` experiment cookie: a per-cohort route keys on the cookie's value.
      methods: ['GET'],
      pattern: '/cohort/ab',
      handle: (req) => textReply(req, `variant ${cookie(req, 'ab') ?? 'control'}`, { 'Cache-Control': 'public, max-age=60' }),
    },
    {
      // Correctly marked: a shared cache must not store it (§5.2.2.7).
      methods: ['GET'],
      pattern: '/me',
      handle: (req) => textReply(req, `hello ${identify(req)}`, { 'Cache-Control': 'private, max-age=60' }),
    },
    {
      // §3.5: a request with Authorization may be served from a shared cache when the response says public.
      // The body is the same for everyone, so sharing it is safe and expected.
      methods: ['GET'],
      pattern: '/me/shared',
      handle: (req) => textReply(req, 'the same for every signed-in user', { 'Cache-Control': 'public, max-age=60' }),
    },
    {
      // Careless origin, but honest Vary: a cache must key on both headers (hashed) or refuse to store.
      methods: ['GET'],
      pattern: '/me/leaky',
      handle: (req) =>
        textReply(req, `hello ${identify(req)}`, { 'Cache-Control': 'max-age=60', Vary: 'Authorization, Cookie' }),
    },
    {
      // Careless origin, no Vary: §3.5 forbids a shared cache from storing it when the request carried
      // Authorization (max-age alone does not allow it). With only a Cookie, nothing in HTTP forbids it.
      methods: ['GET'],
      pattern: '/me/implicit',
      handle: (req) => textReply(req, `hello ${identify(req)}`, { 'Cache-Control': 'max-age=60' }),
    },
  ]
}
