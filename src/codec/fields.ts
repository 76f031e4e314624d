/**
 * @module The envelope's static field table (format version 2): response header fields common enough that
 * a stored entry names them with one byte instead of spelling them out, in the manner of HPACK's static
 * table (RFC 7541 Appendix A). An entry is either a name (its value follows) or a whole name and value.
 *
 * **Append only.** Stored entries refer to these by position: reordering or removing one changes what
 * every stored entry decodes to. A new field goes at the end of its list; anything else is a new format
 * version (src/codec.ts `CODEC_VERSION`).
 */

/** Names whose value is spelled out after the code. */
export const STATIC_NAMES: readonly string[] = [
  'content-type',
  'cache-control',
  'etag',
  'last-modified',
  'date',
  'expires',
  'vary',
  'content-encoding',
  'content-language',
  'content-disposition',
  'content-range',
  'content-location',
  'accept-ranges',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
  'link',
  'location',
  'server',
  'x-powered-by',
  'x-content-type-options',
  'x-frame-options',
  'x-xss-protection',
  'strict-transport-security',
  'content-security-policy',
  'referrer-policy',
  'permissions-policy',
  'cross-origin-resource-policy',
  'cross-origin-opener-policy',
  'cross-origin-embedder-policy',
  'timing-allow-origin',
  'cache-tag',
  'surrogate-key',
  'surrogate-control',
  'cdn-cache-control',
  'cloudflare-cdn-cache-control',
  'pragma',
  'via',
  'x-cache',
  'alt-svc',
  'x-request-id',
]

/** Whole fields (lower-case name, exact value) stored as one code. */
export const STATIC_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['content-type', 'text/html; charset=utf-8'],
  ['content-type', 'text/plain; charset=utf-8'],
  ['content-type', 'application/json'],
  ['content-type', 'application/json; charset=utf-8'],
  ['content-type', 'text/css; charset=utf-8'],
  ['content-type', 'application/javascript; charset=utf-8'],
  ['content-type', 'text/javascript; charset=utf-8'],
  ['content-type', 'text/html'],
  ['content-type', 'text/plain'],
  ['content-type', 'text/css'],
  ['content-type', 'application/javascript'],
  ['content-type', 'image/png'],
  ['content-type', 'image/jpeg'],
  ['content-type', 'image/webp'],
  ['content-type', 'image/avif'],
  ['content-type', 'image/gif'],
  ['content-type', 'image/svg+xml'],
  ['content-type', 'application/octet-stream'],
  ['content-type', 'application/xml'],
  ['content-type', 'font/woff2'],
  ['accept-ranges', 'bytes'],
  ['vary', 'accept-encoding'],
  ['vary', 'Accept-Encoding'],
  ['vary', 'Origin'],
  ['vary', 'Accept-Encoding, Origin'],
  ['x-content-type-options', 'nosniff'],
  ['access-control-allow-origin', '*'],
  ['content-encoding', 'gzip'],
  ['content-encoding', 'br'],
  ['x-frame-options', 'DENY'],
  ['x-frame-options', 'SAMEORIGIN'],
  ['cache-control', 'no-cache'],
  ['cache-control', 'public, max-age=31536000, immutable'],
  ['cache-control', 'max-age=0, must-revalidate'],
  ['x-powered-by', 'Express'],
  ['server', 'cloudflare'],
  ['referrer-policy', 'strict-origin-when-cross-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
]

/**
 * Names whose value, when it is an IMF-fixdate that formats back to the same text (RFC 9110 §5.6.7, what
 * `Date.prototype.toUTCString` writes), is stored as seconds since the epoch: 5 bytes instead of 29.
 */
export const DATE_NAMES: readonly string[] = ['date', 'last-modified', 'expires']

const nameIndex = new Map(STATIC_NAMES.map((name, i) => [name, i]))
const fieldIndex = new Map(STATIC_FIELDS.map(([name, value], i) => [`${name}\n${value}`, i]))
const dateIndex = new Map(DATE_NAMES.map((name, i) => [name, i]))

/** Position of `name` in {@link STATIC_NAMES}, or undefined. */
export const staticName = (name: string): number | undefined => nameIndex.get(name)
/** Position of the whole field in {@link STATIC_FIELDS}, or undefined. */
export const staticField = (name: string, value: string): number | undefined => fieldIndex.get(`${name}\n${value}`)
/** Position of `name` in {@link DATE_NAMES}, or undefined. */
export const dateName = (name: string): number | undefined => dateIndex.get(name)
