import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, startWorkerProcess, type Stack } from '../support/stack.ts'

describe('worker plumbing in workerd: proxying to ORIGIN_URL', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ vars: { ORIGIN_TIMEOUT_MS: '1500' } })
  })
  afterAll(() => stack.close())

  it('forwards method, path, query, body and end-to-end headers, and drops hop-by-hop ones', async () => {
    const res = await stack.workers[0]!.fetch('/echo?b=2&a=1', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-custom': 'kept', 'keep-alive': 'timeout=5', te: 'trailers' },
      body: 'hello origin',
    })
    expect(res.status).toBe(200)
    const echoed = (await res.json()) as { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: string }
    expect(echoed.method).toBe('POST')
    expect(echoed.path).toBe('/echo')
    expect(echoed.query).toEqual({ a: '1', b: '2' })
    expect(echoed.body).toBe('hello origin')
    expect(echoed.headers['x-custom']).toBe('kept')
    expect(echoed.headers.te).toBeUndefined()
    expect(echoed.headers['keep-alive']).toBeUndefined()
  })

  it('strips headers that could poison the cache before they reach the origin', async () => {
    const res = await stack.workers[0]!.fetch('/echo', {
      headers: { 'x-forwarded-host': 'evil.example', 'x-original-url': '/admin', 'x-http-method-override': 'DELETE', forwarded: 'host=evil' },
    })
    const { headers } = (await res.json()) as { headers: Record<string, string> }
    expect(headers['x-forwarded-host']).toBeUndefined()
    expect(headers['x-original-url']).toBeUndefined()
    expect(headers['x-http-method-override']).toBeUndefined()
    expect(headers.forwarded).toBeUndefined()
  })

  it('passes origin error statuses through unchanged', async () => {
    const res = await stack.workers[0]!.fetch('/status/404')
    expect(res.status).toBe(404)
    expect(await res.text()).toMatch(/^status 404\n/)
  })

  it.each([301, 302, 303, 307, 308])('passes a %i redirect through with its Location, without following it', async (status) => {
    const before = stack.origin.requestLog().length
    // `redirect: 'manual'` so this client does not follow it either: what arrives is what the worker sent.
    const res = await stack.workers[0]!.fetch(`/status/${status}`, { redirect: 'manual' })
    expect(res.status).toBe(status)
    expect(res.headers.get('location')).toBe('/public/redirect-target')
    expect(await res.text()).toMatch(new RegExp(`^status ${status}\\n`))
    // The worker asked the origin for the redirect only, never for its target.
    const asked = stack.origin.requestLog().slice(before).map((r) => r.url)
    expect(asked).toEqual([`/status/${status}`])
  })

  it('health reports every tier and that the Redis tier answers', async () => {
    const res = await stack.workers[0]!.fetch('/__tiercache/health')
    expect(res.status).toBe(200)
    const health = (await res.json()) as { ok: boolean; degraded: boolean; tiers: { redis: { configured: boolean; reachable: boolean } } }
    expect(health.ok).toBe(true)
    expect(health.degraded).toBe(false)
    expect(health.tiers.redis).toMatchObject({ configured: true, reachable: true })
  })

  it('answers 504 with a clear body when the origin does not answer within ORIGIN_TIMEOUT_MS', async () => {
    const res = await stack.workers[0]!.fetch('/slow?ms=5000')
    expect(res.status).toBe(504)
    expect(await res.json()).toMatchObject({ error: 'origin timeout' })
  })
})

describe('worker configuration', () => {
  it('without Upstash settings the Redis tier is off and health says so', async () => {
    const stack = await startStack({ noRedis: true })
    try {
      const health = (await (await stack.workers[0]!.fetch('/__tiercache/health')).json()) as {
        tiers: { redis: { configured: boolean } }
        warnings: string[]
      }
      expect(health.tiers.redis.configured).toBe(false)
      expect(health.warnings.join()).toMatch(/Redis tier off/)
      const res = await stack.workers[0]!.fetch('/public/cfg-1')
      expect(res.status).toBe(200)
      await res.arrayBuffer()
    } finally {
      await stack.close()
    }
  })

  it('a missing ORIGIN_URL fails with a 500 that names the variable', async () => {
    const worker = await startWorkerProcess({})
    try {
      const res = await worker.fetch('/anything')
      expect(res.status).toBe(500)
      expect(((await res.json()) as { detail: string }).detail).toMatch(/ORIGIN_URL is required/)
    } finally {
      await worker.dispose()
    }
  })

  it('an unreachable origin gives 502', async () => {
    const worker = await startWorkerProcess({ ORIGIN_URL: 'http://127.0.0.1:9' })
    try {
      const res = await worker.fetch('/x')
      expect(res.status).toBe(502)
      expect(await res.json()).toMatchObject({ error: 'origin unreachable' })
    } finally {
      await worker.dispose()
    }
  })
})
