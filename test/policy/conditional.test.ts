import { describe, expect, it } from 'vitest'
import {
  buildNotModified,
  evaluateConditional,
  mergeNotModified,
  notModifiedApplies,
  revalidationHeaders,
  strongMatch,
  weakMatch,
} from '../../src/policy/conditional.ts'
import type { StoredValidators } from '../../src/policy/conditional.ts'

const LM = 'Mon, 01 Jan 2024 00:00:00 GMT'
const stored: StoredValidators = { etag: '"v1"', lastModified: LM, status: 200 }
const evaluate = (req: Record<string, string>, s: StoredValidators = stored, method: 'GET' | 'HEAD' = 'GET') =>
  evaluateConditional(new Headers(req), s, method)

describe('entity-tag comparison (RFC 9110 §8.8.3.2)', () => {
  it('weak comparison ignores W/ on either side', () => {
    expect(weakMatch('W/"a"', '"a"')).toBe(true)
    expect(weakMatch('W/"a"', 'W/"a"')).toBe(true)
    expect(weakMatch('"a"', '"b"')).toBe(false)
  })

  it('strong comparison needs both strong and identical', () => {
    expect(strongMatch('"a"', '"a"')).toBe(true)
    expect(strongMatch('W/"a"', '"a"')).toBe(false)
    expect(strongMatch('W/"a"', 'W/"a"')).toBe(false)
  })

  it('ignores whitespace around either tag', () => {
    expect(weakMatch(' W/"a" ', '"a"')).toBe(true)
    expect(weakMatch('"a"', ' W/"a"')).toBe(true)
    expect(strongMatch(' "a"', '"a" ')).toBe(true)
    expect(strongMatch('"a" ', ' "a"')).toBe(true)
  })

  it('W/ is case-sensitive: w/"a" is not a weak tag', () => {
    expect(weakMatch('w/"a"', '"a"')).toBe(false)
  })
})

describe('evaluateConditional: If-None-Match (RFC 9110 §13.1.2)', () => {
  it('answers 304 when the entity-tag matches', () => {
    expect(evaluate({ 'if-none-match': '"v1"' })).toBe('not-modified')
  })

  it('answers 304 for HEAD too', () => {
    expect(evaluate({ 'if-none-match': '"v1"' }, stored, 'HEAD')).toBe('not-modified')
  })

  it('uses weak comparison ("A recipient MUST use the weak comparison function")', () => {
    expect(evaluate({ 'if-none-match': 'W/"v1"' })).toBe('not-modified')
    expect(evaluate({ 'if-none-match': '"v1"' }, { ...stored, etag: 'W/"v1"' })).toBe('not-modified')
  })

  it('matches any member of a list', () => {
    expect(evaluate({ 'if-none-match': '"v0", W/"v1" , "v2"' })).toBe('not-modified')
  })

  it('does not split entity-tags that contain commas', () => {
    expect(evaluate({ 'if-none-match': '"a,b"' }, { ...stored, etag: '"a,b"' })).toBe('not-modified')
    expect(evaluate({ 'if-none-match': '"a,b"' }, { ...stored, etag: '"a"' })).toBe('full')
  })

  it('answers in full when no tag matches', () => {
    expect(evaluate({ 'if-none-match': '"v0", "v2"' })).toBe('full')
  })

  it('answers 304 to * when we hold a representation ("the condition is false if the origin server has a current representation")', () => {
    expect(evaluate({ 'if-none-match': '*' }, { status: 200 })).toBe('not-modified')
  })

  it('answers in full when the stored response has no ETag', () => {
    expect(evaluate({ 'if-none-match': '"v1"' }, { lastModified: LM, status: 200 })).toBe('full')
    expect(evaluate({ 'if-none-match': '"v1"' }, { etag: null, lastModified: LM, status: 200 })).toBe('full')
  })

  it('never matches an empty stored ETag, not even with a malformed W/ member', () => {
    // An empty field value is not an entity-tag (RFC 9110 §8.8.3: entity-tag = [ weak ] opaque-tag).
    expect(evaluate({ 'if-none-match': 'W/' }, { etag: '', status: 200 })).toBe('full')
    expect(evaluate({ 'if-none-match': 'W/' }, { etag: '  ', status: 200 })).toBe('full')
  })

  it('takes precedence over If-Modified-Since ("MUST ignore If-Modified-Since if the request contains an If-None-Match")', () => {
    const req = { 'if-none-match': '"other"', 'if-modified-since': 'Tue, 02 Jan 2024 00:00:00 GMT' }
    expect(evaluate(req)).toBe('full')
  })

  it('ignores preconditions when the stored response is not 2xx (§13.2.1)', () => {
    expect(evaluate({ 'if-none-match': '"v1"' }, { ...stored, status: 404 })).toBe('full')
    expect(evaluate({ 'if-none-match': '*' }, { ...stored, status: 301 })).toBe('full')
    expect(evaluate({ 'if-none-match': '"v1"' }, { ...stored, status: 100 })).toBe('full')
  })

  it('applies preconditions to every 2xx, up to 299', () => {
    expect(evaluate({ 'if-none-match': '"v1"' }, { ...stored, status: 299 })).toBe('not-modified')
  })

  it('answers in full to a method other than GET and HEAD (a 304 is only for GET and HEAD, §13.1.2)', () => {
    const post = 'POST' as unknown as 'GET'
    expect(evaluateConditional(new Headers({ 'if-none-match': '"v1"' }), stored, post)).toBe('full')
  })
})

describe('evaluateConditional: If-Modified-Since (RFC 9110 §13.1.3)', () => {
  it('answers 304 when Last-Modified is earlier than the date', () => {
    expect(evaluate({ 'if-modified-since': 'Tue, 02 Jan 2024 00:00:00 GMT' })).toBe('not-modified')
  })

  it('answers 304 when Last-Modified equals the date ("earlier or equal")', () => {
    expect(evaluate({ 'if-modified-since': LM })).toBe('not-modified')
  })

  it('answers in full when modified after the date', () => {
    expect(evaluate({ 'if-modified-since': 'Sun, 31 Dec 2023 23:59:59 GMT' })).toBe('full')
  })

  it('accepts the obsolete date formats', () => {
    expect(evaluate({ 'if-modified-since': 'Monday, 01-Jan-24 00:00:00 GMT' })).toBe('not-modified')
    expect(evaluate({ 'if-modified-since': 'Mon Jan  1 00:00:00 2024' })).toBe('not-modified')
  })

  it('ignores an invalid date ("MUST ignore ... not a valid HTTP-date")', () => {
    expect(evaluate({ 'if-modified-since': 'yesterday' })).toBe('full')
    expect(evaluate({ 'if-modified-since': '0' })).toBe('full')
  })

  it('ignores a value with more than one member', () => {
    expect(evaluate({ 'if-modified-since': `${LM}, ${LM}` })).toBe('full')
  })

  it('falls back to the stored Date when there is no Last-Modified (RFC 9111 §4.3.2)', () => {
    const s = { etag: null, lastModified: null, date: LM, status: 200 }
    expect(evaluate({ 'if-modified-since': LM }, s)).toBe('not-modified')
  })

  it('answers in full without any stored date', () => {
    expect(evaluate({ 'if-modified-since': LM }, { status: 200 })).toBe('full')
  })

  it('applies to a stored 204 but not to a stored 404', () => {
    expect(evaluate({ 'if-modified-since': LM }, { lastModified: LM, status: 204 })).toBe('not-modified')
    expect(evaluate({ 'if-modified-since': LM }, { lastModified: LM, status: 404 })).toBe('full')
  })

  it('answers in full without conditional headers', () => {
    expect(evaluate({})).toBe('full')
  })
})

describe('buildNotModified (RFC 9110 §15.4.5)', () => {
  it('keeps only the fields a 304 carries', () => {
    const headers = new Headers({
      'cache-control': 'max-age=60',
      'content-location': '/a.en',
      'content-type': 'text/html',
      'content-length': '1234',
      date: LM,
      etag: '"v1"',
      expires: 'Mon, 01 Jan 2024 00:01:00 GMT',
      'last-modified': LM,
      vary: 'Accept-Encoding',
      'x-custom': 'y',
    })
    expect([...buildNotModified(headers)]).toEqual([
      ['cache-control', 'max-age=60'],
      ['content-location', '/a.en'],
      ['date', LM],
      ['etag', '"v1"'],
      ['expires', 'Mon, 01 Jan 2024 00:01:00 GMT'],
      ['last-modified', LM],
      ['vary', 'Accept-Encoding'],
    ])
  })

  it('adds none of the retained fields the stored response lacks', () => {
    const headers = new Headers({ etag: '"v1"', 'content-type': 'text/html' })
    expect([...buildNotModified(headers)]).toEqual([['etag', '"v1"']])
  })
})

describe('revalidationHeaders (RFC 9111 §4.3.1)', () => {
  it('sends If-None-Match and If-Modified-Since from the stored validators', () => {
    expect([...revalidationHeaders({ etag: 'W/"v1"', lastModified: LM })]).toEqual([
      ['if-modified-since', LM],
      ['if-none-match', 'W/"v1"'],
    ])
  })

  it('sends nothing without validators', () => {
    expect([...revalidationHeaders({})]).toEqual([])
    expect([...revalidationHeaders({ etag: null, lastModified: null })]).toEqual([])
  })

  it('does not send an empty ETag', () => {
    expect([...revalidationHeaders({ etag: '' })]).toEqual([])
    expect([...revalidationHeaders({ etag: '  ' })]).toEqual([])
  })

  it('does not send an invalid Last-Modified', () => {
    expect([...revalidationHeaders({ lastModified: 'yesterday' })]).toEqual([])
  })
})

describe('notModifiedApplies (RFC 9111 §4.3.4)', () => {
  const storedHeaders = new Headers({ etag: '"v1"', 'last-modified': LM })

  it('applies when the strong ETag is the same', () => {
    expect(notModifiedApplies(storedHeaders, new Headers({ etag: '"v1"' }))).toBe(true)
  })

  it('does not apply when a strong ETag differs ("MUST NOT use the new response to update")', () => {
    expect(notModifiedApplies(storedHeaders, new Headers({ etag: '"v2"' }))).toBe(false)
  })

  it('does not apply a strong ETag to a stored weak one', () => {
    const weak = new Headers({ etag: 'W/"v1"' })
    expect(notModifiedApplies(weak, new Headers({ etag: '"v1"' }))).toBe(false)
  })

  it('applies a weak ETag that corresponds to the stored one', () => {
    expect(notModifiedApplies(storedHeaders, new Headers({ etag: 'W/"v1"' }))).toBe(true)
  })

  it('does not apply a 304 with an ETag to a stored response without one ("If none of the stored responses contain the same strong validator")', () => {
    const noTag = new Headers({ 'last-modified': LM })
    expect(notModifiedApplies(noTag, new Headers({ etag: '"v1"' }))).toBe(false)
    expect(notModifiedApplies(noTag, new Headers({ etag: 'W/"v1"' }))).toBe(false)
  })

  it('does not apply an unreadable Last-Modified, even against an unreadable or absent stored one', () => {
    expect(notModifiedApplies(new Headers(), new Headers({ 'last-modified': 'yesterday' }))).toBe(false)
    const garbled = new Headers({ 'last-modified': 'last week' })
    expect(notModifiedApplies(garbled, new Headers({ 'last-modified': 'yesterday' }))).toBe(false)
  })

  it('applies on equal Last-Modified without ETag', () => {
    expect(notModifiedApplies(storedHeaders, new Headers({ 'last-modified': LM }))).toBe(true)
    expect(
      notModifiedApplies(storedHeaders, new Headers({ 'last-modified': 'Tue, 02 Jan 2024 00:00:00 GMT' }))
    ).toBe(false)
  })

  it('applies a validator-less 304 only to a validator-less stored response', () => {
    expect(notModifiedApplies(new Headers(), new Headers({ date: LM }), false)).toBe(true)
    expect(notModifiedApplies(storedHeaders, new Headers({ date: LM }), false)).toBe(false)
    expect(notModifiedApplies(new Headers({ etag: '"v1"' }), new Headers({ date: LM }), false)).toBe(false)
    expect(notModifiedApplies(new Headers({ 'last-modified': LM }), new Headers({ date: LM }), false)).toBe(false)
  })

  it('applies a 304 without validators to the one stored response tiercache revalidated (the default)', () => {
    expect(notModifiedApplies(storedHeaders, new Headers({ date: LM }))).toBe(true)
    expect(notModifiedApplies(new Headers({ etag: '"v1"' }), new Headers())).toBe(true)
    // A validator that does not match still refuses the update.
    expect(notModifiedApplies(storedHeaders, new Headers({ etag: '"v2"' }))).toBe(false)
  })
})

describe('mergeNotModified (RFC 9111 §4.3.4)', () => {
  it('replaces stored fields with those in the 304 and keeps the rest', () => {
    const storedHeaders = new Headers({
      'cache-control': 'max-age=60',
      date: LM,
      etag: '"v1"',
      'content-type': 'text/html',
      'x-old': 'kept',
    })
    const notModified = new Headers({
      'cache-control': 'max-age=600',
      date: 'Tue, 02 Jan 2024 00:00:00 GMT',
      'x-new': 'added',
    })
    expect([...mergeNotModified(storedHeaders, notModified)]).toEqual([
      ['cache-control', 'max-age=600'],
      ['content-type', 'text/html'],
      ['date', 'Tue, 02 Jan 2024 00:00:00 GMT'],
      ['etag', '"v1"'],
      ['x-new', 'added'],
      ['x-old', 'kept'],
    ])
  })

  it('does not update Content-Length or the fields describing the stored bytes', () => {
    const storedHeaders = new Headers({ 'content-length': '10', 'content-encoding': 'gzip' })
    const notModified = new Headers({
      'content-length': '0',
      'content-encoding': 'br',
      'content-range': 'bytes 0-1/2',
      'transfer-encoding': 'chunked',
    })
    expect([...mergeNotModified(storedHeaders, notModified)]).toEqual([
      ['content-encoding', 'gzip'],
      ['content-length', '10'],
    ])
  })

  it('never adds Set-Cookie, hop-by-hop or Connection-listed fields', () => {
    const notModified = new Headers({
      'set-cookie': 'sid=1',
      connection: 'x-hop',
      'x-hop': '1',
      'keep-alive': 'timeout=5',
      'proxy-authenticate': 'Basic',
    })
    expect([...mergeNotModified(new Headers({ etag: '"v1"' }), notModified)]).toEqual([
      ['etag', '"v1"'],
    ])
  })

  it('leaves both inputs untouched', () => {
    const storedHeaders = new Headers({ etag: '"v1"' })
    const notModified = new Headers({ etag: '"v1"', 'x-a': '1' })
    mergeNotModified(storedHeaders, notModified)
    expect([...storedHeaders]).toEqual([['etag', '"v1"']])
  })
})
