/**
 * @module The warm request body: what to warm, from one source. A strict schema with precise errors, as
 * the purge body has (src/purge/payload.ts): unknown fields are refused, not ignored.
 *
 * `{ "urls": ["/a", "https://host/b"] }` — a list (paths, or absolute URLs on the host the call was made
 * to); `{ "sitemap": "/sitemap.xml" }` — the `<loc>` entries of a sitemap on that host; `{ "hot": true }`
 * or `{ "hot": 50 }` — the fleet's hottest keys (src/observe/hot-set.ts). Optional `budget` lowers the
 * run's origin budget below the configured one; `concurrency` lowers the configured concurrency.
 */
import { parseJsonObject } from '../json-body.ts'


/** Most URLs one run takes (a list, a sitemap's entries, or the hot set). */
export const MAX_WARM_URLS = 1000
/** Hot keys warmed by `{ "hot": true }`. */
export const DEFAULT_HOT_WARM = 50

export type WarmSource = { kind: 'list'; urls: string[] } | { kind: 'sitemap'; url: string } | { kind: 'hot'; limit: number }

export interface WarmRequest {
  source: WarmSource
  budget: number | undefined
  concurrency: number | undefined
}

type Result<T> = { ok: true; value: T } | { ok: false; error: string }

const FIELDS = new Set(['urls', 'sitemap', 'hot', 'budget', 'concurrency'])

/**
 * Resolves `value` (a path or an absolute http(s) URL) against `base`; an error text when it is not one,
 * or names another host than `base`'s (the worker only warms what it serves).
 */
export function sameHostUrl(value: unknown, base: URL): Result<string> {
  if (typeof value !== 'string' || value.length === 0 || value.length > 8192) {
    return { ok: false, error: 'must be a path or an absolute URL of at most 8192 characters' }
  }
  if (value.startsWith('//')) return { ok: false, error: 'must not start with "//"' }
  let url: URL
  try {
    url = new URL(value, base)
  } catch {
    return { ok: false, error: 'must be a path starting with "/" or an absolute http(s) URL' }
  }
  if (!value.startsWith('/') && !/^https?:\/\//i.test(value)) return { ok: false, error: 'must be a path starting with "/" or an absolute http(s) URL' }
  if (url.host !== base.host) return { ok: false, error: `names host "${url.host}"; only "${base.host}" (the host this call was made to) can be warmed` }
  url.hash = ''
  return { ok: true, value: url.toString() }
}

const positive = (record: Record<string, unknown>, field: string): Result<number | undefined> => {
  const value = record[field]
  if (value === undefined) return { ok: true, value: undefined }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) return { ok: false, error: `"${field}" must be a positive integer` }
  return { ok: true, value }
}

/** Parses and validates a warm body (raw text, already size-checked) against the webhook's own URL. */
export function parseWarmBody(text: string, base: URL): Result<WarmRequest> {
  const parsed = parseJsonObject(text, FIELDS)
  if (!parsed.ok) return parsed
  const record = parsed.value
  const given = ['urls', 'sitemap', 'hot'].filter((f) => record[f] !== undefined)
  if (given.length !== 1) return { ok: false, error: 'give exactly one of "urls" (a list), "sitemap" (a URL) or "hot": true' }
  const budget = positive(record, 'budget')
  if (!budget.ok) return budget
  const concurrency = positive(record, 'concurrency')
  if (!concurrency.ok) return concurrency
  let source: WarmSource
  if (record.urls !== undefined) {
    const urls = record.urls
    if (!Array.isArray(urls) || urls.length === 0) return { ok: false, error: '"urls" must be a non-empty array of paths or URLs' }
    if (urls.length > MAX_WARM_URLS) return { ok: false, error: `"urls" has ${urls.length} items; at most ${MAX_WARM_URLS} are allowed` }
    const resolved: string[] = []
    for (let i = 0; i < urls.length; i++) {
      const url = sameHostUrl(urls[i], base)
      if (!url.ok) return { ok: false, error: `"urls[${i}]" ${url.error}` }
      resolved.push(url.value)
    }
    source = { kind: 'list', urls: [...new Set(resolved)] }
  } else if (record.sitemap !== undefined) {
    const url = sameHostUrl(record.sitemap, base)
    if (!url.ok) return { ok: false, error: `"sitemap" ${url.error}` }
    source = { kind: 'sitemap', url: url.value }
  } else {
    const hot = record.hot
    if (hot === true) source = { kind: 'hot', limit: DEFAULT_HOT_WARM }
    else if (typeof hot === 'number' && Number.isInteger(hot) && hot >= 1 && hot <= MAX_WARM_URLS) source = { kind: 'hot', limit: hot }
    else return { ok: false, error: `"hot" must be true or a number of keys from 1 to ${MAX_WARM_URLS}` }
  }
  return { ok: true, value: { source, budget: budget.value, concurrency: concurrency.value } }
}
