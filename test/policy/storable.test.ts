import { describe, expect, it } from 'vitest'
import { parseCacheControl, selectTargetedDirectives } from '../../src/policy/cache-control.ts'
import { isStorable } from '../../src/policy/storable.ts'
import type { StorabilityInput } from '../../src/policy/storable.ts'

type Case = {
  method?: string
  status?: number
  req?: Record<string, string>
  res?: Record<string, string>
  options?: StorabilityInput['options']
}

/** Builds a StorabilityInput the way the stack will: targeted directives, parsed request directives. */
function check({ method = 'GET', status = 200, req = {}, res = {}, options = {} }: Case) {
  const requestHeaders = new Headers(req)
  const responseHeaders = new Headers(res)
  const { directives, source } = selectTargetedDirectives(responseHeaders)
  return isStorable({
    method,
    status,
    requestHeaders,
    responseHeaders,
    directives,
    source,
    requestDirectives: parseCacheControl(requestHeaders.get('cache-control')),
    options,
  })
}

const stored = { storable: true, stripHeaders: [] }
const refused = (reason: string) => ({ storable: false, reason })

describe('isStorable: method and status (RFC 9111 §3)', () => {
  it('stores a plain 200 to a GET (heuristically cacheable, RFC 9110 §15.1)', () => {
    expect(check({})).toEqual(stored)
  })

  it.each(['HEAD', 'POST', 'PUT', 'get'])('does not store a response to %s', (method) => {
    expect(check({ method, res: { 'cache-control': 'max-age=60' } })).toEqual(refused('method'))
  })

  it('does not store 206 Partial Content (no range combination, §3.3)', () => {
    expect(check({ status: 206, res: { 'cache-control': 'max-age=60' } })).toEqual(refused('status'))
  })

  it('does not store 304 Not Modified (a validation answer)', () => {
    expect(check({ status: 304, res: { 'cache-control': 'max-age=60' } })).toEqual(refused('status'))
  })

  it('does not store an interim 1xx response ("the response status code is final")', () => {
    expect(check({ status: 103, res: { 'cache-control': 'max-age=60' } })).toEqual(refused('status'))
  })

  it('stores 301 without explicit freshness (heuristically cacheable)', () => {
    expect(check({ status: 301, res: { location: '/x' } })).toEqual(stored)
  })

  it('does not store 302 without explicit freshness (not heuristically cacheable)', () => {
    expect(check({ status: 302 })).toEqual(refused('no-freshness'))
  })

  it('stores 302 with max-age', () => {
    expect(check({ status: 302, res: { 'cache-control': 'max-age=60' } })).toEqual(stored)
  })

  it('does not store 404 without explicit freshness (design rule 3: errors need explicit permission)', () => {
    expect(check({ status: 404 })).toEqual(refused('no-freshness'))
  })

  it('does not store 404 with only Last-Modified (a heuristic is not explicit permission)', () => {
    const res = { 'last-modified': 'Sun, 06 Nov 1994 08:49:37 GMT' }
    expect(check({ status: 404, res })).toEqual(refused('no-freshness'))
  })

  it('stores 404 with max-age', () => {
    expect(check({ status: 404, res: { 'cache-control': 'max-age=60' } })).toEqual(stored)
  })

  it('stores 410 with Expires and 503 with s-maxage', () => {
    const expires = { expires: 'Sun, 06 Nov 2094 08:49:37 GMT' }
    expect(check({ status: 410, res: expires })).toEqual(stored)
    expect(check({ status: 503, res: { 'cache-control': 's-maxage=5' } })).toEqual(stored)
  })

  it('stores 404 marked public ("a public response directive", §3)', () => {
    expect(check({ status: 404, res: { 'cache-control': 'public' } })).toEqual(stored)
  })

  it('does not store 500 without explicit freshness', () => {
    expect(check({ status: 500 })).toEqual(refused('no-freshness'))
  })

  it('still requires explicit freshness for an error status listed in cacheableStatuses', () => {
    const options = { cacheableStatuses: new Set([200, 404]) }
    expect(check({ status: 404, options })).toEqual(refused('no-freshness'))
  })

  it('honours cacheableStatuses for non-error statuses', () => {
    expect(check({ status: 200, options: { cacheableStatuses: new Set([203]) } })).toEqual(
      refused('no-freshness')
    )
    expect(check({ status: 307, options: { cacheableStatuses: new Set([307]) } })).toEqual(stored)
  })

  it('counts an invalid Expires ("0") as explicit freshness: stored, but already stale', () => {
    expect(check({ status: 404, res: { expires: '0' } })).toEqual(stored)
  })

  it('reads Expires as explicit freshness when no source is given (Cache-Control governs by default)', () => {
    const responseHeaders = new Headers({ expires: 'Sun, 06 Nov 2094 08:49:37 GMT' })
    const verdict = isStorable({
      method: 'GET',
      status: 404,
      requestHeaders: new Headers(),
      responseHeaders,
      directives: parseCacheControl(responseHeaders.get('cache-control')),
      requestDirectives: new Map(),
      options: {},
    })
    expect(verdict).toEqual(stored)
  })

  it('ignores Expires when a targeted field governs (RFC 9213 §2.2)', () => {
    const res = { 'cdn-cache-control': 'no-transform', expires: 'Sun, 06 Nov 2094 08:49:37 GMT' }
    expect(check({ status: 404, res })).toEqual(refused('no-freshness'))
  })
})

describe('isStorable: no-store, private, no-cache (RFC 9111 §5.2)', () => {
  it('does not store a response with no-store (§5.2.2.5)', () => {
    expect(check({ res: { 'cache-control': 'max-age=60, no-store' } })).toEqual(refused('no-store'))
  })

  it('does not store when the request has no-store ("MUST NOT store any part of either this request or any response to it", §5.2.1.5)', () => {
    const req = { 'cache-control': 'no-store' }
    expect(check({ req, res: { 'cache-control': 'max-age=60' } })).toEqual(refused('request-no-store'))
  })

  it('stores a no-store response with must-understand and an understood status ("SHOULD ignore the no-store directive", §5.2.2.3)', () => {
    const res = { 'cache-control': 'max-age=60, must-understand, no-store' }
    expect(check({ res })).toEqual(stored)
  })

  it('does not store must-understand with a status it does not understand', () => {
    const res = { 'cache-control': 'max-age=60, must-understand, no-store' }
    expect(check({ status: 299, res })).toEqual(refused('must-understand'))
  })

  it('does not store unqualified private ("a shared cache MUST NOT store the response", §5.2.2.7)', () => {
    expect(check({ res: { 'cache-control': 'private, max-age=60' } })).toEqual(refused('private'))
  })

  it('stores qualified private="X-User" without that field', () => {
    const res = { 'cache-control': 'private="X-User", max-age=60', 'x-user': 'alice' }
    expect(check({ res })).toEqual({ storable: true, stripHeaders: ['x-user'] })
  })

  it('stores no-cache responses: "store but revalidate every time" (§5.2.2.4)', () => {
    expect(check({ res: { 'cache-control': 'no-cache' } })).toEqual(stored)
  })

  it('obeys the targeted field: CDN-Cache-Control max-age beats Cache-Control: no-store (RFC 9213)', () => {
    const res = { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' }
    expect(check({ res })).toEqual(stored)
  })

  it('obeys the targeted field: CDN-Cache-Control: private refuses even with a public Cache-Control', () => {
    const res = { 'cache-control': 'public, max-age=60', 'cdn-cache-control': 'private' }
    expect(check({ res })).toEqual(refused('private'))
  })
})

describe('isStorable: Set-Cookie (design.md §3)', () => {
  it('does not store a response with Set-Cookie', () => {
    const res = { 'cache-control': 'max-age=60', 'set-cookie': 'sid=1' }
    expect(check({ res })).toEqual(refused('set-cookie'))
  })

  it('stores a response with Set-Cookie named in private="Set-Cookie", stripping it', () => {
    const res = { 'cache-control': 'private="Set-Cookie", max-age=60', 'set-cookie': 'sid=1' }
    expect(check({ res })).toEqual({ storable: true, stripHeaders: ['set-cookie'] })
  })

  it('matches private="set-cookie" case-insensitively', () => {
    const res = { 'cache-control': 'max-age=60, PRIVATE="SET-COOKIE"', 'set-cookie': 'sid=1' }
    expect(check({ res })).toEqual({ storable: true, stripHeaders: ['set-cookie'] })
  })

  it('stores a response with Set-Cookie named in no-cache="set-cookie", stripping it (§5.2.2.4)', () => {
    const res = { 'cache-control': 'no-cache="set-cookie", max-age=60', 'set-cookie': 'sid=1' }
    expect(check({ res })).toEqual({ storable: true, stripHeaders: ['set-cookie'] })
  })

  it('does not store when private= names other fields but not Set-Cookie', () => {
    const res = { 'cache-control': 'private="x-a", max-age=60', 'set-cookie': 'sid=1' }
    expect(check({ res })).toEqual(refused('set-cookie'))
  })
})

describe('isStorable: Authorization (RFC 9111 §3.5)', () => {
  const req = { authorization: 'Bearer t0k3n' }

  it('does not store a response to an authorized request with only max-age', () => {
    expect(check({ req, res: { 'cache-control': 'max-age=60' } })).toEqual(refused('authorization'))
  })

  it.each(['public', 's-maxage=60', 'max-age=60, must-revalidate'])(
    'stores a response to an authorized request with %s',
    (cc) => {
      expect(check({ req, res: { 'cache-control': cc } })).toEqual(stored)
    }
  )

  it('does not accept proxy-revalidate in place of must-revalidate (§3.5 lists only three)', () => {
    const res = { 'cache-control': 'max-age=60, proxy-revalidate' }
    expect(check({ req, res })).toEqual(refused('authorization'))
  })

  it('stores with allowAuthorized (opt-in per-user caching keyed by identity hash)', () => {
    const res = { 'cache-control': 'max-age=60' }
    expect(check({ req, res, options: { allowAuthorized: true } })).toEqual(stored)
  })

  it('still refuses private with allowAuthorized', () => {
    const res = { 'cache-control': 'private, max-age=60' }
    expect(check({ req, res, options: { allowAuthorized: true } })).toEqual(refused('private'))
  })

  it('stores private with allowPrivate (a per-user entry is that user’s private cache, §5.2.2.7)', () => {
    const res = { 'cache-control': 'private, max-age=60' }
    expect(check({ req, res, options: { allowAuthorized: true, allowPrivate: true } })).toEqual(stored)
  })

  it('stores a 206 only with allowPartial (RFC 9111 §3.3), and never a 304 (validation only)', () => {
    const res = { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-1/10' }
    expect(check({ status: 206, res })).toEqual(refused('status'))
    expect(check({ status: 206, res, options: { allowPartial: true } })).toEqual(stored)
    expect(check({ status: 304, res, options: { allowPartial: true } })).toEqual(refused('status'))
  })

  it('stores heuristically cacheable errors with Last-Modified only with heuristicErrors (RFC 9110 §15.1)', () => {
    const res = { 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' }
    expect(check({ status: 404, res })).toEqual(refused('no-freshness'))
    expect(check({ status: 404, res, options: { heuristicErrors: true } })).toEqual(stored)
    expect(check({ status: 410, res, options: { heuristicErrors: true } })).toEqual(stored)
    expect(check({ status: 404, res: {}, options: { heuristicErrors: true } })).toEqual(refused('no-freshness'))
    expect(check({ status: 500, res, options: { heuristicErrors: true } })).toEqual(refused('no-freshness'))
    expect(check({ status: 403, res, options: { heuristicErrors: true } })).toEqual(refused('no-freshness'))
  })

  it('with allowPrivate, no-store still wins and Set-Cookie is still refused', () => {
    const options = { allowAuthorized: true, allowPrivate: true }
    expect(check({ req, res: { 'cache-control': 'private, no-store, max-age=60' }, options })).toEqual(refused('no-store'))
    expect(check({ req, res: { 'cache-control': 'private, max-age=60', 'set-cookie': 'a=1' }, options })).toEqual(refused('set-cookie'))
  })
})

describe('isStorable: Vary and header stripping', () => {
  it('does not store Vary: * (§4.1: it "always fails to match")', () => {
    expect(check({ res: { vary: 'Accept, *', 'cache-control': 'max-age=60' } })).toEqual(
      refused('vary-star')
    )
  })

  it('stores Vary: Accept-Encoding', () => {
    expect(check({ res: { vary: 'Accept-Encoding', 'cache-control': 'max-age=60' } })).toEqual(stored)
  })

  it('strips hop-by-hop, Connection-listed and proxy fields (§3.1)', () => {
    const res = {
      'cache-control': 'max-age=60',
      connection: 'close, X-Hop',
      'x-hop': '1',
      'keep-alive': 'timeout=5',
      'proxy-authenticate': 'Basic',
      'content-type': 'text/plain',
    }
    expect(check({ res })).toEqual({
      storable: true,
      stripHeaders: ['connection', 'keep-alive', 'proxy-authenticate', 'x-hop'],
    })
  })
})
