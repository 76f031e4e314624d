import { describe, expect, it } from 'vitest'
import { parseSitemap, sitemapUrls, MAX_SITEMAP_BYTES } from '../../src/warm/sitemap.ts'

describe('parseSitemap', () => {
  it('reads <loc> entries, unescaping entities and CDATA', () => {
    const xml = `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://a.test/x?a=1&amp;b=2</loc><lastmod>2024-01-01</lastmod></url>
      <url><loc> https://a.test/y&#39;s </loc></url>
      <url><loc><![CDATA[https://a.test/z?q=<1>]]></loc></url></urlset>`
    expect(parseSitemap(xml)).toEqual({ index: false, locs: ['https://a.test/x?a=1&b=2', "https://a.test/y's", 'https://a.test/z?q=<1>'] })
  })

  it('tells a sitemap index', () => {
    expect(parseSitemap('<sitemapindex><sitemap><loc>https://a.test/s1.xml</loc></sitemap></sitemapindex>')).toEqual({ index: true, locs: ['https://a.test/s1.xml'] })
  })
})

describe('sitemapUrls', () => {
  const serve = (docs: Record<string, string | Response>) => async (url: string) => {
    const doc = docs[url]
    return doc instanceof Response ? doc : doc === undefined ? new Response('no', { status: 404 }) : new Response(doc)
  }

  it('follows one level of index and stops at the limit', async () => {
    const get = serve({
      'https://a.test/i.xml': '<sitemapindex><sitemap><loc>https://a.test/1.xml</loc></sitemap><sitemap><loc>https://a.test/2.xml</loc></sitemap></sitemapindex>',
      'https://a.test/1.xml': '<urlset><url><loc>https://a.test/a</loc></url><url><loc>https://a.test/b</loc></url></urlset>',
      'https://a.test/2.xml': '<urlset><url><loc>https://a.test/c</loc></url></urlset>',
    })
    expect(await sitemapUrls('https://a.test/i.xml', get, 10)).toEqual({ ok: true, urls: ['https://a.test/a', 'https://a.test/b', 'https://a.test/c'] })
    expect(await sitemapUrls('https://a.test/i.xml', get, 2)).toEqual({ ok: true, urls: ['https://a.test/a', 'https://a.test/b'] })
  })

  it('says why a sitemap could not be read', async () => {
    expect(await sitemapUrls('https://a.test/none.xml', serve({}), 10)).toEqual({ ok: false, error: 'sitemap https://a.test/none.xml answered 404' })
    const big = new Response('x'.repeat(MAX_SITEMAP_BYTES + 1))
    expect(await sitemapUrls('https://a.test/big.xml', serve({ 'https://a.test/big.xml': big }), 10)).toEqual({
      ok: false,
      error: `sitemap https://a.test/big.xml is larger than ${MAX_SITEMAP_BYTES} bytes`,
    })
  })
})
