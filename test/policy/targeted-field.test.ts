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
