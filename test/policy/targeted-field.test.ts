import { describe, expect, it } from 'vitest'
import { parseTargetedField } from '../../src/policy/targeted-field.ts'
import { selectTargetedDirectives } from '../../src/policy/cache-control.ts'

describe('parseTargetedField (RFC 9213 §2.1, RFC 8941 dictionaries)', () => {
  it.each([
    ['max-age=60', [['max-age', '60']]],
    ['max-age=60, must-revalidate', [['max-age', '60'], ['must-revalidate', true]]],
    ['no-store', [['no-store', true]]],
    ['max-age=60,   stale-if-error=30', [['max-age', '60'], ['stale-if-error', '30']]],
    ['private="set-cookie"', [['private', 'set-cookie']]],
    ['max-age=60;x=1, public', [['max-age', '60'], ['public', true]]],
    ['max-age=10, max-age=20', [['max-age', '20']]],
    ['public=?0, max-age=5', [['max-age', '5']]],
    ['ext=(a b), max-age=5', [['max-age', '5']]],
    ['ext=tok/x, other=:YWJj:, d=1.5', [['ext', 'tok/x'], ['other', ':YWJj:'], ['d', '1.5']]],
    // RFC 8941 §4.2: leading and trailing SP are discarded; OWS (SP or HTAB) may follow a comma.
    ['  max-age=60  ', [['max-age', '60']]],
    ['max-age=60,\tpublic', [['max-age', '60'], ['public', true]]],
    // A later duplicate replaces the earlier one, at the later position (§4.2.2).
    ['a=1, b=2, a=3', [['b', '2'], ['a', '3']]],
    ['public, public=?0', []],
    ['x=*tok, y=a:b/c', [['x', '*tok'], ['y', 'a:b/c']]],
    ['s="a\\"b\\\\c"', [['s', 'a"b\\c']]],
    ['i=-5, d=-1.25, big=123456789012345, dec=123456789012.123', [['i', '-5'], ['d', '-1.25'], ['big', '123456789012345'], ['dec', '123456789012.123']]],
    ['a;p1=1;p2="x";p3, b=2; q=?1', [['a', true], ['b', '2']]],
    // Inner lists carry no caching directive: read, then left out.
    ['l=(1 "two" tok);p=1, m=(), n=1', [['n', '1']]],
    // OWS is allowed before a comma too (§4.2.2 discards it before looking for one).
    ['a=1 ,b=2', [['a', '1'], ['b', '2']]],
    ['*k=1', [['*k', '1']]],
    ['b=?1', [['b', true]]],
    ['', []],
  ])('reads %j', (value, expected) => {
    expect([...(parseTargetedField(value) ?? new Map())]).toEqual(expected)
  })

  it.each([
    ['max-age=10000, &&&&&'],
    ['max-age="10000"'],
    ['max-age=-1'],
    ['max-age=1.5'],
    ['s-maxage=abc'],
    ['Max-Age=60'],
    ['max-age=60,'],
    ['max-age=60 public'],
    ['private=?1x'],
    ['ext="unterminated'],
    ['ext="bad\\escape"'],
    ['max-age=1234567890123456'],
    ['no-cache=12'],
    ['private=5'],
    ['s-maxage="1"'],
    ['stale-while-revalidate=?1'],
    ['stale-if-error=tok'],
    ['\tmax-age=60'],
    ['-a=1'],
    ['1a=1'],
    ['a=1,'],
    ['a=1,  '],
    ['a;B=1'],
    ['a;=1'],
    ['a=(1,2)'],
    ['a=(1'],
    ['a=1.2345'],
    ['a=1234567890123.5'],
    ['a=15.'],
    ['a=1..2'],
    ['a="x\\ny"'],
    ['a="del\x7f"'],
    ['a="tab\there"'],
    ['a=:abc'],
    ['a=?2'],
    ['a=%'],
  ])('refuses %j (the field is then ignored)', (value) => {
    expect(parseTargetedField(value)).toBeUndefined()
  })

  it('falls back to Cache-Control when CDN-Cache-Control is not a valid dictionary (cache-tests cdn-cc-invalid-sh-type-*)', () => {
    for (const cdn of ['max-age=10000, &&&&&', 'max-age="10000"']) {
      const { directives, source } = selectTargetedDirectives(new Headers({ 'cdn-cache-control': cdn, 'cache-control': 'no-store' }))
      expect(source).toBe('cache-control')
      expect(directives.has('no-store')).toBe(true)
    }
  })
})
