import { describe, expect, it } from 'vitest'
import { bodySerial, request, useOrigin } from './helpers.ts'

// `/revalidate/:id` (scripts/demo-origin/routes/validators.ts): the request steers the entity-tag, the
// Cache-Control and whether any conditional request gets a 304, so worker tests can change the origin's
// mind between a fill and a revalidation (RFC 9111 §4.3.4).
const origin = useOrigin()
const get = (path: string, headers: Record<string, string> = {}) => request(`${origin().url}${path}`, { headers })

describe('/revalidate/:id', () => {
  it('answers 200 with max-age=60 and a per-id strong ETag by default', async () => {
    const res = await get('/revalidate/a')
    expect(res.status).toBe(200)
    expect(res.headers['cache-control']).toBe('max-age=60')
    expect(res.headers.etag).toBe('"revalidate-a"')
    expect(res.text).toBe(`revalidate a, entity-tag "revalidate-a"\nserial ${res.headers['x-origin-serial']}\n`)
    expect(bodySerial(res.text)).toBe(Number(res.headers['x-origin-serial']))
  })

  it('takes its ETag and Cache-Control from the request, on the 200 and on the 304', async () => {
    const steer = { 'x-demo-etag': 'W/"v2"', 'x-demo-cache-control': 'no-store' }
    const full = await get('/revalidate/b', steer)
    expect(full.status).toBe(200)
    expect(full.headers.etag).toBe('W/"v2"')
    expect(full.headers['cache-control']).toBe('no-store')
    const notModified = await get('/revalidate/b', { ...steer, 'if-none-match': '"v2"' })
    expect(notModified.status).toBe(304)
    expect(notModified.body.length).toBe(0)
    expect(notModified.headers.etag).toBe('W/"v2"')
    expect(notModified.headers['cache-control']).toBe('no-store')
  })

  it('answers a non-matching validator with the full response unless told to answer 304 anyway', async () => {
    const stale = { 'if-none-match': '"revalidate-c"', 'x-demo-etag': '"v2"' }
    const honest = await get('/revalidate/c', stale)
    expect(honest.status).toBe(200)
    expect(honest.headers.etag).toBe('"v2"')
    const careless = await get('/revalidate/c', { ...stale, 'x-demo-not-modified': 'always' })
    expect(careless.status).toBe(304)
    expect(careless.headers.etag).toBe('"v2"')
    expect(careless.headers['content-type']).toBeUndefined()
    // If-Modified-Since is a conditional request too.
    const byDate = await get('/revalidate/c', { 'if-modified-since': 'Mon, 23 Nov 2026 10:00:00 GMT', 'x-demo-not-modified': 'always' })
    expect(byDate.status).toBe(304)
  })

  it('answers an unconditional request 200 even when told to answer 304', async () => {
    const res = await get('/revalidate/d', { 'x-demo-not-modified': 'always' })
    expect(res.status).toBe(200)
  })

  it('rejects an X-Demo-ETag that is not one entity-tag', async () => {
    for (const bad of ['v2', '"a", "b"', 'W/v2']) {
      const res = await get('/revalidate/e', { 'x-demo-etag': bad })
      expect(res.status, bad).toBe(400)
      expect(res.headers['cache-control']).toBe('no-store')
    }
  })
})
