/**
 * @module Field-value syntax shared by the policy modules (RFC 9110 §5.6): tokens, quoted strings
 * and comma-separated lists. Parsing is tolerant: origins send malformed values, and a cache must
 * make a safe decision about them rather than throw.
 */

/** `token = 1*tchar` (RFC 9110 §5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Whether `value` is an RFC 9110 token (header names, directive names, content codings).
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2
 */
export const isToken = (value: string): boolean => TOKEN.test(value)

/**
 * Splits a list-based field value on the commas that are outside quoted strings, trimming OWS and
 * dropping empty members ("a recipient MUST parse and ignore a reasonable number of empty list
 * elements", RFC 9110 §5.6.1). Quotes and escapes are kept; {@link unquote} removes them.
 *
 * @example splitList('private="a, b", max-age=0') // ['private="a, b"', 'max-age=0']
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.6.1
 */
export function splitList(value: string): string[] {
  const members: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if (quoted) {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ): the next character is literal.
      if (c === '\\') i++
      else if (c === '"') quoted = false
    } else if (c === '"') {
      quoted = true
    } else if (c === ',') {
      members.push(value.slice(start, i).trim())
      start = i + 1
    }
  }
  members.push(value.slice(start).trim())
  return members.filter((m) => m !== '')
}

/**
 * Returns the content of a quoted string with quoted-pairs resolved (RFC 9110 §5.6.4), or the value
 * unchanged when it is not quoted. An unterminated quoted string yields what follows the quote.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.6.4
 */
export function unquote(value: string): string {
  if (!value.startsWith('"')) return value
  let out = ''
  for (let i = 1; i < value.length; i++) {
    const c = value[i]
    if (c === '"') return out
    if (c === '\\' && i + 1 < value.length) {
      i++
      out += value[i]
    } else {
      out += c
    }
  }
  return out
}

/**
 * Replaces every `%xx` escape with its uppercase form (`%2f` → `%2F`). RFC 3986 §6.2.2.1: "For all
 * URIs, the hexadecimal digits within a percent-encoding triplet (e.g., "%3a" versus "%3A") are
 * case-insensitive and therefore should be normalized to use uppercase letters".
 */
export const upperPercentEncoding = (value: string): string =>
  !value.includes('%') ? value : value.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => `%${hex.toUpperCase()}`)
