/**
 * @module Invalidation after unsafe methods (RFC 9111 §4.4): which URIs a successful POST, PUT,
 * DELETE, PATCH (or any method not known to be safe) makes stale in every tier.
 */

/**
 * Methods known to be safe (RFC 9110 §9.2.1). Method names are case-sensitive (§9.1), so `get` is an
 * unknown, therefore unsafe, method.
 */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** Resolves a Location/Content-Location reference against the request URL, without fragment. */
function resolve(reference: string | null, base: URL): URL | undefined {
  if (reference === null || reference.trim() === '') return undefined
  try {
    // Stryker disable next-line MethodExpression: the URL parser strips leading and trailing spaces itself
    const url = new URL(reference.trim(), base)
    url.hash = ''
    return url
  } catch {
    return undefined
  }
}

/**
 * The URIs to invalidate after a response to `method` (RFC 9111 §4.4):
 *
 * - "A cache MUST invalidate the target URI when it receives a non-error status code in response to
 *   an unsafe request method (including methods whose safety is unknown)." Non-error means 2xx or 3xx.
 * - "the URI(s) in the Location and Content-Location response header fields (if present) are
 *   candidates for invalidation" — resolved against the target URI — but "a cache MUST NOT trigger an
 *   invalidation under these conditions if the origin ... of the URI to be invalidated differs from
 *   that of the target URI. This helps prevent denial-of-service attacks."
 *
 * Safe methods and error statuses invalidate nothing. Results carry no fragment and are deduplicated
 * by `href`, target URI first. Invalidation covers every variant stored under each URI.
 *
 * @example invalidationTargets(new URL('https://a.test/items'), 'POST', 201, new Headers({ location: '/items/7' }))
 * // [URL('https://a.test/items'), URL('https://a.test/items/7')]
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.4
 */
export function invalidationTargets(
  requestUrl: URL,
  method: string,
  status: number,
  responseHeaders: Headers
): URL[] {
  if (SAFE_METHODS.has(method)) return []
  if (!(status >= 200 && status <= 399)) return []
  const target = new URL(requestUrl.href)
  target.hash = ''
  const targets = new Map<string, URL>([[target.href, target]])
  for (const field of ['location', 'content-location']) {
    const url = resolve(responseHeaders.get(field), target)
    if (url !== undefined && url.origin === target.origin && !targets.has(url.href)) {
      targets.set(url.href, url)
    }
  }
  return [...targets.values()]
}
