import { describe, expect, it } from 'vitest'
import {
  ABSENT_HEADER,
  normaliseRequestHeader,
  parseVary,
  variantKeyMaterial,
  variantKeySuffix,
} from '../../src/policy/vary.ts'

describe('parseVary (RFC 9110 §12.5.5)', () => {
  it('returns [] for an absent or empty field', () => {
    expect(parseVary(null)).toEqual([])
    expect(parseVary('')).toEqual([])
  })

  it('lower-cases, deduplicates and sorts the names', () => {
    expect(parseVary('Accept-Encoding, accept, ACCEPT ,, Origin')).toEqual([
      'accept',
      'accept-encoding',
      'origin',
    ])
  })

  it('returns * when any member is *', () => {
    expect(parseVary('*')).toBe('*')
    expect(parseVary('Accept, *')).toBe('*')
  })

  it('returns * for a member that is not a token (cannot be matched, so never stored)', () => {
    expect(parseVary('Accept Encoding')).toBe('*')
  })
})

describe('normaliseRequestHeader: Accept-Encoding (RFC 9110 §12.5.3)', () => {
  const ae = (value: string | null, encodings?: readonly string[]) =>
    normaliseRequestHeader('Accept-Encoding', value, encodings ? { encodings } : undefined)

  it('reduces a typical browser value to gzip with the default encodings', () => {
    expect(ae('gzip, deflate, br, zstd')).toBe('gzip')
  })

  it('does not pick br unless we serve it', () => {
    expect(ae('br')).toBe('identity')
  })

  it('picks br when we serve and prefer it', () => {
    expect(ae('gzip, deflate, br', ['br', 'gzip', 'identity'])).toBe('br')
  })

  it('honours q-values over our preference', () => {
    expect(ae('br;q=0.5, gzip;q=0.9', ['br', 'gzip', 'identity'])).toBe('gzip')
  })

  it('excludes a coding with q=0', () => {
    expect(ae('gzip;q=0, identity')).toBe('identity')
    expect(ae('gzip;q=0.000')).toBe('identity')
  })

  it('tolerates whitespace and case in members and parameters', () => {
    expect(ae(' GZIP ; Q=0.8 , identity;q=0.1')).toBe('gzip')
    // weight = OWS ";" OWS "q=" qvalue (§12.4.2): the space after ";" is allowed.
    expect(ae('gzip; q=0')).toBe('identity')
    expect(ae('gzip;q= 0.5')).toBe('gzip')
  })

  it('reads any decimal weight, clamped to 1', () => {
    expect(ae('gzip;q=1')).toBe('gzip')
    expect(ae('gzip;q=0.25')).toBe('gzip')
    expect(ae('gzip;q=10')).toBe('gzip')
  })

  it('takes the weight only from a q parameter', () => {
    expect(ae('gzip;x=0')).toBe('gzip')
    expect(ae('gzip;qq')).toBe('gzip')
  })

  it('lets the client prefer identity over a coding we serve', () => {
    expect(ae('gzip;q=0.1, identity;q=0.5')).toBe('identity')
  })

  it('treats x-gzip as gzip (§8.4.1.3)', () => {
    expect(ae('x-gzip')).toBe('gzip')
  })

  it('lets * cover the codings not listed', () => {
    expect(ae('*')).toBe('gzip')
    expect(ae('br, *;q=0.1', ['br', 'gzip', 'identity'])).toBe('br')
  })

  it('lets * rate identity too ("any available content coding not explicitly listed")', () => {
    expect(ae('gzip;q=0.1, *;q=0.5')).toBe('identity')
  })

  it('*;q=0 excludes gzip but identity falls back', () => {
    expect(ae('*;q=0')).toBe('identity')
  })

  it('reads an absent or empty header as identity ("does not want any content coding")', () => {
    expect(ae(null)).toBe('identity')
    expect(ae('')).toBe('identity')
  })

  it('ignores members with an unparseable weight', () => {
    expect(ae('gzip;q=high')).toBe('identity')
  })

  it('ignores such a member entirely, so * or a later member for the coding still applies', () => {
    for (const weight of ['high', 'x1', '1x', '1e0', '-1']) {
      expect([weight, ae(`gzip;q=${weight}, *;q=0.5`)]).toEqual([weight, 'gzip'])
    }
    expect(ae('gzip;q=high, gzip')).toBe('gzip')
  })

  it('maps many spellings to the same token', () => {
    const values = ['gzip', 'gzip, deflate', 'deflate, gzip;q=1.0', 'br;q=0.1, GZip']
    expect(new Set(values.map((v) => ae(v)))).toEqual(new Set(['gzip']))
  })
})

describe('normaliseRequestHeader: other headers (RFC 9111 §4.1)', () => {
  it('lower-cases Accept-Language and removes whitespace', () => {
    expect(normaliseRequestHeader('accept-language', 'en-GB, en;q=0.8 ,FR ; q=0.5')).toBe(
      'en-gb,en;q=0.8,fr;q=0.5'
    )
  })

  it('keeps the order of Accept-Language ranges (we do not know the origin languages)', () => {
    expect(normaliseRequestHeader('Accept-Language', 'fr, en')).not.toBe(
      normaliseRequestHeader('Accept-Language', 'en, fr')
    )
  })

  it('keys unknown headers by their members, without the whitespace around list separators (RFC 9110 §5.6.1)', () => {
    expect(normaliseRequestHeader('Foo', ' 1, 2 ')).toBe(normaliseRequestHeader('Foo', '1,2'))
    expect(normaliseRequestHeader('X-Device', 'Mobile ')).toBe('Mobile')
    // Case and the members themselves are kept: only the separators' whitespace goes.
    expect(normaliseRequestHeader('X-Device', 'Mobile')).not.toBe(normaliseRequestHeader('X-Device', 'mobile'))
    expect(normaliseRequestHeader('Foo', '1 2')).not.toBe(normaliseRequestHeader('Foo', '12'))
    // A quoted string is one member, commas and spaces included.
    expect(normaliseRequestHeader('Foo', 'a="x,  y", b')).toBe('a="x,  y",b')
  })

  it('keeps an absent header distinct from a present empty one', () => {
    expect(normaliseRequestHeader('x-flag', null)).toBe(ABSENT_HEADER)
    expect(normaliseRequestHeader('x-flag', '')).toBe('')
    expect(normaliseRequestHeader('accept-language', null)).toBe(ABSENT_HEADER)
  })
})

describe('variantKeySuffix (RFC 9111 §4.1)', () => {
  it('is empty when the response does not vary', async () => {
    expect(await variantKeySuffix([], new Headers({ cookie: 'a=1' }))).toBe('')
  })

  it('is 22 base64url characters', async () => {
    const suffix = await variantKeySuffix(['accept-encoding'], new Headers())
    expect(suffix).toMatch(/^[A-Za-z0-9_-]{22}$/)
  })

  it('is the SHA-256 of the canonical material', async () => {
    const headers = new Headers({ 'accept-encoding': 'gzip, br' })
    expect(variantKeyMaterial(['Accept-Encoding'], headers)).toBe('accept-encoding:gzip')
    const digest = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode('accept-encoding:gzip'))
    )
    const expected = btoa(String.fromCharCode(...digest))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .slice(0, 22)
    expect(await variantKeySuffix(['accept-encoding'], headers)).toBe(expected)
  })

  it('is the same for requests whose Accept-Encoding normalises alike', async () => {
    const a = await variantKeySuffix(['accept-encoding'], new Headers({ 'accept-encoding': 'gzip' }))
    const b = await variantKeySuffix(
      ['accept-encoding'],
      new Headers({ 'accept-encoding': 'br, deflate, gzip' })
    )
    expect(a).toBe(b)
  })

  it('differs between gzip and identity variants', async () => {
    const a = await variantKeySuffix(['accept-encoding'], new Headers({ 'accept-encoding': 'gzip' }))
    const b = await variantKeySuffix(['accept-encoding'], new Headers())
    expect(a).not.toBe(b)
  })

  it('does not depend on the order or case of the Vary names', async () => {
    const headers = new Headers({ accept: 'text/html', 'accept-language': 'en' })
    expect(await variantKeySuffix(['Accept-Language', 'accept'], headers)).toBe(
      await variantKeySuffix(['accept', 'accept-language', 'ACCEPT'], headers)
    )
  })

  it('separates an absent header from an empty one', async () => {
    const absent = await variantKeySuffix(['x-flag'], new Headers())
    const empty = await variantKeySuffix(['x-flag'], new Headers({ 'x-flag': '' }))
    expect(absent).not.toBe(empty)
  })

  it('separates users when the response varies on Cookie, without holding the cookie', async () => {
    const alice = await variantKeySuffix(['cookie'], new Headers({ cookie: 'sid=alice' }))
    const bob = await variantKeySuffix(['cookie'], new Headers({ cookie: 'sid=bob' }))
    expect(alice).not.toBe(bob)
    expect(alice).not.toContain('alice')
  })

  it('keeps each header in its own line, so values cannot shift between headers', async () => {
    // Without a separator both would hash 'x-a:1x-b:x-b:2'.
    const one = new Headers({ 'x-a': '1x-b:', 'x-b': '2' })
    const two = new Headers({ 'x-a': '1', 'x-b': 'x-b:2' })
    expect(await variantKeySuffix(['x-a', 'x-b'], one)).not.toBe(await variantKeySuffix(['x-a', 'x-b'], two))
  })

  it('is base64url: + and / of the digest become - and _ (RFC 4648 §5)', async () => {
    // SHA-256('x-probe:1') starts 'BMN4Bl/UOPiiQvcscDloN+' in standard base64.
    const headers = new Headers({ 'x-probe': '1' })
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('x-probe:1'))
    const standard = Buffer.from(digest).toString('base64').slice(0, 22)
    expect(standard).toMatch(/\+/)
    expect(standard).toMatch(/\//)
    expect(await variantKeySuffix(['x-probe'], headers)).toBe(
      Buffer.from(digest).toString('base64url').slice(0, 22)
    )
  })

  it('joins repeated header lines like Headers does', async () => {
    const joined = new Headers()
    joined.append('x-tag', 'a')
    joined.append('x-tag', 'b')
    expect(await variantKeySuffix(['x-tag'], joined)).toBe(
      await variantKeySuffix(['x-tag'], new Headers({ 'x-tag': 'a, b' }))
    )
  })
})
