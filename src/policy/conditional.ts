/**
 * @module Conditional requests: answering a client's `If-None-Match`/`If-Modified-Since` from a
 * stored response (RFC 9110 §13.1.2, §13.1.3, §13.2; RFC 9111 §4.3.2), building our own validation
 * request (RFC 9111 §4.3.1) and folding a 304 into the stored headers (RFC 9111 §4.3.4).
 */
import { UNSTORED_HEADERS, connectionListed } from './storable.ts'
import { parseHttpDate } from './http-date.ts'
import { splitList } from './syntax.ts'

/**
 * Fields copied from the stored response into a 304 (RFC 9110 §15.4.5): "The server generating a 304
 * response MUST generate any of the following header fields that would have been sent in a 200 (OK)
 * response to the same request: Content-Location, Date, ETag, and Vary; Cache-Control and Expires"
 * — plus Last-Modified, which "might be useful if the response does not have an ETag field".
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-15.4.5
 */
export const RETAINED_304_HEADERS = [
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'last-modified',
  'vary',
] as const

/**
 * Fields a 304 must not overwrite in a stored response (RFC 9111 §4.3.4): "Header fields excepted
 * from storage in Section 3.1", "The Content-Length header field", and the fields that describe the
 * stored bytes themselves (the body may have been decoded on receipt, so a new Content-Encoding or
 * Content-Range would no longer describe it: "Caches in this situation MAY omit these header fields
 * from updating stored responses"). `Set-Cookie` is never stored (design.md §3).
 */
const NOT_UPDATED_BY_304 = new Set([
  ...UNSTORED_HEADERS,
  'content-length',
  'content-encoding',
  'content-range',
  'set-cookie',
])

/** The stored response as conditional evaluation needs it. */
export type StoredValidators = {
  etag?: string | null
  lastModified?: string | null
  /** The stored `Date`, used for If-Modified-Since when there is no Last-Modified (RFC 9111 §4.3.2). */
  date?: string | null
  status: number
}

/** `W/"x"` → `"x"`: weak comparison ignores the weakness indicator (RFC 9110 §8.8.3.2). */
const opaqueTag = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag)

/** Whether an entity-tag is strong (no `W/` prefix). */
const isStrong = (tag: string): boolean => !tag.startsWith('W/')

/**
 * Weak comparison (RFC 9110 §8.8.3.2): "two entity tags are equivalent if their opaque-tags match
 * character-by-character, regardless of either or both being tagged as "weak"".
 * @example weakMatch('W/"a"', '"a"') // true
 */
export const weakMatch = (a: string, b: string): boolean => opaqueTag(a.trim()) === opaqueTag(b.trim())

/**
 * Strong comparison (RFC 9110 §8.8.3.2): "two entity tags are equivalent if both are not weak and
 * their opaque-tags match character-by-character".
 */
export const strongMatch = (a: string, b: string): boolean =>
  isStrong(a.trim()) && isStrong(b.trim()) && a.trim() === b.trim()

/**
 * Evaluates a client's conditional GET/HEAD against a stored response (RFC 9110 §13.2.2 order; RFC
 * 9111 §4.3.2). Returns `'not-modified'` when a 304 should be sent, `'full'` otherwise.
 *
 * - Preconditions apply only when the unconditional answer would be 2xx: "A server MUST ignore all
 *   received preconditions if its response to the same request without those conditions ... would
 *   have been a status code other than a 2xx (Successful) or 412" (RFC 9110 §13.2.1).
 * - `If-None-Match` (§13.1.2): `*` matches any stored representation; otherwise a list of entity-tags
 *   compared weakly ("A recipient MUST use the weak comparison function when comparing entity tags
 *   for If-None-Match"). A match means 304 for GET and HEAD.
 * - `If-Modified-Since` (§13.1.3) only without `If-None-Match` ("A recipient MUST ignore
 *   If-Modified-Since if the request contains an If-None-Match header field"), ignored when "the
 *   received field value is not a valid HTTP-date, the field value has more than one member". The
 *   condition is false (304) when the last modification "is earlier or equal to the date provided".
 *   Without Last-Modified the stored `Date` is used (RFC 9111 §4.3.2).
 *
 * `If-Match`/`If-Unmodified-Since`/`If-Range` are for the origin; the stack forwards those requests.
 *
 * @example evaluateConditional(new Headers({ 'if-none-match': 'W/"v1"' }), { etag: '"v1"', status: 200 }, 'GET')
 * // 'not-modified'
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2
 */
export function evaluateConditional(
  requestHeaders: Headers,
  stored: StoredValidators,
  method: 'GET' | 'HEAD'
): 'not-modified' | 'full' {
  if (method !== 'GET' && method !== 'HEAD') return 'full'
  if (stored.status < 200 || stored.status > 299) return 'full'

  const ifNoneMatch = requestHeaders.get('if-none-match')
  if (ifNoneMatch !== null) {
    const tags = splitList(ifNoneMatch)
    // "If the field value is "*", the condition is false if the origin server has a current
    // representation for the target resource" — we hold one.
    if (tags.includes('*')) return 'not-modified'
    const etag = stored.etag
    if (etag === null || etag === undefined || etag.trim() === '') return 'full'
    return tags.some((t) => weakMatch(t, etag)) ? 'not-modified' : 'full'
  }

  const since = parseHttpDate(requestHeaders.get('if-modified-since'))
  if (since === undefined) return 'full'
  const modified = parseHttpDate(stored.lastModified) ?? parseHttpDate(stored.date)
  if (modified === undefined) return 'full'
  // Both are HTTP-dates, so this compares at one-second precision.
  return modified <= since ? 'not-modified' : 'full'
}

/**
 * The headers of a 304 answering from `storedHeaders`: the {@link RETAINED_304_HEADERS} that are
 * present. `Age`, `Cache-Status` and `Server-Timing` are the stack's to add.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-15.4.5
 */
export function buildNotModified(storedHeaders: Headers): Headers {
  const out = new Headers()
  for (const name of RETAINED_304_HEADERS) {
    const value = storedHeaders.get(name)
    if (value !== null) out.set(name, value)
  }
  return out
}

/**
 * The validators for our own revalidation request (RFC 9111 §4.3.1): "MUST send the relevant entity
 * tags (using If-None-Match) if the entity tags were provided in the stored response(s) being
 * validated" and "SHOULD send the Last-Modified value (using If-Modified-Since) if the request is not
 * for a subrange, a single stored response is being validated, and that response contains a
 * Last-Modified value". An invalid Last-Modified is not sent.
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.3.1
 */
export function revalidationHeaders(stored: { etag?: string | null; lastModified?: string | null }): Headers {
  const out = new Headers()
  const etag = stored.etag?.trim()
  if (etag !== undefined && etag !== '') out.set('if-none-match', etag)
  const lastModified = stored.lastModified
  if (lastModified !== null && lastModified !== undefined && parseHttpDate(lastModified) !== undefined) {
    out.set('if-modified-since', lastModified)
  }
  return out
}

/**
 * Whether a 304 received on revalidation may update this stored response (RFC 9111 §4.3.4):
 *
 * - a strong ETag in the 304: "All the stored responses with the same strong validator are identified
 *   for update. If none of the stored responses contain the same strong validator, then the cache
 *   MUST NOT use the new response to update any stored responses";
 * - otherwise a weak ETag or a Last-Modified that corresponds to the stored one;
 * - no validator at all: the RFC's rule selects "only one stored response" that "also lacks a validator".
 *   tiercache revalidates exactly one stored response per conditional request, with that response's own
 *   validators, so a 304 without any validator can only be answering that response: it applies (origins
 *   often omit the ETag from a 304 although RFC 9110 §15.4.5 asks for it). Pass `singleCandidate: false`
 *   for the RFC's literal rule.
 *
 * When this is false the stack should refetch without conditions.
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.3.4
 */
export function notModifiedApplies(storedHeaders: Headers, notModifiedHeaders: Headers, singleCandidate = true): boolean {
  const newTag = notModifiedHeaders.get('etag')
  const oldTag = storedHeaders.get('etag')
  if (newTag !== null) {
    if (oldTag === null) return false
    return isStrong(newTag.trim()) ? strongMatch(newTag, oldTag) : weakMatch(newTag, oldTag)
  }
  const newModified = notModifiedHeaders.get('last-modified')
  const oldModified = storedHeaders.get('last-modified')
  if (newModified !== null) {
    const a = parseHttpDate(newModified)
    return a !== undefined && a === parseHttpDate(oldModified)
  }
  return singleCandidate || (oldTag === null && oldModified === null)
}

/**
 * The stored headers refreshed by a 304 (RFC 9111 §4.3.4): "the cache MUST add each header field in
 * the provided response to the stored response, replacing field values that are already present",
 * except the fields in `NOT_UPDATED_BY_304` and any listed in the 304's `Connection`. Neither input is
 * modified. Re-run `isStorable` on the result: the 304 may have changed `Cache-Control`.
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.3.4
 */
export function mergeNotModified(storedHeaders: Headers, notModifiedHeaders: Headers): Headers {
  const out = new Headers(storedHeaders)
  const skip = new Set([...NOT_UPDATED_BY_304, ...connectionListed(notModifiedHeaders)])
  for (const [name, value] of notModifiedHeaders) {
    if (!skip.has(name)) out.set(name, value)
  }
  return out
}
