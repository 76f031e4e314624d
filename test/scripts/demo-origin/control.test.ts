import { describe, expect, it } from 'vitest'
import { request, sendJson, useOrigin } from './helpers.ts'

const origin = useOrigin()

describe('stats and control routes', () => {
  it('counts requests by path and method, ignoring the query', async () => {
    await request(`${origin().url}/slow?ms=0`)
    await request(`${origin().url}/slow?ms=1`)
    await request(`${origin().url}/public/1`, { method: 'HEAD' })
    expect(origin().stats()).toEqual({
      requests: 3,
      byPath: { '/slow': 2, '/public/1': 1 },
      byMethod: { GET: 2, HEAD: 1 },
    })
  })

  it('does not count control routes', async () => {
    await request(`${origin().url}/__origin/stats`)
    await request(`${origin().url}/__origin/log`)
    expect(origin().stats().requests).toBe(0)
  })

  it('serves stats as uncacheable JSON', async () => {
    await request(`${origin().url}/public/1`)
    const res = await request(`${origin().url}/__origin/stats`)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(JSON.parse(res.text)).toMatchObject({ requests: 1, byPath: { '/public/1': 1 } })
  })

  it('logs each request with its serial, raw URL and headers', async () => {
    const res = await request(`${origin().url}/public/1?x=1`, { headers: { 'x-test': 'yes' } })
    const [entry] = JSON.parse((await request(`${origin().url}/__origin/log`)).text)
    expect(entry).toMatchObject({
      serial: Number(res.headers['x-origin-serial']),
      method: 'GET',
      url: '/public/1?x=1',
      headers: { 'x-test': 'yes' },
    })
  })

  it('resetStats clears counts but not items', async () => {
    await sendJson(`${origin().url}/items/1`, 'PUT', { body: 'changed' })
    origin().resetStats()
    expect(origin().stats()).toEqual({ requests: 0, byPath: {}, byMethod: {} })
    expect(origin().data.get('1')?.body).toBe('changed')
  })

  it('POST /__origin/reset restores stats, items and faults but keeps serials increasing', async () => {
    const before = Number((await request(`${origin().url}/public/1`)).headers['x-origin-serial'])
    await sendJson(`${origin().url}/items/1`, 'PUT', { body: 'changed' })
    origin().setFault({ mode: 'error' })
    const res = await request(`${origin().url}/__origin/reset`, { method: 'POST' })
    expect(res.status).toBe(200)
    expect(origin().stats().requests).toBe(0)
    expect(origin().data.get('1')?.body).toBe('first item')
    expect(origin().fault().mode).toBe('ok')
    const after = Number((await request(`${origin().url}/public/1`)).headers['x-origin-serial'])
    expect(after).toBeGreaterThan(before)
  })

  it('answers unknown control paths 404 without counting them', async () => {
    expect((await request(`${origin().url}/__origin/nope`)).status).toBe(404)
    expect(origin().stats().requests).toBe(0)
  })
})
