import { describe, expect, it } from 'vitest'
import {
  deltaSeconds,
  fieldNames,
  parseCacheControl,
  parseRequestDirectives,
  selectTargetedDirectives,
} from '../../src/policy/cache-control.ts'

const entries = (value: string | null) => [...parseCacheControl(value)]

describe('parseCacheControl (RFC 9111 §5.2)', () => {
  it('returns an empty map for an absent field', () => {
    expect(entries(null)).toEqual([])
  })

  it('parses valueless and valued directives', () => {
    expect(entries('public, max-age=60')).toEqual([
      ['public', true],
      ['max-age', '60'],
    ])
  })

  it('lower-cases directive names ("Cache directives are ... case-insensitive", §5.2)', () => {
    expect(entries('No-Store, MAX-AGE=5')).toEqual([
      ['no-store', true],
      ['max-age', '5'],
    ])
  })

  it('accepts the quoted-string form of arguments ("recipients ought to accept both forms", §5.2)', () => {
    expect(parseCacheControl('max-age="60"').get('max-age')).toBe('60')
  })

  it('does not split on commas inside a quoted private="..." list', () => {
    expect(entries('private="Set-Cookie, X-Foo", max-age=0')).toEqual([
      ['private', 'Set-Cookie, X-Foo'],
      ['max-age', '0'],
    ])
  })

  it('resolves quoted-pairs inside quoted strings', () => {
    expect(parseCacheControl('ext="a\\"b"').get('ext')).toBe('a"b')
  })

  it('tolerates surrounding whitespace, empty members and spaces around "="', () => {
    expect(entries('  ,max-age = 30 ,, public  ,')).toEqual([
      ['max-age', '30'],
      ['public', true],
    ])
  })

  it('skips members whose name is not a token', () => {
    expect(entries('max age=3, "quoted"=1, =5, s-maxage=9')).toEqual([['s-maxage', '9']])
  })

  it('keeps an empty argument as an empty string', () => {
    expect(parseCacheControl('max-age=').get('max-age')).toBe('')
  })

  it('keeps unknown extension directives', () => {
    expect(parseCacheControl('community="UCI", immutable').get('community')).toBe('UCI')
  })

  it('treats conflicting duplicate max-age as stale ("either the first occurrence should be used or the response should be considered stale", §4.2.1)', () => {
    expect(parseCacheControl('max-age=60, max-age=3600').get('max-age')).toBe('0')
  })

  it('keeps identical duplicate max-age values', () => {
    expect(parseCacheControl('max-age=60, max-age="60"').get('max-age')).toBe('60')
  })

  it('does not read two spellings of the same number of seconds as a conflict', () => {
    expect(deltaSeconds(parseCacheControl('max-age=60, max-age=060'), 'max-age')).toBe(60)
  })

  it('keeps a repeated bare max-stale as "any staleness" (identical duplicates collapse)', () => {
    expect(parseCacheControl('max-stale, max-stale').get('max-stale')).toBe(true)
  })

  it('treats conflicting duplicate s-maxage and stale-while-revalidate as 0', () => {
    const d = parseCacheControl('s-maxage=10, S-MAXAGE=20, stale-while-revalidate=5, stale-while-revalidate=9')
    expect(d.get('s-maxage')).toBe('0')
    expect(d.get('stale-while-revalidate')).toBe('0')
  })

  it('treats conflicting duplicate stale-if-error and max-stale as 0 (no staleness allowed)', () => {
    const d = parseCacheControl('stale-if-error=10, stale-if-error=20, max-stale=5, max-stale=50')
    expect(d.get('stale-if-error')).toBe('0')
    expect(d.get('max-stale')).toBe('0')
  })

  it('treats two different unreadable values as a conflict too', () => {
    const d = parseCacheControl('stale-while-revalidate=soon, stale-while-revalidate=later')
    expect(d.get('stale-while-revalidate')).toBe('0')
  })

  it('unites duplicate qualified private lists, and the bare form wins', () => {
    expect(parseCacheControl('private="a", private="b, a"').get('private')).toBe('a, b')
    expect(parseCacheControl('private="a", private').get('private')).toBe(true)
  })

  it('unites duplicate qualified no-cache lists too (§5.2.2.4)', () => {
    expect(parseCacheControl('no-cache="x-a", no-cache="x-b"').get('no-cache')).toBe('x-a, x-b')
  })

  it('lets an empty qualified list in a duplicate cover the whole response, as it does alone', () => {
    expect(parseCacheControl('private="x-a", private=""').get('private')).toBe(true)
    expect(parseCacheControl('no-cache="", no-cache="set-cookie"').get('no-cache')).toBe(true)
  })

  it('keeps the larger of conflicting min-fresh values', () => {
    expect(parseCacheControl('min-fresh=5, min-fresh=50').get('min-fresh')).toBe('50')
    expect(parseCacheControl('min-fresh=50, min-fresh=5').get('min-fresh')).toBe('50')
  })

  it('keeps a valid min-fresh over an unreadable one, whichever comes first (the conservative reading)', () => {
    expect(parseCacheControl('min-fresh=abc, min-fresh=5').get('min-fresh')).toBe('5')
    expect(parseCacheControl('min-fresh=5, min-fresh=soon').get('min-fresh')).toBe('5')
  })

  it('keeps the first occurrence of other duplicated directives', () => {
    expect(parseCacheControl('ext=1, ext=2').get('ext')).toBe('1')
  })
})

describe('deltaSeconds (RFC 9111 §1.2.2)', () => {
  it('reads a non-negative integer', () => {
    expect(deltaSeconds(parseCacheControl('max-age=120'), 'max-age')).toBe(120)
  })

  it('is undefined for an absent directive', () => {
    expect(deltaSeconds(parseCacheControl('public'), 'max-age')).toBeUndefined()
  })

  it('matches the directive name case-insensitively', () => {
    expect(deltaSeconds(parseCacheControl('max-age=7'), 'Max-Age')).toBe(7)
  })

  it.each(['-1', '1.5', '+3', 'abc', '', '0x10'])(
    'reads an invalid max-age=%j as 0 (stale), the conservative choice',
    (arg) => {
      expect(deltaSeconds(parseCacheControl(`max-age=${arg}`), 'max-age')).toBe(0)
    }
  )

  it('reads a bare max-age as 0 and a bare s-maxage as 0', () => {
    expect(deltaSeconds(parseCacheControl('max-age'), 'max-age')).toBe(0)
    expect(deltaSeconds(parseCacheControl('s-maxage'), 's-maxage')).toBe(0)
  })

  it('is undefined for other directives with an invalid argument', () => {
    expect(deltaSeconds(parseCacheControl('stale-if-error=soon'), 'stale-if-error')).toBeUndefined()
  })

  it('caps values at 2^31 ("the cache MUST consider the value to be 2147483648", §1.2.2)', () => {
    expect(deltaSeconds(parseCacheControl('max-age=99999999999999999999'), 'max-age')).toBe(2147483648)
  })

  it('accepts leading zeros', () => {
    expect(deltaSeconds(parseCacheControl('max-age=007'), 'max-age')).toBe(7)
  })
})

describe('fieldNames (RFC 9111 §5.2.2.4, §5.2.2.7)', () => {
  it('returns true for the unqualified form', () => {
    expect(fieldNames(true)).toBe(true)
  })

  it('returns [] for an absent directive', () => {
    expect(fieldNames(undefined)).toEqual([])
  })

  it('lower-cases, trims and deduplicates the listed names', () => {
    expect(fieldNames(' Set-Cookie ,X-Foo, set-cookie')).toEqual(['set-cookie', 'x-foo'])
  })

  it('drops listed names that are not tokens', () => {
    expect(fieldNames('Set-Cookie, bad name, "x", X-A')).toEqual(['set-cookie', 'x-a'])
  })

  it('reads a list with no usable name as the unqualified form (conservative)', () => {
    expect(fieldNames('bad name, (x)')).toBe(true)
  })

  it('reads an empty qualified list as the unqualified form (conservative)', () => {
    expect(fieldNames('')).toBe(true)
    expect(fieldNames(' , ')).toBe(true)
  })
})

describe('selectTargetedDirectives (RFC 9213)', () => {
  it('uses Cache-Control when no targeted field is present', () => {
    const h = new Headers({ 'cache-control': 'max-age=60' })
    const { directives, source } = selectTargetedDirectives(h)
    expect(source).toBe('cache-control')
    expect(directives.get('max-age')).toBe('60')
  })

  it('prefers CDN-Cache-Control over Cache-Control ("MUST ignore the Cache-Control and Expires header fields", §2.2)', () => {
    const h = new Headers({ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=600' })
    const { directives, source } = selectTargetedDirectives(h)
    expect(source).toBe('cdn-cache-control')
    expect([...directives]).toEqual([['max-age', '600']])
  })

  it('prefers Cloudflare-CDN-Cache-Control over CDN-Cache-Control (first in the target list)', () => {
    const h = new Headers({
      'cloudflare-cdn-cache-control': 'max-age=5',
      'cdn-cache-control': 'max-age=600',
    })
    expect(selectTargetedDirectives(h).source).toBe('cloudflare-cdn-cache-control')
  })

  it('ignores an empty targeted field ("that field SHOULD be ignored", §2.1)', () => {
    const h = new Headers({ 'cdn-cache-control': '', 'cache-control': 'max-age=1' })
    expect(selectTargetedDirectives(h).source).toBe('cache-control')
  })

  it('ignores a targeted field with no valid directive and falls through the list', () => {
    const h = new Headers({
      'cloudflare-cdn-cache-control': ' , "junk"',
      'cdn-cache-control': 'no-store',
      'cache-control': 'max-age=1',
    })
    const { directives, source } = selectTargetedDirectives(h)
    expect(source).toBe('cdn-cache-control')
    expect(directives.has('no-store')).toBe(true)
  })

  it('honours a custom target list', () => {
    const h = new Headers({ 'cdn-cache-control': 'max-age=9', 'acme-cache-control': 'max-age=3' })
    expect(selectTargetedDirectives(h, ['Acme-Cache-Control']).source).toBe('acme-cache-control')
  })

  it('reports cache-control as the source even when no field is present', () => {
    const { directives, source } = selectTargetedDirectives(new Headers())
    expect(source).toBe('cache-control')
    expect(directives.size).toBe(0)
  })
})

describe('parseRequestDirectives (RFC 9111 §5.4)', () => {
  it('treats Pragma: no-cache as Cache-Control: no-cache when Cache-Control is absent', () => {
    expect([...parseRequestDirectives(new Headers({ pragma: 'No-Cache' }))]).toEqual([
      ['no-cache', true],
    ])
  })

  it('ignores Pragma when Cache-Control is present', () => {
    const h = new Headers({ pragma: 'no-cache', 'cache-control': 'max-stale' })
    expect([...parseRequestDirectives(h)]).toEqual([['max-stale', true]])
  })

  it('finds no-cache among other Pragma members', () => {
    expect([...parseRequestDirectives(new Headers({ pragma: 'x-debug, no-cache' }))]).toEqual([
      ['no-cache', true],
    ])
  })

  it('is empty without Cache-Control and Pragma', () => {
    expect(parseRequestDirectives(new Headers({ accept: '*/*' })).size).toBe(0)
  })

  it('ignores other Pragma values', () => {
    expect(parseRequestDirectives(new Headers({ pragma: 'x-debug' })).size).toBe(0)
  })
})
