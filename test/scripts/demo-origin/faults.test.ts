import { describe, expect, it } from 'vitest'
import { startDemoOrigin } from '../../../scripts/demo-origin/server.ts'
import { request, sendJson, useOrigin } from './helpers.ts'

const origin = useOrigin()

/** Settles to 'pending' if `promise` has not settled by the next macrotask. */
const state = (promise: Promise<unknown>) =>
  Promise.race([promise.then(() => 'settled', () => 'settled'), new Promise((r) => setImmediate(() => r('pending')))])

describe('fault switch', () => {
  it('answers every endpoint with 503 in error mode, and recovers when cleared', async () => {
    origin().setFault({ mode: 'error' })
    for (const path of ['/public/1', '/items/1', '/sie']) {
      const res = await request(`${origin().url}${path}`)
      expect(res.status, path).toBe(503)
      expect(res.headers['x-origin-serial']).toBeDefined()
      expect(res.headers['cache-control']).toBeUndefined()
    }
    origin().setFault({ mode: 'ok' })
    expect((await request(`${origin().url}/sie`)).status).toBe(200)
  })

  it('uses the configured error status', async () => {
    origin().setFault({ mode: 'error', status: 500 })
    expect((await request(`${origin().url}/public/1`)).status).toBe(500)
  })

  it('counts faulted requests as origin requests', async () => {
    origin().setFault({ mode: 'error' })
    await request(`${origin().url}/sie`)
    expect(origin().stats()).toMatchObject({ requests: 1, byPath: { '/sie': 1 } })
  })

  it('leaves control routes working during a fault', async () => {
    origin().setFault({ mode: 'reset' })
    const res = await request(`${origin().url}/__origin/stats`)
    expect(res.status).toBe(200)
  })

  it('holds requests in timeout mode until the fault is cleared', async () => {
    origin().setFault({ mode: 'timeout' })
    const pending = request(`${origin().url}/public/1`)
    await expect.poll(() => origin().stats().requests).toBe(1)
    expect(await state(pending)).toBe('pending')
    origin().setFault({ mode: 'ok' })
    expect((await pending).status).toBe(200)
  })

  it('drops held requests when the origin closes', async () => {
    const own = await startDemoOrigin({ port: 0 })
    own.setFault({ mode: 'timeout' })
    const pending = request(`${own.url}/public/1`)
    await expect.poll(() => own.stats().requests).toBe(1)
    await own.close()
    await expect(pending).rejects.toThrow()
  })

  it('resets the connection in reset mode', async () => {
    origin().setFault({ mode: 'reset' })
    await expect(request(`${origin().url}/public/1`)).rejects.toMatchObject({ code: 'ECONNRESET' })
  })

  it('delays answers by latencyMs', async () => {
    origin().setFault({ latencyMs: 100 })
    const started = performance.now()
    await request(`${origin().url}/public/1`)
    expect(performance.now() - started).toBeGreaterThanOrEqual(95)
  })

  it('starts with the latencyMs option and keeps it across a reset', async () => {
    const own = await startDemoOrigin({ port: 0, latencyMs: 80 })
    own.setFault({ mode: 'error', latencyMs: 0 })
    own.reset()
    expect(own.fault()).toEqual({ mode: 'ok', status: 503, latencyMs: 80 })
    await own.close()
  })

  it('sets faults over HTTP and rejects invalid ones', async () => {
    const ok = await sendJson(`${origin().url}/__origin/fault`, 'POST', { mode: 'error', status: 502 })
    expect(JSON.parse(ok.text)).toEqual({ mode: 'error', status: 502, latencyMs: 0 })
    expect((await request(`${origin().url}/public/1`)).status).toBe(502)
    for (const bad of [{ mode: 'down' }, { status: 200 }, { latencyMs: -1 }, { extra: 1 }, []]) {
      const res = await sendJson(`${origin().url}/__origin/fault`, 'POST', bad)
      expect(res.status, JSON.stringify(bad)).toBe(400)
    }
    const notJson = await request(`${origin().url}/__origin/fault`, { method: 'POST', body: 'mode=error' })
    expect(notJson.status).toBe(400)
  })

  it('throws on an invalid programmatic fault', () => {
    expect(() => origin().setFault({ mode: 'down' as 'ok' })).toThrow(/mode must be one of/)
  })
})
