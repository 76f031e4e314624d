/**
 * @module Status-code classes that caching depends on (RFC 9110 §15, RFC 9111 §3, §5.2.2.3).
 */

/**
 * Status codes "defined as heuristically cacheable" (RFC 9110 §15.1): "200, 203, 204, 206, 300, 301,
 * 308, 404, 405, 410, 414, and 501". Responses with these codes may be given a heuristic lifetime
 * (RFC 9111 §4.2.2).
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-15.1
 */
export const HEURISTICALLY_CACHEABLE_STATUSES: ReadonlySet<number> = new Set([
  200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501,
])

/**
 * Statuses tiercache stores without explicit freshness information: the heuristically cacheable ones
 * minus 206 (we never store partial content) and minus the errors, because design rule 3 says "Error
 * responses are not stored unless the origin's headers explicitly allow it".
 */
export const DEFAULT_CACHEABLE_STATUSES: ReadonlySet<number> = new Set([
  200, 203, 204, 300, 301, 308,
])

/**
 * Status codes whose semantics this cache understands and conforms to, for `must-understand`
 * (RFC 9111 §5.2.2.3). 206 (needs range combination, §3.3) and 304 (a validation answer, not a
 * response to store) are deliberately absent, as are 1xx.
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.3
 */
export const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407,
  408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426, 500, 501, 502, 503, 504, 505,
])

/**
 * Whether a status is final (RFC 9110 §15: 1xx are interim) and a possible response to store:
 * an integer in 200–599 other than 206 Partial Content and 304 Not Modified. RFC 9111 §3 requires
 * "the response status code is final" and, for 206 and 304, that "the cache understands the response
 * status code"; tiercache does not combine partial content and treats 304 as validation only.
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-3
 */
export const isStorableStatus = (status: number): boolean =>
  Number.isInteger(status) && status >= 200 && status <= 599 && status !== 206 && status !== 304

/** Whether a status is an error (4xx client error or 5xx server error, RFC 9110 §15.5, §15.6). */
export const isErrorStatus = (status: number): boolean => status >= 400 && status <= 599
