/**
 * @module Sitemap URLs (sitemaps.org protocol 0.9): the `<loc>` entries of a `<urlset>`, or of the sitemaps
 * a `<sitemapindex>` lists (one level, at most {@link MAX_CHILD_SITEMAPS}). Read with a size bound: the
 * protocol caps a sitemap at 50 MB and 50,000 URLs; a warm run takes far fewer, so reading stops at
 * {@link MAX_SITEMAP_BYTES} and the entries are cut at the run's URL limit.
 *
 * Not an XML parser: `<loc>` holds a URL with the five XML entities escaped (the protocol requires it), and
 * nothing else in a sitemap can contain `<loc>`, so a pattern reads it exactly. CDATA sections are unwrapped.
 */
import { readBoundedText } from '../purge/read-bounded.ts'

/** Largest sitemap body read, in bytes. */
export const MAX_SITEMAP_BYTES = 5 * 1024 * 1024
/** Child sitemaps of an index that are read. */
export const MAX_CHILD_SITEMAPS = 10

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" }

const decodeEntity = (entity: string): string => {
  const named = ENTITIES[entity]
  if (named !== undefined) return named
  const code = entity[2] === 'x' || entity[2] === 'X' ? parseInt(entity.slice(3, -1), 16) : parseInt(entity.slice(2, -1), 10)
  return code <= 0x10ffff ? String.fromCodePoint(code) : entity
}

/** The `<loc>` values of a sitemap document, and whether it is an index of sitemaps. */
export function parseSitemap(xml: string): { index: boolean; locs: string[] } {
  const index = /<sitemapindex[\s>]/i.test(xml)
  const locs: string[] = []
  for (const match of xml.matchAll(/<loc>\s*(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))\s*<\/loc>/gi)) {
    const raw = match[1] ?? (match[2] ?? '').replace(/&(?:amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-f]{1,6});/gi, decodeEntity)
    const loc = raw.trim()
    if (loc) locs.push(loc)
  }
  return { index, locs }
}

/** Fetches a sitemap (through `get`, which reaches the origin) and returns its page URLs, at most `limit`. */
export async function sitemapUrls(url: string, get: (url: string) => Promise<Response>, limit: number): Promise<{ ok: true; urls: string[] } | { ok: false; error: string }> {
  const read = async (target: string): Promise<{ index: boolean; locs: string[] } | string> => {
    const response = await get(target)
    if (!response.ok) {
      await response.body?.cancel().catch(() => {})
      return `sitemap ${target} answered ${response.status}`
    }
    const text = await readBoundedText(response, MAX_SITEMAP_BYTES, 0)
    if (text === undefined) return `sitemap ${target} is larger than ${MAX_SITEMAP_BYTES} bytes`
    return parseSitemap(text)
  }
  const root = await read(url)
  if (typeof root === 'string') return { ok: false, error: root }
  if (!root.index) return { ok: true, urls: root.locs.slice(0, limit) }
  const urls: string[] = []
  for (const child of root.locs.slice(0, MAX_CHILD_SITEMAPS)) {
    if (urls.length >= limit) break
    const doc = await read(child)
    if (typeof doc === 'string') return { ok: false, error: doc }
    urls.push(...doc.locs.slice(0, limit - urls.length))
  }
  return { ok: true, urls }
}
