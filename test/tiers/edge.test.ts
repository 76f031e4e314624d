import { describe, expect, it } from 'vitest'
import { cacheKey } from '../../src/policy/key.ts'
import { edgeUrlFor, originOfKey } from '../../src/tiers/edge.ts'

// The edge URL's origin is sliced from the key's text; it must equal what URL parsing gives.
describe('edge tier URLs', () => {
  const urls = [
    'https://example.com/a?b=1',
    'http://example.com:8080/x/y',
    'https://EXAMPLE.com:443/',
    'http://[::1]:8787/path',
    'https://user:pw@example.com/p',
    'http://tiercache.test',
  ]
  it.each(urls)('takes the origin of the normalised key for %s', (raw) => {
    const key = cacheKey(new URL(raw), { ignoreQueryParams: [] })
    expect(originOfKey(key)).toBe(new URL(key).origin)
    expect(originOfKey(`${key}|v=abc|u=def`)).toBe(new URL(key).origin)
  })

  it('puts keys that are not http(s) URLs under a fixed host', () => {
    expect(originOfKey('data:user:42')).toBe('https://tiercache.invalid')
    expect(originOfKey('https://')).toBe('https://tiercache.invalid')
  })

  it('files the whole key as one encoded path segment under the internal prefix', () => {
    expect(edgeUrlFor('https://a.test/x?y=1|v=z', '/__tiercache')).toBe(
      `https://a.test/__tiercache/edge/${encodeURIComponent('https://a.test/x?y=1|v=z')}`
    )
  })
})
