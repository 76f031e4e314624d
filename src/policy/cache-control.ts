/**
 * @module Cache-Control parsing (RFC 9111 §5.2), delta-seconds (§1.2.2), qualified field-name lists
 * and the choice between targeted fields and `Cache-Control` (RFC 9213).
 *
 * The parser is tolerant: names are case-insensitive, arguments may be tokens or quoted strings
 * ("recipients ought to accept both forms", §5.2), quoted commas do not split, and members that are
 * not `token [ "=" value ]` are skipped. Where duplicates conflict, the most conservative reading wins.
 */
import { isToken, splitList, unquote } from './syntax.ts'
import { parseTargetedField } from './targeted-field.ts'

/**
 * Parsed cache directives: lower-cased names mapped to the unquoted argument, or `true` when the
 * directive has no argument.
 */
export type Directives = ReadonlyMap<string, string | true>

/** The targeted fields tiercache obeys, most specific first (RFC 9213 §2.2 target list). */
export const DEFAULT_CACHE_TARGETS: readonly string[] = [
  'cloudflare-cdn-cache-control',
  'cdn-cache-control',
]

/** "the cache MUST consider the value to be 2147483648 (2^31)" on overflow (RFC 9111 §1.2.2). */
export const MAX_DELTA_SECONDS = 2 ** 31

/** Directives whose invalid argument makes the response stale rather than unbounded. */
const INVALID_MEANS_ZERO = new Set(['max-age', 's-maxage'])

/**
 * Lifetimes and stale allowances: conflicting duplicates resolve to 0. RFC 9111 §4.2.1: "When there
 * is more than one value present for a given directive (e.g., two Expires header field lines or
 * multiple Cache-Control: max-age directives), either the first occurrence should be used or the
 * response should be considered stale." We choose stale.
 */
const CONFLICT_MEANS_ZERO = new Set([
  'max-age',
  's-maxage',
  'stale-while-revalidate',
  'stale-if-error',
  'max-stale',
])

/** Directives whose argument is a list of field names (RFC 9111 §5.2.2.4, §5.2.2.7). */
const FIELD_LIST_DIRECTIVES = new Set(['private', 'no-cache'])

/**
 * Parses a non-negative integer delta-seconds value (RFC 9111 §1.2.2), capped at 2^31.
 * Returns `undefined` for anything else (`-1`, `1.5`, `+3`, `''`).
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-1.2.2
 */
export function parseDeltaSeconds(raw: string): number | undefined {
  if (!/^\d+$/.test(raw)) return undefined
  return Math.min(Number(raw), MAX_DELTA_SECONDS)
}

/** Resolves two occurrences of the same directive to the most conservative single value. */
function mergeDuplicate(name: string, first: string | true, next: string | true): string | true {
  if (first === next) return first
  if (FIELD_LIST_DIRECTIVES.has(name)) {
    // The unqualified form covers the whole response; otherwise the union of the named fields.
    if (first === true || next === true) return true
    const a = fieldNames(first)
    const b = fieldNames(next)
    if (a === true || b === true) return true
    return [...new Set([...a, ...b])].join(', ')
  }
  const x = typeof first === 'string' ? parseDeltaSeconds(first) : undefined
  const y = typeof next === 'string' ? parseDeltaSeconds(next) : undefined
  if (CONFLICT_MEANS_ZERO.has(name)) return x !== undefined && x === y ? first : '0'
  // min-fresh asks for more freshness: the larger requirement is the conservative one, and a valid
  // requirement beats an invalid one (which would otherwise drop min-fresh altogether).
  if (name === 'min-fresh') {
    if (x === undefined) return next
    if (y === undefined) return first
    return x >= y ? first : next
  }
  return first
}

/**
 * Parses a `Cache-Control` (or targeted) field value into {@link Directives}.
 *
 * - names are lower-cased; arguments are unquoted (`max-age="60"` → `'60'`)
 * - `private="Set-Cookie, X-Foo"` keeps its quoted comma-separated list intact
 * - members whose name is not a token are skipped
 * - duplicates: identical values collapse; conflicting `max-age`, `s-maxage`,
 *   `stale-while-revalidate`, `stale-if-error`, `max-stale` become `'0'` (stale, RFC 9111 §4.2.1);
 *   `private`/`no-cache` lists are united (the bare form wins); `min-fresh` keeps the larger; any
 *   other directive keeps its first occurrence
 *
 * @example parseCacheControl('Public, Max-Age=60, private="set-cookie, x-a"')
 * // Map { 'public' => true, 'max-age' => '60', 'private' => 'set-cookie, x-a' }
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.2
 */
export function parseCacheControl(value: string | null): Directives {
  const directives = new Map<string, string | true>()
  if (value === null) return directives
  for (const member of splitList(value)) {
    const eq = member.indexOf('=')
    const name = (eq === -1 ? member : member.slice(0, eq)).trim().toLowerCase()
    if (!isToken(name)) continue
    const arg: string | true = eq === -1 ? true : unquote(member.slice(eq + 1).trim())
    const previous = directives.get(name)
    directives.set(name, previous === undefined ? arg : mergeDuplicate(name, previous, arg))
  }
  return directives
}

/**
 * Reads a directive's delta-seconds argument (RFC 9111 §1.2.2): a non-negative integer of seconds,
 * capped at 2^31. Returns `undefined` when the directive is absent or its argument is invalid, except
 * that an invalid `max-age` or `s-maxage` (`max-age=abc`, bare `max-age`, `max-age=-1`) reads as 0 so
 * the response is treated as stale rather than as having no explicit lifetime.
 *
 * @example deltaSeconds(parseCacheControl('max-age=60'), 'max-age') // 60
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-1.2.2
 */
export function deltaSeconds(d: Directives, name: string): number | undefined {
  const key = name.toLowerCase()
  const raw = d.get(key)
  if (raw === undefined) return undefined
  const seconds = raw === true ? undefined : parseDeltaSeconds(raw)
  if (seconds === undefined && INVALID_MEANS_ZERO.has(key)) return 0
  return seconds
}

/**
 * The field names of a qualified `private="..."` or `no-cache="..."` directive (RFC 9111 §5.2.2.4,
 * §5.2.2.7), lower-cased and deduplicated. `true` means the unqualified form (the whole response);
 * an empty qualified list (`private=""`) is also read as `true`, the conservative choice. An absent
 * directive (`undefined`) names no fields: `[]`.
 *
 * @example fieldNames('Set-Cookie, X-Foo') // ['set-cookie', 'x-foo']
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.7
 */
export function fieldNames(value: string | true | undefined): string[] | true {
  if (value === undefined) return []
  if (value === true) return true
  const names = [...new Set(splitList(value).map((n) => n.toLowerCase()))].filter(isToken)
  return names.length === 0 ? true : names
}

/**
 * Chooses the directives that govern our caching (RFC 9213 §2.2): "the cache MUST select the first
 * (in target list order) field with a valid, non-empty value and use its value to determine the
 * caching policy for the response, and it MUST ignore the Cache-Control and Expires header fields in
 * that response, unless no valid, non-empty value is available from the listed header fields."
 * A targeted field that is empty or not a valid Structured Field Dictionary is ignored (§2.1; see
 * targeted-field.ts, which also refuses caching directives of the wrong type). `Cache-Control`
 * itself is still passed on to clients; it is only our tiers that obey the targeted field.
 *
 * `source` is the lower-cased field name used, or `'cache-control'` on fallback (even when that field
 * is absent). When `source` is not `'cache-control'`, `Expires` must be ignored too.
 *
 * @param targets the target list @default DEFAULT_CACHE_TARGETS
 * @see https://www.rfc-editor.org/rfc/rfc9213#section-2.2
 */
export function selectTargetedDirectives(
  headers: Headers,
  targets: readonly string[] = DEFAULT_CACHE_TARGETS
): { directives: Directives; source: string } {
  for (const target of targets) {
    const value = headers.get(target)
    if (value === null) continue
    // A Structured Field Dictionary (RFC 9213 §2.1): a parse error, or a directive of the wrong type,
    // makes the whole field ignored, as does an empty one.
    const directives = parseTargetedField(value)
    if (directives !== undefined && directives.size > 0) return { directives, source: target.toLowerCase() }
  }
  return { directives: parseCacheControl(headers.get('cache-control')), source: 'cache-control' }
}

/** What a request without `Cache-Control` or `Pragma` asks for: nothing (shared: callers only read it). */
const NO_DIRECTIVES: Directives = new Map()

/**
 * A request's cache directives. RFC 9111 §5.4: "When the Cache-Control header field is not present
 * in a request, caches MUST consider the no-cache request pragma directive as having the same effect
 * as if "Cache-Control: no-cache" were present." `Pragma` is ignored when `Cache-Control` is present.
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.4
 */
export function parseRequestDirectives(headers: Headers): Directives {
  const cacheControl = headers.get('cache-control')
  if (cacheControl !== null) return parseCacheControl(cacheControl)
  const pragma = headers.get('pragma')
  if (pragma !== null && splitList(pragma).some((p) => p.toLowerCase() === 'no-cache')) {
    return new Map([['no-cache', true]])
  }
  return NO_DIRECTIVES
}
