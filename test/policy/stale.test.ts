import { describe, expect, it } from 'vitest'
import { parseCacheControl, parseRequestDirectives } from '../../src/policy/cache-control.ts'
import { requestAllowsCached, staleWindows } from '../../src/policy/stale.ts'

const cc = parseCacheControl

describe('staleWindows (RFC 5861, RFC 9111 §4.2.4)', () => {
  it('reads stale-while-revalidate and stale-if-error in ms', () => {
    expect(staleWindows(cc('max-age=60, stale-while-revalidate=30, stale-if-error=600'))).toEqual({
      swrMs: 30_000,
      sieMs: 600_000,
      mustRevalidate: false,
      noCache: false,
    })
  })

  it('gives no windows without the directives', () => {
    expect(staleWindows(cc('max-age=60'))).toEqual({
      swrMs: 0,
      sieMs: 0,
      mustRevalidate: false,
      noCache: false,
    })
  })

  it.each(['must-revalidate', 'proxy-revalidate', 's-maxage=60'])(
    '%s forbids serving stale ("A cache MUST NOT generate a stale response if it is prohibited by an explicit in-protocol directive")',
    (directive) => {
      expect(staleWindows(cc(`${directive}, stale-while-revalidate=30, stale-if-error=60`))).toEqual({
        swrMs: 0,
        sieMs: 0,
        mustRevalidate: true,
        noCache: false,
      })
    }
  )

  it('no-cache stores but always revalidates, with no stale serving', () => {
    expect(staleWindows(cc('no-cache, stale-if-error=60'))).toEqual({
      swrMs: 0,
      sieMs: 0,
      mustRevalidate: false,
      noCache: true,
    })
  })

  it('qualified no-cache="x" is not whole-response no-cache', () => {
    expect(staleWindows(cc('no-cache="x-a", stale-while-revalidate=5')).noCache).toBe(false)
    expect(staleWindows(cc('no-cache="x-a", stale-while-revalidate=5')).swrMs).toBe(5_000)
  })

  it('reads an invalid window as 0', () => {
    expect(staleWindows(cc('stale-while-revalidate=soon')).swrMs).toBe(0)
  })

  it('lets a request stale-if-error widen the window for that request (RFC 5861 §4)', () => {
    expect(staleWindows(cc('max-age=1, stale-if-error=10'), cc('stale-if-error=300')).sieMs).toBe(300_000)
  })

  it('a request stale-if-error cannot override must-revalidate', () => {
    expect(staleWindows(cc('must-revalidate'), cc('stale-if-error=300')).sieMs).toBe(0)
  })

  it('a request with no-cache gets no stale-while-revalidate', () => {
    expect(staleWindows(cc('stale-while-revalidate=30'), cc('no-cache')).swrMs).toBe(0)
  })
})

describe('requestAllowsCached (RFC 9111 §5.2.1)', () => {
  const fresh = { currentAgeMs: 10_000, lifetimeMs: 60_000 }
  const stale = { currentAgeMs: 65_000, lifetimeMs: 60_000 }

  it('allows a fresh response to a request without directives', () => {
    expect(requestAllowsCached(cc(null), fresh)).toEqual({ ok: true, allowStaleMs: 0 })
  })

  it('refuses a stale response to a request without directives', () => {
    expect(requestAllowsCached(cc(null), stale)).toEqual({ ok: false, allowStaleMs: 0 })
  })

  it('refuses a response whose age equals its lifetime ("freshness_lifetime > current_age", §4.2)', () => {
    expect(requestAllowsCached(cc(null), { currentAgeMs: 60_000, lifetimeMs: 60_000 }).ok).toBe(false)
    expect(requestAllowsCached(cc(null), { currentAgeMs: 0, lifetimeMs: 0 }).ok).toBe(false)
  })

  it('refuses when the request has no-cache (§5.2.1.4)', () => {
    expect(requestAllowsCached(cc('no-cache'), fresh).ok).toBe(false)
  })

  it('refuses when Pragma: no-cache comes without Cache-Control (§5.4)', () => {
    const directives = parseRequestDirectives(new Headers({ pragma: 'no-cache' }))
    expect(requestAllowsCached(directives, fresh).ok).toBe(false)
  })

  it('refuses a fresh response marked no-cache by the origin', () => {
    expect(requestAllowsCached(cc(null), { ...fresh, noCache: true }).ok).toBe(false)
  })

  it('request max-age=0 forces validation', () => {
    expect(requestAllowsCached(cc('max-age=0'), fresh).ok).toBe(false)
  })

  it('request max-age allows an age "less than or equal to the specified number of seconds"', () => {
    expect(requestAllowsCached(cc('max-age=10'), fresh).ok).toBe(true)
    expect(requestAllowsCached(cc('max-age=9'), fresh).ok).toBe(false)
  })

  it('min-fresh needs "freshness lifetime ... no less than its current age plus the specified time"', () => {
    expect(requestAllowsCached(cc('min-fresh=50'), fresh).ok).toBe(true)
    expect(requestAllowsCached(cc('min-fresh=51'), fresh).ok).toBe(false)
  })

  it('max-stale=N accepts a response stale by at most N seconds', () => {
    expect(requestAllowsCached(cc('max-stale=5'), stale)).toEqual({ ok: true, allowStaleMs: 5_000 })
    expect(requestAllowsCached(cc('max-stale=4'), stale)).toEqual({ ok: false, allowStaleMs: 4_000 })
  })

  it('a bare max-stale accepts any staleness', () => {
    const veryStale = { currentAgeMs: 1e9, lifetimeMs: 0 }
    expect(requestAllowsCached(cc('max-stale'), veryStale)).toEqual({
      ok: true,
      allowStaleMs: Number.POSITIVE_INFINITY,
    })
  })

  it('an invalid max-stale allows no staleness', () => {
    expect(requestAllowsCached(cc('max-stale=lots'), stale)).toEqual({ ok: false, allowStaleMs: 0 })
  })

  it('max-stale is void when the response has must-revalidate (§5.2.2.2)', () => {
    expect(requestAllowsCached(cc('max-stale'), { ...stale, mustRevalidate: true })).toEqual({
      ok: false,
      allowStaleMs: 0,
    })
  })

  it('max-stale is void under must-revalidate even for a response that has only just become stale', () => {
    // age == lifetime is already stale (§4.2: "freshness_lifetime > current_age" is false).
    const justStale = { currentAgeMs: 60_000, lifetimeMs: 60_000, mustRevalidate: true }
    expect(requestAllowsCached(cc('max-stale'), justStale)).toEqual({ ok: false, allowStaleMs: 0 })
  })

  it('honours max-stale when the response explicitly allows stale use (mustRevalidate: false)', () => {
    expect(requestAllowsCached(cc('max-stale'), { ...stale, mustRevalidate: false }).ok).toBe(true)
  })

  it('max-age still applies together with max-stale', () => {
    expect(requestAllowsCached(cc('max-stale, max-age=30'), stale).ok).toBe(false)
  })
})
