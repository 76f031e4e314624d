import { describe, expect, it } from 'vitest'
import { request, useOrigin } from './helpers.ts'

const origin = useOrigin()

describe('status and failure endpoints', () => {
  it.each([404, 410, 500])('/status/%i answers that code with max-age=60', async (code) => {
    const res = await request(`${origin().url}/status/${code}`)
    expect(res.status).toBe(code)
    expect(res.headers['cache-control']).toBe('max-age=60')
    expect(res.text).toContain(`status ${code}`)
  })

  it('gives redirect statuses a Location', async () => {
    const res = await request(`${origin().url}/status/301`)
    expect(res.status).toBe(301)
    expect(res.headers.location).toBe('/public/redirect-target')
  })

  it('sends no body for 204', async () => {
    const res = await request(`${origin().url}/status/204`)
    expect(res.status).toBe(204)
    expect(res.body.length).toBe(0)
  })

  it('marks /error-cacheable as an explicitly cacheable 500', async () => {
    const res = await request(`${origin().url}/error-cacheable`)
    expect(res.status).toBe(500)
    expect(res.headers['cache-control']).toBe('public, max-age=30')
  })

  it('fails /fail with the requested status and no cache headers', async () => {
    const res = await request(`${origin().url}/fail?status=502`)
    expect(res.status).toBe(502)
    expect(res.headers['cache-control']).toBeUndefined()
    expect((await request(`${origin().url}/fail`)).status).toBe(500)
    expect((await request(`${origin().url}/fail?status=200`)).status).toBe(400)
  })

  it('delays /slow by the requested milliseconds and is cacheable', async () => {
    const started = performance.now()
    const res = await request(`${origin().url}/slow?ms=120`)
    expect(performance.now() - started).toBeGreaterThanOrEqual(110)
    expect(res.headers['cache-control']).toBe('public, max-age=60')
    expect(res.text).toContain('after 120 ms')
  })

  it('ends a /slow request promptly when the origin closes', async () => {
    const { startDemoOrigin } = await import('../../../scripts/demo-origin/server.ts')
    const own = await startDemoOrigin({ port: 0 })
    const pending = request(`${own.url}/slow?ms=60000`)
    const outcome = pending.then(
      () => 'answered',
      () => 'dropped'
    )
    await expect.poll(() => own.stats().requests).toBe(1)
    await own.close()
    expect(await outcome).toBe('dropped')
  })
})
