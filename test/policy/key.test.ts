import { describe, expect, it } from 'vitest'
import { cacheKey, normaliseQuery, normaliseUrl, stripUnkeyedHeaders } from '../../src/policy/key.ts'

const key = (href: string, options = {}) => cacheKey(new URL(href), options)

describe('cacheKey (RFC 9111 §2, design.md §4 rule 2)', () => {
  it('keeps scheme, host, path and query', () => {
    expect(key('https://example.com/a/b?x=1')).toBe('https://example.com/a/b?x=1')
  })

  it('lower-cases the host but keeps the path case', () => {
    expect(key('https://Example.COM/Docs/README')).toBe('https://example.com/Docs/README')
  })

  it('keeps the scheme in the key', () => {
    expect(key('http://example.com/')).not.toBe(key('https://example.com/'))
  })

  it('keeps a non-default port and drops a default one', () => {
    expect(key('https://example.com:8443/')).toBe('https://example.com:8443/')
    expect(key('https://example.com:443/')).toBe('https://example.com/')
  })

  it('drops the fragment', () => {
    expect(key('https://example.com/page#section')).toBe('https://example.com/page')
  })

  it('drops an empty ?', () => {
    expect(key('https://example.com/page?')).toBe('https://example.com/page')
  })

  it('drops userinfo', () => {
    expect(key('https://user:pw@example.com/')).toBe('https://example.com/')
  })

  it('upper-cases percent-encoding hex in path and query (RFC 3986 §6.2.2.1)', () => {
    expect(key('https://example.com/a%2fb%c3%a9?q=%e2%82%ac')).toBe(
      'https://example.com/a%2Fb%C3%A9?q=%E2%82%AC'
    )
  })

  it('does not decode reserved characters (%2F stays distinct from /)', () => {
    expect(key('https://example.com/a%2Fb')).not.toBe(key('https://example.com/a/b'))
  })

  it('does not decode unreserved characters either (the origin decides what %7E means)', () => {
    expect(key('https://example.com/%7Euser')).toBe('https://example.com/%7Euser')
  })

  it('resolves dot-segments the way the URL parser does', () => {
    expect(key('https://example.com/a/./b/../c')).toBe('https://example.com/a/c')
  })

  it('sorts query parameters by name', () => {
    expect(key('https://example.com/?b=2&a=1&c=3')).toBe('https://example.com/?a=1&b=2&c=3')
  })

  it('sorts stably: repeated names keep their relative order', () => {
    expect(key('https://example.com/?z=0&a=2&a=1')).toBe('https://example.com/?a=2&a=1&z=0')
  })

  it('keeps the original order with sortQuery: false', () => {
    expect(key('https://example.com/?b=2&a=1', { sortQuery: false })).toBe(
      'https://example.com/?b=2&a=1'
    )
  })

  it('drops empty query members', () => {
    expect(key('https://example.com/?a=1&&b=2&')).toBe('https://example.com/?a=1&b=2')
  })

  it('keeps valueless and empty-valued parameters distinct', () => {
    expect(key('https://example.com/?a')).not.toBe(key('https://example.com/?a='))
  })

  it('keeps + and %20 distinct in values', () => {
    expect(key('https://example.com/?q=a+b')).not.toBe(key('https://example.com/?q=a%20b'))
  })

  it('strips ignored parameters by prefix pattern (utm_*)', () => {
    const options = { ignoreQueryParams: ['utm_*', 'fbclid'] }
    expect(key('https://example.com/p?utm_source=x&id=7&fbclid=abc&utm_medium=y', options)).toBe(
      'https://example.com/p?id=7'
    )
  })

  it('drops the ? when every parameter is ignored', () => {
    expect(key('https://example.com/p?utm_source=x', { ignoreQueryParams: ['utm_*'] })).toBe(
      'https://example.com/p'
    )
  })

  it('matches a prefix pattern only at the start of the name, with the whole prefix', () => {
    const options = { ignoreQueryParams: ['utm_*'] }
    expect(key('https://example.com/?user=1&utm=2&xutm_a=3&utm_id=4', options)).toBe(
      'https://example.com/?user=1&utm=2&xutm_a=3'
    )
  })

  it('decodes + in a name as a space before matching (form encoding)', () => {
    expect(key('https://example.com/?utm+source=x&id=1', { ignoreQueryParams: ['utm source'] })).toBe(
      'https://example.com/?id=1'
    )
  })

  it('keeps a name with a malformed percent-escape and matches it by its raw form', () => {
    expect(key('https://example.com/?%E0=1&id=2', { ignoreQueryParams: ['utm_*'] })).toBe(
      'https://example.com/?%E0=1&id=2'
    )
    expect(key('https://example.com/?%E0=1&id=2', { ignoreQueryParams: ['%E0'] })).toBe(
      'https://example.com/?id=2'
    )
  })

  it('matches ignored names after percent-decoding, exactly and case-sensitively', () => {
    const options = { ignoreQueryParams: ['utm_source', 'gclid'] }
    expect(key('https://example.com/?utm%5Fsource=x&GCLID=1&gclidx=2', options)).toBe(
      'https://example.com/?GCLID=1&gclidx=2'
    )
  })
})

describe('normaliseQuery', () => {
  it('removes only a leading ? and keeps one inside a value', () => {
    expect(normaliseQuery('?next=/search?q=1')).toBe('next=/search?q=1')
    expect(normaliseQuery('next=/search?q=1')).toBe('next=/search?q=1')
  })
})

describe('normaliseUrl', () => {
  it('returns the URL the stack should fetch, so ignored parameters never reach the origin', () => {
    const url = normaliseUrl(new URL('https://Example.com/x?utm_campaign=<script>&b=1#frag'), {
      ignoreQueryParams: ['utm_*'],
    })
    expect(url.href).toBe('https://example.com/x?b=1')
  })

  it('names the same URL as normalising through URL setters (the form cacheKey replaced), for awkward inputs', () => {
    const throughSetters = (href: string, ignoreQueryParams: string[]): string => {
      const out = new URL(href)
      out.username = ''
      out.password = ''
      out.hash = ''
      out.hostname = out.hostname.toLowerCase()
      out.pathname = out.pathname.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => `%${hex.toUpperCase()}`)
      out.search = normaliseQuery(out.search, { ignoreQueryParams })
      return out.href
    }
    const hrefs = [
      'https://user:pw@Example.COM:443/a/%2e%2e/b%2fc/./d?#frag',
      'http://EXAMPLE.com:8080/%7euser/%2E/x?b=%2f&a=%e2%82%ac&a=1#x',
      'https://[2001:DB8::1]:8443/p?q',
      'https://xn--bcher-kva.example/%41%zz%4?utm_source=x',
      "https://example.com/it's here/<>\"?q='1' 2&z",
      'https://example.com/?utm_source=only',
      'https://example.com',
      'https://example.com/%c3%a9t%C3%A9?%C3%A9=1&%c3%a9=2',
    ]
    for (const href of hrefs) {
      for (const ignore of [[], ['utm_*']]) {
        expect(cacheKey(new URL(href), { ignoreQueryParams: ignore }), href).toBe(throughSetters(href, ignore))
        expect(normaliseUrl(new URL(href), { ignoreQueryParams: ignore }).href, href).toBe(throughSetters(href, ignore))
      }
    }
  })

  it('does not modify its input', () => {
    const input = new URL('https://example.com/?b=1&a=2#f')
    normaliseUrl(input)
    expect(input.href).toBe('https://example.com/?b=1&a=2#f')
  })
})

describe('stripUnkeyedHeaders (cache-poisoning defence)', () => {
  // The classic host/scheme/URL/method override headers: an origin (or a framework in front of it)
  // that honours one of them would answer differently for the same cache key.
  it.each([
    'x-forwarded-host',
    'x-forwarded-scheme',
    'x-forwarded-proto',
    'x-forwarded-port',
    'x-forwarded-server',
    'x-forwarded-prefix',
    'x-forwarded-uri',
    'x-original-url',
    'x-original-host',
    'x-original-method',
    'x-rewrite-url',
    'x-http-method-override',
    'x-http-method',
    'x-method-override',
    'x-host',
    'forwarded',
  ])('strips %s and keeps the harmless headers beside it', (name) => {
    const headers = new Headers({ [name]: 'evil.test', accept: 'text/html', 'x-request-id': '42' })
    const stripped = stripUnkeyedHeaders(headers)
    expect(stripped.has(name)).toBe(false)
    expect([...stripped]).toEqual([
      ['accept', 'text/html'],
      ['x-request-id', '42'],
    ])
  })

  it('removes them case-insensitively and keeps the rest', () => {
    const headers = new Headers({
      'X-Forwarded-Host': 'evil.test',
      'X-HTTP-Method-Override': 'DELETE',
      Forwarded: 'host=evil.test',
      Accept: 'text/html',
      'Accept-Encoding': 'gzip',
    })
    expect([...stripUnkeyedHeaders(headers)]).toEqual([
      ['accept', 'text/html'],
      ['accept-encoding', 'gzip'],
    ])
  })

  it('returns a copy and leaves the input untouched', () => {
    const headers = new Headers({ 'x-original-url': '/admin' })
    const stripped = stripUnkeyedHeaders(headers)
    expect(stripped).not.toBe(headers)
    expect(headers.get('x-original-url')).toBe('/admin')
  })
})
