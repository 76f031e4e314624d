/**
 * @module Whether a shared cache may store a response (RFC 9111 §3, §3.1, §3.5, §5.2.2.3) and which
 * header fields it must leave out. A refusal carries a short stable reason for `Cache-Status`
 * (`fwd-status`/`detail`) and stats.
 */
import type { Directives } from './cache-control.ts'
import { fieldNames } from './cache-control.ts'
import {
  DEFAULT_CACHEABLE_STATUSES,
  HEURISTICALLY_CACHEABLE_STATUSES,
  UNDERSTOOD_STATUSES,
  isErrorStatus,
  isStorableStatus,
} from './status.ts'
import { splitList } from './syntax.ts'
import { parseVary } from './vary.ts'

/** Why a response was not stored. Stable strings: they appear in headers and metrics. */
export const NotStorableReason = {
  Method: 'method',
  Status: 'status',
  MustUnderstand: 'must-understand',
  NoStore: 'no-store',
  /** The request's own `no-store` (§5.2.1.5): this response may not be stored, though others for the URL may. */
  RequestNoStore: 'request-no-store',
  Private: 'private',
  VaryStar: 'vary-star',
  Authorization: 'authorization',
  SetCookie: 'set-cookie',
  NoFreshness: 'no-freshness',
} as const
export type NotStorableReason = (typeof NotStorableReason)[keyof typeof NotStorableReason]

/**
 * Header fields a cache never stores (RFC 9111 §3.1): hop-by-hop fields ("The Connection header field
 * and fields whose names are listed in it are required ... to be removed before forwarding the
 * message. This MAY be implemented by doing so before storage") and the proxy-specific fields that
 * "MUST NOT be stored, unless the cache incorporates the identity of that proxy into the cache key".
 */
export const UNSTORED_HEADERS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authentication-info',
  'proxy-authorization',
]

/** Input to {@link isStorable}. */
export type StorabilityInput = {
  /** Request method; case-sensitive (RFC 9110 §9.1). */
  method: string
  status: number
  requestHeaders: Headers
  responseHeaders: Headers
  /** The response directives that govern our tiers (from `selectTargetedDirectives`). */
  directives: Directives
  /** The request's directives (from `parseRequestDirectives`). */
  requestDirectives: Directives
  /**
   * Which field `directives` came from. When it is a targeted field (not `'cache-control'`),
   * `Expires` is ignored (RFC 9213 §2.2). @default 'cache-control'
   */
  source?: string
  options: {
    /**
     * Statuses stored without explicit freshness information (their lifetime is then heuristic or 0).
     * Error statuses (4xx/5xx) listed here still need explicit freshness (design.md §4 rule 3).
     * @default DEFAULT_CACHEABLE_STATUSES (200, 203, 204, 300, 301, 308)
     */
    cacheableStatuses?: ReadonlySet<number>
    /**
     * Store responses to requests with `Authorization` whatever the response says. Only for opt-in
     * per-user caching, where the key holds a hash of the identity (design.md §4 rule 1).
     * @default false
     */
    allowAuthorized?: boolean
    /**
     * Store responses marked `private` (unqualified). Only for opt-in per-user caching: the entry is then
     * a private cache's entry for that one user (RFC 9111 §5.2.2.7 forbids it to *shared* caches), keyed
     * on a hash of the identity and sent downstream as `private` (design.md §4 rule 1).
     * @default false
     */
    allowPrivate?: boolean
    /**
     * Store a 206 (Partial Content) answer to a range request: RFC 9111 §3.3 lets a cache that
     * understands ranges store one; tiercache then serves the ranges it holds.
     * @default false
     */
    allowPartial?: boolean
    /**
     * Store the error statuses RFC 9110 §15.1 calls heuristically cacheable (404, 405, 410, 414, 501)
     * without explicit freshness when they carry `Last-Modified`, which a heuristic lifetime needs (RFC
     * 9111 §4.2.2); the caller keeps that lifetime short. Other errors still need explicit freshness.
     * @default false
     */
    heuristicErrors?: boolean
  }
}

/** The verdict of {@link isStorable}. `stripHeaders` are lower-cased names to drop before storing. */
export type StorabilityResult =
  | { storable: true; stripHeaders: string[] }
  | { storable: false; reason: NotStorableReason }

const no = (reason: NotStorableReason): StorabilityResult => ({ storable: false, reason })

/** Names listed in a `Connection` field (RFC 9110 §7.6.1), lower-cased. */
export const connectionListed = (headers: Headers): string[] =>
  splitList(headers.get('connection') ?? '').map((n) => n.toLowerCase())

/**
 * Whether the response carries explicit freshness or explicit cacheability (RFC 9111 §3: "contains
 * an Expires header field", "a max-age response directive", "if the cache is shared: an s-maxage
 * response directive", "a public response directive").
 */
function explicitlyCacheable(d: Directives, headers: Headers, source: string): boolean {
  if (d.has('max-age') || d.has('s-maxage') || d.has('public')) return true
  return source === 'cache-control' && headers.has('expires')
}

/**
 * Decides whether a shared cache may store a response to a GET (RFC 9111 §3):
 *
 * 1. `method`: only GET is stored; HEAD is answered from a stored GET.
 * 2. `status`: final and understood: not 1xx, 206, 304 (see `isStorableStatus`).
 * 3. `must-understand` with a status we do not understand. With one we do, "the cache SHOULD ignore
 *    the no-store directive" (§5.2.2.3).
 * 4. `no-store` in the response or the request (§5.2.1.5, §5.2.2.5).
 * 5. `private` unqualified (§5.2.2.7: "a shared cache MUST NOT store the response"), unless
 *    `allowPrivate` (per-user caching). The qualified form stores the response without the named fields.
 * 6. `Vary: *` (§4.1: it "always fails to match").
 * 7. `Authorization` in the request unless the response has `public`, `s-maxage` or `must-revalidate`
 *    (§3.5), or `allowAuthorized` is set (per-user caching).
 * 8. `Set-Cookie`, unless named in `private="..."` or `no-cache="..."` (then it is stripped).
 * 9. Freshness: a status in `cacheableStatuses`, or explicit freshness/cacheability (`max-age`,
 *    `s-maxage`, `Expires`, `public`). Errors (4xx/5xx) need the explicit kind (design.md §4 rule 3).
 *
 * `no-cache` does not prevent storage: the response is stored and revalidated on every use.
 *
 * @example isStorable({ method: 'GET', status: 404, ..., directives: parseCacheControl('max-age=60') })
 * // { storable: true, stripHeaders: [] }
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-3
 */
export function isStorable(input: StorabilityInput): StorabilityResult {
  const { status, directives: d, requestDirectives: req, responseHeaders: res, options } = input
  // "A cache MUST NOT store a response to a request unless: the request method is understood by the
  // cache" — and we only store GET.
  if (input.method !== 'GET') return no(NotStorableReason.Method)
  if (!isStorableStatus(status) && !(status === 206 && options.allowPartial === true)) return no(NotStorableReason.Status)

  // "When a cache that implements the must-understand directive receives a response that includes
  // it, the cache SHOULD ignore the no-store directive if it understands the status code." (§5.2.2.3)
  let ignoreNoStore = false
  if (d.has('must-understand')) {
    if (!UNDERSTOOD_STATUSES.has(status)) return no(NotStorableReason.MustUnderstand)
    ignoreNoStore = true
  }
  if (d.has('no-store') && !ignoreNoStore) return no(NotStorableReason.NoStore)
  if (req.has('no-store')) return no(NotStorableReason.RequestNoStore)

  // "The unqualified private response directive indicates that a shared cache MUST NOT store the
  // response" (§5.2.2.7).
  const privateFields = fieldNames(d.get('private'))
  if (privateFields === true && options.allowPrivate !== true) return no(NotStorableReason.Private)

  if (parseVary(res.get('vary')) === '*') return no(NotStorableReason.VaryStar)

  // "A shared cache MUST NOT use a cached response to a request with an Authorization header field
  // ... unless the response contains a Cache-Control field with a response directive that allows it
  // to be stored by a shared cache" — must-revalidate, public and s-maxage (§3.5).
  if (
    input.requestHeaders.has('authorization') &&
    options.allowAuthorized !== true &&
    !d.has('public') &&
    !d.has('s-maxage') &&
    !d.has('must-revalidate')
  ) {
    return no(NotStorableReason.Authorization)
  }

  // Qualified no-cache: "the listed fields MUST NOT be sent in the response to a subsequent request
  // without successful revalidation" (§5.2.2.4). Never sending them from cache satisfies that.
  const noCacheFields = fieldNames(d.get('no-cache'))
  const named = new Set([...(privateFields === true ? [] : privateFields), ...(noCacheFields === true ? [] : noCacheFields)])
  if (res.has('set-cookie') && !named.has('set-cookie')) return no(NotStorableReason.SetCookie)

  const cacheable = options.cacheableStatuses ?? DEFAULT_CACHEABLE_STATUSES
  const explicit = explicitlyCacheable(d, res, input.source ?? 'cache-control')
  // Design rule 3: errors are stored only with explicit freshness, whatever cacheableStatuses says —
  // or, with heuristicErrors, the heuristically cacheable ones that carry Last-Modified.
  const heuristicError =
    options.heuristicErrors === true && HEURISTICALLY_CACHEABLE_STATUSES.has(status) && isErrorStatus(status) && res.has('last-modified')
  if (!explicit && !heuristicError && (isErrorStatus(status) || !cacheable.has(status))) {
    return no(NotStorableReason.NoFreshness)
  }

  const strip = new Set<string>()
  for (const name of [...named, ...UNSTORED_HEADERS, ...connectionListed(res)]) {
    if (res.has(name)) strip.add(name)
  }
  return { storable: true, stripHeaders: [...strip].sort() }
}
