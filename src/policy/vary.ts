/**
 * @module Vary (RFC 9110 §12.5.5, RFC 9111 §4.1): which request headers select a stored variant,
 * how their values are normalised, and the compact secondary-key suffix built from them.
 *
 * Normalisation merges request values into one key, so it is only safe where every merged value
 * would get the same response. `Accept-Encoding` is reduced to one coding that tiercache then asks
 * the origin for; `Accept-Language` only loses case and whitespace; everything else is verbatim.
 */
import { bytesToBase64Url } from '../codec.ts'
import { isToken, splitList } from './syntax.ts'

/**
 * The normalised value of a request header that is absent. Header values cannot contain NUL
 * (RFC 9110 §5.5, and `Headers` rejects it), so this never equals a present value, not even `''`.
 */
export const ABSENT_HEADER = '\u0000'

/** Content codings we serve, most preferred first. */
export const DEFAULT_ENCODINGS: readonly string[] = ['gzip', 'identity']

/** Options for {@link normaliseRequestHeader} and {@link variantKeySuffix}. */
export type VaryOptions = {
  /**
   * Content codings we can serve, in our order of preference; `Accept-Encoding` reduces to one of
   * these (or `identity`). Add `'br'` only when we prefer it and can serve it.
   * @default DEFAULT_ENCODINGS (['gzip', 'identity'])
   */
  encodings?: readonly string[]
}

/**
 * Parses a `Vary` field value into lower-cased, deduplicated, sorted field names, or `'*'`.
 * `*` anywhere in the list makes the whole value `'*'` ("A Vary field value containing a member "*"
 * signals that ... a cache cannot determine whether this response is appropriate", RFC 9110 §12.5.5).
 * A member that is not a token cannot be matched against a request, so it is also read as `'*'`
 * (the response is then not stored) rather than being dropped.
 *
 * @example parseVary('Accept-Encoding, accept, ACCEPT') // ['accept', 'accept-encoding']
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-12.5.5
 */
export function parseVary(value: string | null): string[] | '*' {
  if (value === null) return []
  const names = new Set<string>()
  for (const member of splitList(value)) {
    if (member === '*' || !isToken(member)) return '*'
    names.add(member.toLowerCase())
  }
  return [...names].sort()
}

/** Weight of an implicitly acceptable `identity`: below any coding the client names explicitly. */
const IMPLICIT_IDENTITY_WEIGHT = 0.0001

/** Parses a `qvalue` (RFC 9110 §12.4.2) tolerantly: any decimal, clamped to [0, 1]. */
function parseWeight(raw: string): number | undefined {
  const v = raw.trim()
  if (!/^\d+(\.\d+)?$/.test(v)) return undefined
  return Math.min(Number(v), 1)
}

/**
 * Reduces `Accept-Encoding` to the single coding we would serve (RFC 9110 §12.5.3): the supported
 * coding with the highest client weight, ties broken by our order. `x-gzip` counts as `gzip`
 * (§8.4.1.3). `identity` is acceptable "unless specifically excluded ... by "identity;q=0" or
 * "*;q=0" without a more specific entry for identity". Absent, empty, or nothing acceptable → `identity`.
 */
function negotiateEncoding(value: string | null, supported: readonly string[]): string {
  if (value === null) return 'identity'
  const weights = new Map<string, number>()
  for (const member of splitList(value)) {
    const [coding = '', ...params] = member.split(';')
    let weight: number | undefined = 1
    for (const param of params) {
      const eq = param.indexOf('=')
      if (eq !== -1 && param.slice(0, eq).trim().toLowerCase() === 'q') {
        weight = parseWeight(param.slice(eq + 1))
      }
    }
    if (weight === undefined) continue // an unparseable weight: ignore the member
    const name = coding.trim().toLowerCase()
    const canonical = name === 'x-gzip' ? 'gzip' : name
    if (!weights.has(canonical)) weights.set(canonical, weight)
  }
  const star = weights.get('*')
  let best = 'identity'
  let bestWeight = 0
  for (const coding of supported) {
    const explicit = weights.get(coding)
    const weight =
      explicit ?? (coding === 'identity' ? (star ?? IMPLICIT_IDENTITY_WEIGHT) : (star ?? 0))
    if (weight > bestWeight) {
      best = coding
      bestWeight = weight
    }
  }
  return best
}

/**
 * Normalises one request header value for a Vary secondary key (RFC 9111 §4.1: "The header fields
 * from two requests are defined to match if and only if those in the first request can be
 * transformed to those in the second request by applying any of the following: adding or removing
 * whitespace ...; combining multiple header field lines ...; normalizing both header field values in
 * a way that is known to have identical semantics, according to the header field's specification").
 *
 * - `accept-encoding` → one token from `options.encodings` or `'identity'` (q-values honoured,
 *   `q=0` excludes). Safe only because the stack sends this token to the origin as the fetch's
 *   `Accept-Encoding`, so the stored variant is exactly what the token asks for. Absent → `identity`
 *   (we ask the origin for an unencoded body, which every client can read).
 * - `accept-language` → lower-cased with all whitespace removed. Language tags are case-insensitive
 *   (RFC 5646 §2.1.1) and whitespace is OWS, so this is semantics-preserving. Ranges are not reduced
 *   to a best match because we do not know which languages the origin has.
 * - anything else → its comma-separated members with the optional whitespace around them removed
 *   (`Foo: 1,2` and `Foo:  1, 2 ` select the same variant: OWS around list separators is not part of a
 *   list member, RFC 9110 §5.6.1; multiple lines are already joined by `Headers` with `', '`). Quoted
 *   strings are kept whole.
 * - an absent header → {@link ABSENT_HEADER}, which differs from a present empty value.
 *
 * @example normaliseRequestHeader('Accept-Encoding', 'br;q=1, gzip;q=0.8') // 'gzip'
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.1
 */
export function normaliseRequestHeader(
  name: string,
  value: string | null,
  options?: VaryOptions
): string {
  const field = name.toLowerCase()
  if (field === 'accept-encoding') {
    return negotiateEncoding(value, options?.encodings ?? DEFAULT_ENCODINGS)
  }
  if (value === null) return ABSENT_HEADER
  if (field === 'accept-language') return value.replace(/\s+/g, '').toLowerCase()
  return splitList(value).join(',')
}

/**
 * The canonical text hashed by {@link variantKeySuffix}: one `name:value` line per Vary name, names
 * lower-cased, deduplicated and sorted. Values cannot contain LF, so lines cannot run together.
 */
export function variantKeyMaterial(
  varyNames: readonly string[],
  requestHeaders: Headers,
  options?: VaryOptions
): string {
  const names = [...new Set(varyNames.map((n) => n.toLowerCase()))].sort()
  return names
    .map((n) => `${n}:${normaliseRequestHeader(n, requestHeaders.get(n), options)}`)
    .join('\n')
}

/**
 * The secondary cache key for a variant (RFC 9111 §4.1): the first 22 base64url characters (132
 * bits) of SHA-256 over {@link variantKeyMaterial}. Stable across isolates, compact, and free of raw
 * header values (so a `Vary: Cookie` key never holds a cookie). No Vary names → `''`.
 *
 * @example await variantKeySuffix(['accept-encoding'], new Headers({ 'accept-encoding': 'gzip' }))
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.1
 */
export async function variantKeySuffix(
  varyNames: readonly string[],
  requestHeaders: Headers,
  options?: VaryOptions
): Promise<string> {
  if (varyNames.length === 0) return ''
  const material = new TextEncoder().encode(variantKeyMaterial(varyNames, requestHeaders, options))
  const digest = await crypto.subtle.digest('SHA-256', material)
  return bytesToBase64Url(new Uint8Array(digest)).slice(0, 22)
}
