/**
 * @module Proactive content negotiation for the `/vary/*` endpoints (RFC 9110 §12).
 *
 * Real weighted parsing rather than substring checks, so `gzip;q=0` means "not gzip" and `fr-CA` picks
 * French: a cache that normalises these headers for its key (design §3) must agree with the origin.
 */

/** One member of a weighted list such as `Accept-Language: fr-CA, en;q=0.8`. */
interface Weighted {
  value: string
  q: number
}

/** Parses a comma-separated list with optional `;q=` weights (RFC 9110 §12.4.2); invalid weights count as 0. */
export function parseWeighted(header: string | undefined): Weighted[] {
  if (!header) return []
  return header
    .split(',')
    .map((part) => {
      const [value = '', ...params] = part.split(';').map((s) => s.trim())
      const qParam = params.find((p) => p.toLowerCase().startsWith('q='))
      const q = qParam === undefined ? 1 : Number(qParam.slice(2))
      return { value: value.toLowerCase(), q: Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0 }
    })
    .filter((w) => w.value !== '')
}

/** Languages `/vary/lang` can answer in; the first is the default. */
export const LANGUAGES = ['en', 'fr', 'de'] as const
export type Language = (typeof LANGUAGES)[number]

const isLanguage = (s: string): s is Language => (LANGUAGES as readonly string[]).includes(s)

/**
 * Picks a language by weight, matching on the primary subtag (RFC 4647 §3.3.1 basic filtering, loosened
 * so `fr-CA` matches `fr`). `*` and no match fall back to English.
 */
export function negotiateLanguage(acceptLanguage: string | undefined): Language {
  const ranges = parseWeighted(acceptLanguage)
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q)
  for (const range of ranges) {
    if (range.value === '*') return LANGUAGES[0]
    const primary = range.value.split('-')[0] ?? ''
    if (isLanguage(primary)) return primary
  }
  return LANGUAGES[0]
}

/**
 * True when gzip is acceptable (RFC 9110 §12.5.3): listed as `gzip` or `x-gzip` with q > 0, or not
 * listed while `*` has q > 0. No header at all gets identity, the conservative reading.
 */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  const codings = parseWeighted(acceptEncoding)
  const gzip = codings.find((c) => c.value === 'gzip' || c.value === 'x-gzip')
  if (gzip) return gzip.q > 0
  const star = codings.find((c) => c.value === '*')
  return star !== undefined && star.q > 0
}
