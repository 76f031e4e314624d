import { describe, expect, it } from 'vitest'
import { isNotModified, strongMatch, weakMatch } from '../../../scripts/demo-origin/conditional.ts'
import { request, useOrigin } from './helpers.ts'

const origin = useOrigin()

describe('entity-tag comparison (RFC 9110 §8.8.3.2)', () => {
  it('matches weakly regardless of W/ prefixes', () => {
    expect(weakMatch('W/"a"', '"a"')).toBe(true)
    expect(weakMatch('"b", W/"a"', 'W/"a"')).toBe(true)
    expect(weakMatch('"b"', '"a"')).toBe(false)
    expect(weakMatch('*', '"a"')).toBe(true)
  })

  it('matches strongly only when neither tag is weak', () => {
    expect(strongMatch('"a"', '"a"')).toBe(true)
    expect(strongMatch('W/"a"', '"a"')).toBe(false)
    expect(strongMatch('"a"', 'W/"a"')).toBe(false)
    expect(strongMatch('*', undefined)).toBe(false)
  })

  it('keeps commas inside an opaque tag', () => {
    expect(weakMatch('"x,y", "z"', '"x,y"')).toBe(true)
  })

  it('ignores If-Modified-Since when If-None-Match is present', () => {
    const lm = 'Mon, 23 Nov 2026 10:00:00 GMT'
    expect(isNotModified({ 'if-none-match': '"other"', 'if-modified-since': lm }, '"a"', lm)).toBe(false)
    expect(isNotModified({ 'if-modified-since': lm }, '"a"', lm)).toBe(true)
  })
})

describe('conditional GET against the origin', () => {
  const get = (path: string, headers: Record<string, string>) => request(`${origin().url}${path}`, { headers })

  it('answers 304 to a matching If-None-Match with validators and Cache-Control but no content headers', async () => {
    const res = await get('/public/1', { 'if-none-match': '"public-1"' })
    expect(res.status).toBe(304)
    expect(res.body.length).toBe(0)
    expect(res.headers.etag).toBe('"public-1"')
    expect(res.headers['cache-control']).toBe('public, max-age=60')
    expect(res.headers['content-type']).toBeUndefined()
    expect(res.headers['content-length']).toBeUndefined()
    expect(res.headers['x-origin-serial']).toBeDefined()
  })

  it('answers 304 to a weak, listed or wildcard If-None-Match', async () => {
    for (const inm of ['W/"public-1"', '"zzz", "public-1"', '*']) {
      expect((await get('/public/1', { 'if-none-match': inm })).status, inm).toBe(304)
    }
  })

  it('answers 200 to a non-matching If-None-Match', async () => {
    expect((await get('/public/1', { 'if-none-match': '"public-2"' })).status).toBe(200)
  })

  it('answers 304 to If-Modified-Since at or after Last-Modified and 200 before it', async () => {
    const lastModified = (await get('/public/1', {})).headers['last-modified'] ?? ''
    expect((await get('/public/1', { 'if-modified-since': lastModified })).status).toBe(304)
    const before = new Date(Date.parse(lastModified) - 1000).toUTCString()
    expect((await get('/public/1', { 'if-modified-since': before })).status).toBe(200)
  })

  it('lets If-None-Match win over a matching If-Modified-Since (RFC 9110 §13.2.2)', async () => {
    const lastModified = (await get('/public/1', {})).headers['last-modified'] ?? ''
    const res = await get('/public/1', { 'if-none-match': '"stale"', 'if-modified-since': lastModified })
    expect(res.status).toBe(200)
  })

  it('ignores an invalid If-Modified-Since date', async () => {
    expect((await get('/public/1', { 'if-modified-since': 'yesterday' })).status).toBe(200)
  })

  it('revalidates /etag/:id by ETag and /last-modified/:id by date only', async () => {
    expect((await get('/etag/e', { 'if-none-match': '"etag-e"' })).status).toBe(304)
    const lm = (await get('/last-modified/l', {})).headers['last-modified'] ?? ''
    expect((await get('/last-modified/l', { 'if-modified-since': lm })).status).toBe(304)
    expect((await get('/last-modified/l', { 'if-none-match': '*' })).status).toBe(200)
  })

  it('answers 304 on /no-cache and /heuristic revalidations', async () => {
    expect((await get('/no-cache', { 'if-none-match': '"no-cache-v1"' })).status).toBe(304)
    const lm = (await get('/heuristic', {})).headers['last-modified'] ?? ''
    expect((await get('/heuristic', { 'if-modified-since': lm })).status).toBe(304)
  })

  it('answers HEAD conditionally too', async () => {
    const res = await request(`${origin().url}/public/1`, { method: 'HEAD', headers: { 'if-none-match': '"public-1"' } })
    expect(res.status).toBe(304)
  })

  it('counts a 304 as an origin request', async () => {
    await get('/public/1', { 'if-none-match': '"public-1"' })
    expect(origin().stats().byPath['/public/1']).toBe(1)
    expect(origin().requestLog()[0]?.headers['if-none-match']).toBe('"public-1"')
  })
})
