import { describe, expect, it } from 'vitest'
import { planEntry, type FillContext } from '../src/entry-from-response.ts'
import { EntryFlag } from '../src/entry.ts'

const NOW = Date.UTC(2026, 11, 1, 12)
const date = (offsetSeconds: number) => new Date(NOW + offsetSeconds * 1000).toUTCString()

const plan = (status: number, headers: Record<string, string>, ctx: Partial<FillContext> = {}, requestHeaders: Record<string, string> = {}) =>
  planEntry({
    request: new Request('https://a.test/x', { headers: requestHeaders }),
    response: { status, headers: new Headers({ date: date(0), ...headers }) },
    requestTime: NOW,
    responseTime: NOW,
    routeTtl: undefined,
    routeTags: [],
    perUser: false,
    heuristic: { fraction: 0.1, maxSeconds: 86_400, errorMaxSeconds: 60 },
    maxBodyBytes: 1 << 20,
    purgeSeq: 0,
    ...ctx,
  })

describe('planEntry: heuristic freshness for error statuses (RFC 9110 §15.1, RFC 9111 §4.2.2)', () => {
  it.each([404, 405, 410, 414, 501])('stores a %i with Last-Modified for a short negative-cache window (≤ errorMaxSeconds)', (status) => {
    const decision = plan(status, { 'last-modified': date(-100_000) })
    expect(decision.ok).toBe(true)
    // 10 % of 100,000 s would be 10,000 s: capped at 60 s for an error.
    if (decision.ok) expect(decision.entry.lifetimeMs).toBe(60_000)
  })

  it('gives a 200 the ordinary cap', () => {
    const decision = plan(200, { 'last-modified': date(-100_000) })
    expect(decision.ok && decision.entry.lifetimeMs).toBe(10_000_000)
  })

  it.each([
    ['a 404 without Last-Modified', 404, {}],
    ['a 500 with Last-Modified (not heuristically cacheable)', 500, { 'last-modified': date(-100_000) }],
    ['a 403 with Last-Modified', 403, { 'last-modified': date(-100_000) }],
  ] as const)('does not store %s', (_label, status, headers) => {
    expect(plan(status, headers)).toEqual({ ok: false, reason: 'no-freshness' })
  })

  it('stores no heuristic error when errorMaxSeconds is 0, and none at all when heuristics are off', () => {
    const heuristic = { fraction: 0.1, maxSeconds: 86_400, errorMaxSeconds: 0 }
    expect(plan(404, { 'last-modified': date(-100_000) }, { heuristic })).toEqual({ ok: false, reason: 'no-freshness' })
    expect(plan(404, { 'last-modified': date(-100_000) }, { heuristic: false })).toMatchObject({ ok: false })
  })
})

describe('planEntry: what is stored', () => {
  it('keeps Set-Cookie2 (an obsolete field no client acts on; RFC 9111 has no rule against storing it) but never Set-Cookie', () => {
    const decision = plan(200, { 'cache-control': 'max-age=60', 'set-cookie2': 'a=c' })
    expect(decision.ok && decision.entry.headers).toContainEqual(['set-cookie2', 'a=c'])
    expect(plan(200, { 'cache-control': 'max-age=60', 'set-cookie': 'a=c' })).toEqual({ ok: false, reason: 'set-cookie' })
  })

  it('stores a private response to a credentialed request only on a per-user route, for that user', () => {
    const headers = { 'cache-control': 'private, max-age=60' }
    expect(plan(200, headers, {}, { authorization: 'Bearer a' })).toEqual({ ok: false, reason: 'private' })
    const decision = plan(200, headers, { perUser: true, identity: 'abcdefghijklmnopqrstuv' }, { authorization: 'Bearer a' })
    expect(decision.ok).toBe(true)
    if (decision.ok) {
      expect(decision.entry.flags & EntryFlag.PerUser).toBeTruthy()
      expect(decision.entry.tags).toContain('tiercache-user:abcdefghijklmnopqrstuv')
    }
  })

  it('stores a 206 only when it answers a range request', () => {
    const headers = { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-4/10' }
    expect(plan(206, headers)).toEqual({ ok: false, reason: 'status' })
    expect(plan(206, headers, { partial: true }).ok).toBe(true)
  })

  it('refuses a declared body larger than every tier', () => {
    expect(plan(200, { 'cache-control': 'max-age=60', 'content-length': String(2 << 20) })).toEqual({ ok: false, reason: 'too-large' })
  })
})

describe('planEntry: fields withheld from stored copies (RFC 9111 §5.2.2.4, §5.2.2.7)', () => {
  it('leaves out fields named by private="…" or no-cache="…" and reports them for the filling client', () => {
    const decision = plan(200, { 'cache-control': 'max-age=60, no-cache="x-a", private="x-b"', 'x-a': '1', 'x-b': '2', 'x-c': '3' })
    expect(decision.ok).toBe(true)
    if (!decision.ok) return
    const names = decision.entry.headers.map(([name]) => name)
    expect(names).toContain('x-c')
    expect(names).not.toContain('x-a')
    expect(names).not.toContain('x-b')
    expect(decision.withheld.sort()).toEqual(['x-a', 'x-b'])
  })
})
