/**
 * @module Per-user endpoints for the private-leak rules (design §4.1; RFC 9111 §3.5, §5.2.2.7).
 *
 * The user comes from `Authorization: Bearer <user>` or, failing that, `Cookie: user=<name>`. Each endpoint
 * pairs a user-specific (or not) body with a different `Cache-Control` / `Vary` so a test can check the
 * cache neither leaks one user's body to another nor refuses what it may share.
 */
import { header, textReply, type OriginRequest, type Route } from '../http.ts'

/** Reads `user=<name>` from a `Cookie` header (RFC 6265 §4.2 cookie-string). */
function cookieUser(cookie: string | undefined): string | undefined {
  for (const pair of (cookie ?? '').split(';')) {
    const [name, ...rest] = pair.trim().split('=')
    if (name === 'user' && rest.length > 0) return rest.join('=')
  }
  return undefined
}

/** The caller's identity, or `anonymous`. Bearer wins over the cookie. */
export function identify(req: Pick<OriginRequest, 'headers'>): string {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header(req, 'authorization') ?? '')
  return bearer?.[1] ?? cookieUser(header(req, 'cookie')) ?? 'anonymous'
}

/** The `/me*` routes. */
export function identityRoutes(): Route[] {
  return [
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
