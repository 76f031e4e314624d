import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { acceptsGzip, negotiateLanguage } from '../../../scripts/demo-origin/negotiation.ts'
import { request, useOrigin } from './helpers.ts'

const origin = useOrigin()

describe('negotiation', () => {
  it.each([
    [undefined, 'en'],
    ['fr', 'fr'],
    ['fr-CA, en;q=0.5', 'fr'],
    ['es, de;q=0.9, fr;q=0.8', 'de'],
    ['fr;q=0.2, de;q=0.7', 'de'],
    ['fr;q=0, *', 'en'],
    ['ja', 'en'],
  ])('picks a language for Accept-Language %s → %s', (header, lang) => {
    expect(negotiateLanguage(header)).toBe(lang)
  })

  it.each([
    [undefined, false],
    ['gzip', true],
    ['br, gzip;q=0.5', true],
    ['gzip;q=0', false],
    ['*', true],
    ['gzip;q=0, *', false],
    ['br, deflate', false],
    ['x-gzip', true],
  ])('decides gzip for Accept-Encoding %s → %s', (header, gzip) => {
    expect(acceptsGzip(header)).toBe(gzip)
  })
})

describe('Vary endpoints', () => {
  it('answers /vary/lang in the negotiated language with Content-Language and Vary', async () => {
    const fr = await request(`${origin().url}/vary/lang`, { headers: { 'accept-language': 'fr-FR' } })
    expect(fr.headers.vary).toBe('Accept-Language')
    expect(fr.headers['content-language']).toBe('fr')
    expect(fr.text).toContain('bonjour')
    const de = await request(`${origin().url}/vary/lang`, { headers: { 'accept-language': 'de' } })
    expect(de.text).toContain('hallo')
    const none = await request(`${origin().url}/vary/lang`)
    expect(none.headers['content-language']).toBe('en')
    expect(none.text).toContain('hello')
  })

  it('sends gzip bytes with Content-Encoding when the client accepts gzip', async () => {
    const res = await request(`${origin().url}/vary/encoding`, { headers: { 'accept-encoding': 'gzip, br' } })
    expect(res.headers['content-encoding']).toBe('gzip')
    expect(res.headers.vary).toBe('Accept-Encoding')
    expect([...res.body.subarray(0, 2)]).toEqual([0x1f, 0x8b])
    expect(Number(res.headers['content-length'])).toBe(res.body.length)
    const text = gunzipSync(res.body).toString('utf8')
    expect(text).toContain(`serial ${res.headers['x-origin-serial']}`)
    expect(res.body.length).toBeLessThan(text.length / 4)
  })

  it('sends identity without Content-Encoding otherwise', async () => {
    for (const headers of [{}, { 'accept-encoding': 'gzip;q=0' }, { 'accept-encoding': 'identity' }] as Array<Record<string, string>>) {
      const res = await request(`${origin().url}/vary/encoding`, { headers })
      expect(res.headers['content-encoding']).toBeUndefined()
      expect(res.headers.vary).toBe('Accept-Encoding')
      expect(res.text).toContain('compressible')
    }
  })

  it('marks /vary/star with Vary: *', async () => {
    const res = await request(`${origin().url}/vary/star`)
    expect(res.headers.vary).toBe('*')
    expect(res.headers['cache-control']).toBe('public, max-age=60')
  })

  it('puts the X-Tenant value in the /vary/custom body', async () => {
    const res = await request(`${origin().url}/vary/custom`, { headers: { 'x-tenant': 'acme' } })
    expect(res.headers.vary).toBe('X-Tenant')
    expect(res.text).toContain('tenant acme')
    expect((await request(`${origin().url}/vary/custom`)).text).toContain('tenant none')
  })
})
