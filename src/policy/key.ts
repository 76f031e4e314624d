/**
 * @module The primary cache key (RFC 9111 §2: "the primary cache key consists of the request method
 * and target URI") and the request headers that must never reach the origin unkeyed (design.md §4
 * rule 2, cache-poisoning defence).
 *
 * Only the method GET is stored, so the key is the normalised target URI. Normalisation is kept to
 * what every origin treats as equivalent; anything that might change the origin's answer stays in.
 */
import { upperPercentEncoding } from './syntax.ts'

/** Options for {@link cacheKey} and {@link normaliseUrl}. */
export type KeyOptions = {
  /**
   * Query parameters left out of the key, by exact (case-sensitive, percent-decoded) name, or by
   * prefix with a trailing `*` (`'utm_*'`). The stack must fetch the origin with
   * {@link normaliseUrl}'s URL, so a dropped parameter can never be reflected into a stored body.
   * @default []
   */
  ignoreQueryParams?: readonly string[]
  /** Sort query parameters by name (stable: repeated names keep their order). @default true */
  sortQuery?: boolean
}

/**
 * Request headers that can change an origin's answer without being part of the key (the classic
 * cache-poisoning vectors: host/scheme/URL/method overrides). Stripped before the origin sees the
 * request.
 */
export const UNKEYED_REQUEST_HEADERS = [
  'x-forwarded-host',
  'x-forwarded-scheme',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-prefix',
  'x-forwarded-uri',
  'x-original-url',
  'x-original-host',
  'x-original-method',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-host',
  'forwarded',
] as const

/**
 * A copy of `headers` without {@link UNKEYED_REQUEST_HEADERS} (design.md §4 rule 2). The input is
 * not modified.
 * @example stripUnkeyedHeaders(new Headers({ 'x-forwarded-host': 'evil.test', accept: 'text/html' }))
 * // Headers { accept: 'text/html' }
 */
export function stripUnkeyedHeaders(headers: Headers): Headers {
  const copy = new Headers(headers)
  for (const name of UNKEYED_REQUEST_HEADERS) copy.delete(name)
  return copy
}

/** Decodes a query parameter name for matching only; the key keeps the raw form. */
function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '))
  } catch {
    return raw
  }
}

function isIgnored(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p))
}

/**
 * Normalises a raw query string (without `?`): empty members dropped, percent-encoding hex
 * upper-cased, ignored parameters removed, then (optionally) a stable sort by raw name. Values are
 * never decoded or re-encoded: `a+b` and `a%20b` stay different because an origin may treat them so.
 */
export function normaliseQuery(search: string, options: KeyOptions = {}): string {
  const ignore = options.ignoreQueryParams ?? []
  const pairs = search
    .replace(/^\?/, '')
    .split('&')
    .filter((p) => p !== '')
    .map(upperPercentEncoding)
    .map((pair) => ({ pair, name: pair.split('=', 1)[0] ?? '' }))
    .filter(({ name }) => !isIgnored(decodeName(name), ignore))
  // Array.prototype.sort is stable (ES2019), so a=2&a=1 keeps its order.
  if (options.sortQuery ?? true) pairs.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
  return pairs.map(({ pair }) => pair).join('&')
}

/**
 * The URL tiercache keys on and should fetch from the origin: no userinfo, no fragment, lower-case
 * host, percent-encoding hex upper-cased in the path, normalised query (see {@link normaliseQuery}).
 * The path keeps its case and nothing is decoded (`%2F` stays `%2F`), because decoding can change
 * which resource an origin serves.
 */
export function normaliseUrl(url: URL, options: KeyOptions = {}): URL {
  return new URL(cacheKey(url, options))
}

/**
 * The primary cache key for a GET to `url` (RFC 9111 §2, §4.1): scheme, lower-cased host (and
 * non-default port), path with upper-case percent-encoding, and normalised query; no fragment, no
 * empty `?`. The WHATWG URL parser has already lower-cased scheme and host, dropped default ports
 * and resolved dot-segments.
 *
 * @example cacheKey(new URL('https://Example.COM/a%2fb?b=2&utm_source=x&a=1#top'), { ignoreQueryParams: ['utm_*'] })
 * // 'https://example.com/a%2Fb?a=1&b=2'
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-2
 */
export function cacheKey(url: URL, options: KeyOptions = {}): string {
  // Built from the parsed parts, not through URL setters (each re-serialises the whole URL; a miss's key
  // and origin URL were a measurable share of its CPU, `npm run bench:profile -- --redis`). Upper-casing
  // hex digits cannot make a new dot-segment or a character the parser would encode, so the string is
  // what the setters produced: the normalised URL's href without userinfo and fragment.
  const query = url.search === '' ? '' : normaliseQuery(url.search, options)
  return `${url.protocol}//${url.host.toLowerCase()}${upperPercentEncoding(url.pathname)}${query === '' ? '' : `?${query}`}`
}
