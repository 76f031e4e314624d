/**
 * @module Sitemaps (sitemaps.org 0.9) for warming: `/sitemap.xml` lists the demo's own pages (the seeded
 * items and a few public ones); `?prefix=/public/sm-&n=5` lists `/public/sm-1` … `/public/sm-5` instead,
 * so a test warms URLs no other test touches. `/sitemap-index.xml?prefix=…&n=…&parts=2` is a sitemap index
 * over `parts` such sitemaps (`…&part=<i>&of=<parts>` each). Locations are absolute on the host asked for.
 */
import { header, intParam, problem, type OriginRequest, type Reply, type Route } from '../http.ts'

const XML = 'application/xml; charset=utf-8'
const DEFAULT_PATHS = ['/items/1', '/items/2', '/items/3', '/public/1', '/public/2', '/tagged/42']

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }
const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
const base = (req: OriginRequest): string => `http://${header(req, 'host') ?? 'localhost'}`

/** The paths a sitemap request names: the defaults, or `prefix` + 1..n (part `part` of `of`). */
function paths(req: OriginRequest): string[] | Reply {
  const prefix = req.query.get('prefix')
  if (prefix === null) return DEFAULT_PATHS
  const n = intParam(req.query.get('n'), 1, 10_000)
  const part = intParam(req.query.get('part'), 1, 100, 1)
  const of = intParam(req.query.get('of'), 1, 100, 1)
  if (!prefix.startsWith('/') || n === undefined || part === undefined || of === undefined || part > of) {
    return problem(400, 'use ?prefix=/path-&n=<1..10000>[&part=<i>&of=<parts>]')
  }
  const all = Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`)
  return all.filter((_, i) => i % of === part - 1)
}

export function sitemapRoutes(): Route[] {
  return [
    {
      methods: ['GET'],
      pattern: '/sitemap.xml',
      handle: (req) => {
        const list = paths(req)
        if (!Array.isArray(list)) return list
        const urls = list.map((p) => `  <url><loc>${escapeXml(base(req) + p)}</loc></url>`).join('\n')
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls}\n</urlset>\n`
        return { status: 200, headers: { 'Content-Type': XML, 'Cache-Control': 'public, max-age=60' }, body }
      },
    },
    {
      methods: ['GET'],
      pattern: '/sitemap-index.xml',
      handle: (req) => {
        const parts = intParam(req.query.get('parts'), 1, 100, 2)
        const prefix = req.query.get('prefix') ?? ''
        const n = req.query.get('n') ?? ''
        if (parts === undefined || !prefix.startsWith('/')) return problem(400, 'use ?prefix=/path-&n=<count>&parts=<sitemaps>')
        const entries = Array.from({ length: parts }, (_, i) => {
          const query = new URLSearchParams({ prefix, n, part: String(i + 1), of: String(parts) })
          return `  <sitemap><loc>${escapeXml(`${base(req)}/sitemap.xml?${query}`)}</loc></sitemap>`
        }).join('\n')
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${entries}\n</sitemapindex>\n`
        return { status: 200, headers: { 'Content-Type': XML, 'Cache-Control': 'public, max-age=60' }, body }
      },
    },
  ]
}
