import { describe, expect, it } from 'vitest'
import { largeBody, seededBytes } from '../../../scripts/demo-origin/routes/payloads.ts'
import { request, useOrigin } from './helpers.ts'

const origin = useOrigin()

describe('payload endpoints', () => {
  it('serves /large as exactly kb KiB of deterministic bytes', async () => {
    const res = await request(`${origin().url}/large?kb=300`)
    expect(res.body.length).toBe(300 * 1024)
    expect(res.body.equals(Buffer.from(largeBody(300)))).toBe(true)
    expect(res.headers['cache-control']).toBe('max-age=60')
  })

  it('serves /bytes/:n byte-exact, with every byte value present', async () => {
    const res = await request(`${origin().url}/bytes/4096`)
    expect(res.headers['content-type']).toBe('application/octet-stream')
    expect(res.headers['cache-control']).toBe('max-age=60')
    expect(res.body.equals(Buffer.from(seededBytes(4096)))).toBe(true)
    expect(new Set(res.body).size).toBe(256)
  })

  it('changes /bytes content with ?seed= but keeps it reproducible', async () => {
    const a = await request(`${origin().url}/bytes/1000?seed=7`)
    const b = await request(`${origin().url}/bytes/1000?seed=7`)
    const c = await request(`${origin().url}/bytes/1000?seed=8`)
    expect(a.body.equals(b.body)).toBe(true)
    expect(a.body.equals(c.body)).toBe(false)
  })

  it('answers one byte range of /ranged/:n with a 206, several or none with the whole body', async () => {
    const whole = Buffer.from(seededBytes(100, 7))
    const part = await request(`${origin().url}/ranged/100`, { headers: { range: 'bytes=10-19' } })
    expect(part.status).toBe(206)
    expect(part.headers['content-range']).toBe('bytes 10-19/100')
    expect(part.body.equals(whole.subarray(10, 20))).toBe(true)
    const suffix = await request(`${origin().url}/ranged/100`, { headers: { range: 'bytes=-5' } })
    expect(suffix.headers['content-range']).toBe('bytes 95-99/100')
    const full = await request(`${origin().url}/ranged/100`, { headers: { range: 'bytes=0-1,5-6' } })
    expect(full.status).toBe(200)
    expect(full.body.equals(whole)).toBe(true)
    const none = await request(`${origin().url}/ranged/100`, { headers: { range: 'bytes=100-' } })
    expect(none.status).toBe(416)
    expect(none.headers['content-range']).toBe('bytes */100')
  })

  it('reports the body length on HEAD /bytes without sending it', async () => {
    const res = await request(`${origin().url}/bytes/777`, { method: 'HEAD' })
    expect(res.headers['content-length']).toBe('777')
    expect(res.body.length).toBe(0)
  })

  it('echoes method, path, query, headers and body without letting anyone store it', async () => {
    const res = await request(`${origin().url}/echo?b=2&a=1`, {
      method: 'POST',
      headers: { 'x-forwarded-host': 'evil.example', 'content-type': 'text/plain' },
      body: 'payload',
    })
    expect(res.headers['cache-control']).toBe('no-store')
    const echo = JSON.parse(res.text)
    expect(echo).toMatchObject({
      method: 'POST',
      url: '/echo?b=2&a=1',
      path: '/echo',
      query: { a: '1', b: '2' },
      body: 'payload',
      serial: Number(res.headers['x-origin-serial']),
    })
    expect(echo.headers['x-forwarded-host']).toBe('evil.example')
  })

  it('refuses request bodies over 1 MiB with 413', async () => {
    const res = await request(`${origin().url}/echo`, { method: 'POST', body: new Uint8Array(1024 * 1024 + 1) })
    expect(res.status).toBe(413)
  })
})
