import { describe, expect, it } from 'vitest'
import { parseCacheControl, selectTargetedDirectives } from '../../src/policy/cache-control.ts'
import { freshnessLifetime, isFresh } from '../../src/policy/freshness.ts'
import type { FreshnessOptions } from '../../src/policy/freshness.ts'
import { parseHttpDate } from '../../src/policy/http-date.ts'

const DATE = 'Mon, 01 Jan 2024 00:00:00 GMT'
const shared: FreshnessOptions = { shared: true }

function lifetime(
  res: Record<string, string>,
  status = 200,
  options: FreshnessOptions = shared,
  responseTime?: number
) {
  const headers = new Headers(res)
  const { directives, source } = selectTargetedDirectives(headers)
  return freshnessLifetime({ status, headers, directives, source, responseTime }, options)
}

describe('freshnessLifetime: explicit (RFC 9111 §4.2.1)', () => {
  it('uses s-maxage in a shared cache', () => {
    expect(lifetime({ 'cache-control': 's-maxage=60, max-age=10' })).toEqual({
      lifetimeMs: 60_000,
      source: 's-maxage',
    })
  })

  it('a response with s-maxage ignores Expires ("a shared cache recipient MUST ignore the Expires field", §5.3)', () => {
    const res = { 'cache-control': 's-maxage=5', date: DATE, expires: 'Tue, 02 Jan 2024 00:00:00 GMT' }
    expect(lifetime(res)).toEqual({ lifetimeMs: 5_000, source: 's-maxage' })
  })

  it('uses max-age when there is no s-maxage', () => {
    expect(lifetime({ 'cache-control': 'max-age=300' })).toEqual({
      lifetimeMs: 300_000,
      source: 'max-age',
    })
  })

  it('a response with max-age ignores Expires ("If a response includes a Cache-Control header field with the max-age directive, a recipient MUST ignore the Expires header field", §5.3)', () => {
    const res = { 'cache-control': 'max-age=1', date: DATE, expires: 'Tue, 02 Jan 2024 00:00:00 GMT' }
    expect(lifetime(res)).toEqual({ lifetimeMs: 1_000, source: 'max-age' })
  })

  it('max-age=0 gives a zero lifetime', () => {
    expect(lifetime({ 'cache-control': 'max-age=0' })).toEqual({ lifetimeMs: 0, source: 'max-age' })
  })

  it('an invalid max-age reads as 0 (stale), not as absent', () => {
    const res = { 'cache-control': 'max-age=soon', date: DATE, expires: 'Tue, 02 Jan 2024 00:00:00 GMT' }
    expect(lifetime(res)).toEqual({ lifetimeMs: 0, source: 'max-age' })
  })

  it('conflicting duplicate max-age makes the response stale (§4.2.1)', () => {
    expect(lifetime({ 'cache-control': 'max-age=60, max-age=120' })).toEqual({
      lifetimeMs: 0,
      source: 'max-age',
    })
  })

  it('uses Expires − Date', () => {
    const res = { date: DATE, expires: 'Mon, 01 Jan 2024 01:00:00 GMT' }
    expect(lifetime(res)).toEqual({ lifetimeMs: 3_600_000, source: 'expires' })
  })

  it('reads Expires: 0 as already expired ("especially the value "0"", §5.3)', () => {
    expect(lifetime({ date: DATE, expires: '0' })).toEqual({ lifetimeMs: 0, source: 'expires' })
  })

  it('reads an Expires before Date as 0, never negative', () => {
    const res = { date: DATE, expires: 'Sun, 31 Dec 2023 00:00:00 GMT' }
    expect(lifetime(res)).toEqual({ lifetimeMs: 0, source: 'expires' })
  })

  it('reads two Expires lines (joined by a comma) as invalid, so expired (§4.2.1)', () => {
    const headers = new Headers({ date: DATE })
    headers.append('expires', 'Mon, 01 Jan 2024 01:00:00 GMT')
    headers.append('expires', 'Mon, 01 Jan 2024 02:00:00 GMT')
    expect(freshnessLifetime({ status: 200, headers, directives: new Map() }, shared)).toEqual({
      lifetimeMs: 0,
      source: 'expires',
    })
  })

  it('uses the response time when Date is missing (RFC 9110 §6.6.1)', () => {
    const responseTime = parseHttpDate(DATE) ?? 0
    const res = { expires: 'Mon, 01 Jan 2024 00:10:00 GMT' }
    expect(lifetime(res, 200, shared, responseTime)).toEqual({ lifetimeMs: 600_000, source: 'expires' })
  })

  it('treats Expires without Date or response time as expired', () => {
    expect(lifetime({ expires: 'Mon, 01 Jan 2024 00:10:00 GMT' })).toEqual({
      lifetimeMs: 0,
      source: 'expires',
    })
  })

  it('ignores Expires when CDN-Cache-Control governs (RFC 9213 §2.2)', () => {
    const res = { 'cdn-cache-control': 'public', date: DATE, expires: 'Mon, 01 Jan 2024 01:00:00 GMT' }
    expect(lifetime(res)).toEqual({ lifetimeMs: 0, source: 'none' })
  })

  it('takes max-age from CDN-Cache-Control, not Cache-Control', () => {
    const res = { 'cache-control': 'max-age=10', 'cdn-cache-control': 'max-age=600' }
    expect(lifetime(res)).toEqual({ lifetimeMs: 600_000, source: 'max-age' })
  })
})

describe('freshnessLifetime: heuristic (RFC 9111 §4.2.2)', () => {
  const tenDaysBefore = 'Fri, 22 Dec 2023 00:00:00 GMT'

  it('uses 10% of Date − Last-Modified by default', () => {
    const res = { date: DATE, 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' }
    expect(lifetime(res)).toEqual({ lifetimeMs: 0, source: 'heuristic' })
    const hourAgo = { date: DATE, 'last-modified': 'Sun, 31 Dec 2023 23:00:00 GMT' }
    expect(lifetime(hourAgo)).toEqual({ lifetimeMs: 360_000, source: 'heuristic' })
  })

  it('caps the heuristic at 24 hours by default', () => {
    expect(lifetime({ date: DATE, 'last-modified': tenDaysBefore })).toEqual({
      lifetimeMs: 86_400_000,
      source: 'heuristic',
    })
  })

  it('honours heuristicFraction and heuristicMaxMs', () => {
    const options: FreshnessOptions = { shared: true, heuristicFraction: 0.05, heuristicMaxMs: 3_600_000 }
    const hourAgo = { date: DATE, 'last-modified': 'Sun, 31 Dec 2023 23:00:00 GMT' }
    expect(lifetime(hourAgo, 200, options)).toEqual({ lifetimeMs: 180_000, source: 'heuristic' })
    expect(lifetime({ date: DATE, 'last-modified': tenDaysBefore }, 200, options)).toEqual({
      lifetimeMs: 3_600_000,
      source: 'heuristic',
    })
  })

  it('gives no heuristic without Last-Modified', () => {
    expect(lifetime({ date: DATE })).toEqual({ lifetimeMs: 0, source: 'none' })
  })

  it('gives no heuristic when Last-Modified is after Date or invalid', () => {
    expect(lifetime({ date: DATE, 'last-modified': 'Tue, 02 Jan 2024 00:00:00 GMT' })).toEqual({
      lifetimeMs: 0,
      source: 'none',
    })
    expect(lifetime({ date: DATE, 'last-modified': 'yesterday' })).toEqual({
      lifetimeMs: 0,
      source: 'none',
    })
  })

  it('measures the Last-Modified interval from the receive time when Date is missing, and gives none without either', () => {
    const res = { 'last-modified': 'Sun, 31 Dec 2023 23:00:00 GMT' }
    // RFC 9110 §6.6.1: a recipient without Date "MUST record the time it was received".
    expect(lifetime(res, 200, shared, parseHttpDate(DATE))).toEqual({ lifetimeMs: 360_000, source: 'heuristic' })
    expect(lifetime(res)).toEqual({ lifetimeMs: 0, source: 'none' })
  })

  it('applies to heuristically cacheable 404', () => {
    const res = { date: DATE, 'last-modified': 'Sun, 31 Dec 2023 23:00:00 GMT' }
    expect(lifetime(res, 404)).toEqual({ lifetimeMs: 360_000, source: 'heuristic' })
  })

  it('does not apply to 302 ("heuristics can only be used on responses ... whose status codes are defined as heuristically cacheable")', () => {
    const res = { date: DATE, 'last-modified': 'Sun, 31 Dec 2023 23:00:00 GMT' }
    expect(lifetime(res, 302)).toEqual({ lifetimeMs: 0, source: 'none' })
  })

  it('applies to a 302 marked public ("marked as explicitly cacheable (e.g., with a public response directive)")', () => {
    const res = { date: DATE, 'last-modified': 'Sun, 31 Dec 2023 23:00:00 GMT', 'cache-control': 'public' }
    expect(lifetime(res, 302)).toEqual({ lifetimeMs: 360_000, source: 'heuristic' })
  })

  it('is not used when an explicit Expires is present, even an invalid one', () => {
    const res = { date: DATE, expires: 'never', 'last-modified': tenDaysBefore }
    expect(lifetime(res)).toEqual({ lifetimeMs: 0, source: 'expires' })
  })

  it('heuristicFraction 0 disables the heuristic lifetime', () => {
    const res = { date: DATE, 'last-modified': tenDaysBefore }
    expect(lifetime(res, 200, { shared: true, heuristicFraction: 0 })).toEqual({
      lifetimeMs: 0,
      source: 'heuristic',
    })
  })
})

describe('isFresh (RFC 9111 §4.2)', () => {
  it('"response_is_fresh = (freshness_lifetime > current_age)"', () => {
    expect(isFresh(60_000, 59_999)).toBe(true)
    expect(isFresh(60_000, 60_000)).toBe(false)
    expect(isFresh(0, 0)).toBe(false)
  })
})

describe('parseCacheControl + freshness: quoted arguments', () => {
  it('accepts s-maxage="30"', () => {
    const headers = new Headers()
    const directives = parseCacheControl('s-maxage="30"')
    expect(freshnessLifetime({ status: 200, headers, directives }, shared)).toEqual({
      lifetimeMs: 30_000,
      source: 's-maxage',
    })
  })
})
