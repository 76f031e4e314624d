import { describe, expect, it } from 'vitest'
import { isToken, splitList, unquote, upperPercentEncoding } from '../../src/policy/syntax.ts'

describe('splitList (RFC 9110 §5.6.1)', () => {
  it('splits on commas, trims OWS and drops empty members', () => {
    expect(splitList(' a ,, b,c , ')).toEqual(['a', 'b', 'c'])
  })

  it('does not split inside a quoted string', () => {
    expect(splitList('private="a, b", max-age=0')).toEqual(['private="a, b"', 'max-age=0'])
  })

  it('does not end a quoted string at an escaped quote ("quoted-pair = "\\" ( HTAB / SP / VCHAR / obs-text )", §5.6.4)', () => {
    expect(splitList('a="x\\",y", b')).toEqual(['a="x\\",y"', 'b'])
  })
})

describe('unquote (RFC 9110 §5.6.4)', () => {
  it('returns the content of a quoted string with quoted-pairs resolved', () => {
    expect(unquote('"a\\"b\\\\c"')).toBe('a"b\\c')
  })

  it('returns a token unchanged, even one ending in a quote', () => {
    expect(unquote('abc')).toBe('abc')
    expect(unquote('abc"')).toBe('abc"')
  })

  it('yields what follows the quote when the quoted string is unterminated', () => {
    expect(unquote('"abc')).toBe('abc')
  })

  it('keeps a trailing backslash that escapes nothing', () => {
    expect(unquote('"abc\\')).toBe('abc\\')
  })
})

describe('isToken and upperPercentEncoding', () => {
  it('accepts tchar runs and refuses separators, spaces and the empty string (RFC 9110 §5.6.2)', () => {
    expect(isToken("max-age!#$%&'*+.^_`|~09AZaz")).toBe(true)
    expect(isToken('a b')).toBe(false)
    expect(isToken('"a"')).toBe(false)
    expect(isToken('a,b')).toBe(false)
    expect(isToken('')).toBe(false)
  })

  it('upper-cases the hex digits of every percent-escape (RFC 3986 §6.2.2.1)', () => {
    expect(upperPercentEncoding('/a%2fb%c3%A9%zz')).toBe('/a%2Fb%C3%A9%zz')
  })
})
