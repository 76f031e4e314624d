import { describe, expect, it } from 'vitest'
import { invalidationTargets } from '../../src/policy/invalidation.ts'

const hrefs = (method: string, status: number, res: Record<string, string> = {}, url = 'https://a.test/items/7?x=1') =>
  invalidationTargets(new URL(url), method, status, new Headers(res)).map((u) => u.href)

describe('invalidationTargets (RFC 9111 §4.4)', () => {
  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])(
    'invalidates the target URI after a successful %s',
    (method) => {
      expect(hrefs(method, 200)).toEqual(['https://a.test/items/7?x=1'])
    }
  )

  it('invalidates after a method whose safety is unknown ("including methods whose safety is unknown")', () => {
    expect(hrefs('PURGE', 204)).toEqual(['https://a.test/items/7?x=1'])
    expect(hrefs('get', 200)).toEqual(['https://a.test/items/7?x=1'])
  })

  it.each(['GET', 'HEAD', 'OPTIONS', 'TRACE'])('does not invalidate after the safe method %s', (method) => {
    expect(hrefs(method, 200)).toEqual([])
  })

  it('invalidates after a 3xx ("non-error status code")', () => {
    expect(hrefs('POST', 303, { location: '/items/8' })).toEqual([
      'https://a.test/items/7?x=1',
      'https://a.test/items/8',
    ])
  })

  it('invalidates after every 3xx, up to 399', () => {
    expect(hrefs('POST', 399)).toEqual(['https://a.test/items/7?x=1'])
  })

  it.each([400, 404, 500, 503, 100])('does not invalidate after status %i', (status) => {
    expect(hrefs('POST', status)).toEqual([])
  })

  it('invalidates same-origin Location and Content-Location, resolved against the request URL', () => {
    const res = { location: 'https://a.test/items/8', 'content-location': '../list' }
    expect(hrefs('PUT', 201, res)).toEqual([
      'https://a.test/items/7?x=1',
      'https://a.test/items/8',
      'https://a.test/list',
    ])
  })

  it('does not invalidate a cross-origin Location ("MUST NOT trigger an invalidation ... if the origin ... differs")', () => {
    const res = {
      location: 'https://b.test/items/8',
      'content-location': 'http://a.test/items/9',
    }
    expect(hrefs('POST', 201, res)).toEqual(['https://a.test/items/7?x=1'])
  })

  it('treats a different port as a different origin', () => {
    expect(hrefs('POST', 201, { location: 'https://a.test:8443/x' })).toEqual([
      'https://a.test/items/7?x=1',
    ])
  })

  it('drops fragments and duplicates', () => {
    const res = { location: '/items/7?x=1#top', 'content-location': '/items/8#a' }
    expect(hrefs('DELETE', 200, res, 'https://a.test/items/7?x=1#frag')).toEqual([
      'https://a.test/items/7?x=1',
      'https://a.test/items/8',
    ])
  })

  it('ignores an unparseable Location', () => {
    expect(hrefs('POST', 201, { location: 'http://[bad' })).toEqual(['https://a.test/items/7?x=1'])
  })
})
