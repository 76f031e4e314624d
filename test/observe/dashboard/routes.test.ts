import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendPurge, startStack, startWorkerProcess, TEST_INTERNAL_TOKEN, type Stack, type WorkerProcess } from '../../support/stack.ts'
import { SESSION_COOKIE } from '../../../src/observe/dashboard/session.ts'

// src/observe/dashboard/routes.ts in workerd: sign-in, the session cookie on the internal JSON routes,
// and the headers every dashboard document carries. The page itself is driven in Chromium by
// test/observe/dashboard.browser.test.ts.

const form = (token: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ token }).toString(),
  redirect: 'manual' as const,
})

/** Signs in over https and returns the `name=value` part of the session cookie. */
async function signIn(worker: WorkerProcess): Promise<string> {
  const res = (await worker.mf.dispatchFetch(`https://tiercache.test/__tiercache/dashboard`, form(TEST_INTERNAL_TOKEN))) as unknown as Response
  expect(res.status).toBe(303)
  await res.arrayBuffer()
  return res.headers.get('set-cookie')!.split(';')[0]!
}

describe('dashboard routes', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(() => stack.close())
  const worker = () => stack.workers[0]!
  /** A request over https, as a deployed worker sees it (the stack's own helper uses http). */
  const secure = (path: string, init?: RequestInit) => worker().mf.dispatchFetch(`https://tiercache.test${path}`, init as never) as unknown as Promise<Response>

  it('shows the sign-in form to a browser without a session, with the security headers', async () => {
    const res = await secure('/__tiercache/dashboard')
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('<form method="post" action="/__tiercache/dashboard">')
    expect(html).toContain('name="token" type="password"')
    expect(html).not.toContain('<script')
    expect(html).not.toContain('plain http')
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]{43}='; style-src 'sha256-[A-Za-z0-9+/]{43}='; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'$/)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('cache-control')).toBe('no-store, private')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
  })

  it('warns on the sign-in page when it came over plain http to a host that is not loopback', async () => {
    const res = await worker().mf.dispatchFetch('http://shop.example/__tiercache/dashboard')
    expect(await res.text()).toContain('This page came over plain http: the session cookie is Secure')
  })

  it('signs in with the token: 303 to the page and a cookie that is not the token (Secure: not loopback http)', async () => {
    const res = await secure('/__tiercache/dashboard', form(TEST_INTERNAL_TOKEN))
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/__tiercache/dashboard')
    const cookie = res.headers.get('set-cookie')!
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=\\d+\\.[A-Za-z0-9_-]{43}; Path=/__tiercache; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$`))
    expect(cookie).not.toContain(TEST_INTERNAL_TOKEN)
    const page = await secure('/__tiercache/dashboard', { headers: { cookie: cookie.split(';')[0]! } })
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('data-prefix="/__tiercache"')
    expect(html).toContain('id="hit-ratio"')
    // The inline script is the one the policy's hash allows.
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!
    const digest = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(script))).toString('base64')
    expect(page.headers.get('content-security-policy')).toContain(`script-src 'sha256-${digest}'`)
  })

  it('a wrong token gets a 401 page that says so, and no cookie', async () => {
    const res = await secure('/__tiercache/dashboard', form('not-the-token'))
    expect(res.status).toBe(401)
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await res.text()).toContain("Wrong token: that is not this worker&#39;s INTERNAL_TOKEN.")
  })

  it('answers bad sign-in bodies with a clear 4xx page, never a 500', async () => {
    const cases: Array<[RequestInit, number, string]> = [
      [{ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":"x"}' }, 400, 'Sign in with the form'],
      [{ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'other=1' }, 400, 'Enter the token.'],
      [{ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${'x'.repeat(5000)}` }, 413, 'larger than 4096 bytes'],
      [{ method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zz' }, body: 'garbage' }, 400, 'Sign in with the form'],
      [{ method: 'POST' }, 400, 'Sign in with the form'],
      [{ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' }, body: `token=${TEST_INTERNAL_TOKEN}` }, 403, 'another site'],
    ]
    for (const [init, status, text] of cases) {
      const res = await secure('/__tiercache/dashboard', init)
      expect(res.status, text).toBe(status)
      expect(res.headers.get('set-cookie')).toBeNull()
      expect(await res.text()).toContain(text)
    }
  })

  it('the session opens /stats and /dashboard/status for GET, never /memory/clear; Bearer still works', async () => {
    const cookie = await signIn(worker())
    const stats = await secure('/__tiercache/stats', { headers: { cookie } })
    expect(stats.status).toBe(200)
    expect(await stats.json()).toHaveProperty('counters')
    const status = await secure('/__tiercache/dashboard/status', { headers: { cookie } })
    expect(status.status).toBe(200)
    expect(status.headers.get('cache-control')).toBe('no-store, private')
    const clear = await secure('/__tiercache/memory/clear', { method: 'POST', headers: { cookie } })
    expect(clear.status).toBe(401)
    await clear.arrayBuffer()
    const bearer = await secure('/__tiercache/dashboard/status', { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } })
    expect(bearer.status).toBe(200)
    await bearer.arrayBuffer()
    // A wrong Bearer header is refused even with a good cookie: what the client says explicitly wins.
    const both = await secure('/__tiercache/stats', { headers: { cookie, authorization: 'Bearer wrong' } })
    expect(both.status).toBe(401)
    await both.arrayBuffer()
  })

  it('refuses the JSON routes without a session, or with a tampered one', async () => {
    const cookie = await signIn(worker())
    const [name, value] = cookie.split('=') as [string, string]
    const [expiry, mac] = value.split('.') as [string, string]
    // One MAC character changed for certain (writing a fixed 'A' over the last one left the MAC as it was
    // whenever it already ended in 'A': 1 run in 16).
    const tampered = `${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`
    for (const headers of [{} as Record<string, string>, { cookie: `${name}=${Number(expiry) - 1}.${mac}` }, { cookie: `${name}=${expiry}.${tampered}` }, { cookie: `${name}=${TEST_INTERNAL_TOKEN}` }]) {
      for (const path of ['/__tiercache/stats', '/__tiercache/dashboard/status']) {
        const res = await secure(path, { headers })
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401)
        await res.arrayBuffer()
      }
      const page = await secure('/__tiercache/dashboard', { headers })
      expect(await page.text()).toContain('name="token"')
    }
  })

  it('signing out clears the cookie', async () => {
    const res = await secure('/__tiercache/dashboard/logout', { method: 'POST', redirect: 'manual' })
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).toBe(`${SESSION_COOKIE}=; Path=/__tiercache; Max-Age=0; HttpOnly; SameSite=Strict; Secure`)
  })

  it('/dashboard/status reports the breaker and this isolate’s purge-log view with its newest records', async () => {
    const purge = await sendPurge(worker(), { tags: ['dash-status-tag'], urls: ['/public/dash-status'] })
    expect(purge.status).toBe(200)
    await purge.arrayBuffer()
    const res = await secure('/__tiercache/dashboard/status', { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } })
    const body = (await res.json()) as {
      redis: { configured: boolean; breaker: string; errors: unknown[] }
      purgeLog: { shared: boolean; viewAgeMs: number | null; deltaMs: number; recent: Array<{ seq: number; tags: string[]; urls: string[]; all: boolean; soft: boolean }> }
    }
    expect(body.redis).toMatchObject({ configured: true, breaker: 'closed', errors: [] })
    expect(body.purgeLog.shared).toBe(true)
    expect(body.purgeLog.deltaMs).toBe(2000)
    expect(body.purgeLog.viewAgeMs).toBeGreaterThanOrEqual(0)
    expect(body.purgeLog.recent[0]).toMatchObject({ tags: ['dash-status-tag'], urls: ['http://tiercache.test/public/dash-status'], all: false, soft: false })
  })

  it('/stats carries a latency histogram per Server-Timing metric, fed once per response; memory hits add none', async () => {
    type Latency = Record<string, { count: number; sumMs: number; p95Ms: number; buckets: Record<string, number> }>
    const latency = async () => ((await (await secure('/__tiercache/stats', { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } })).json()) as { latency: Latency }).latency
    /** Fetches `path` and checks that exactly the metrics its Server-Timing names gained one observation each. */
    const fetchAndCompare = async (path: string) => {
      const before = await latency()
      const res = await secure(path)
      await res.arrayBuffer()
      const metrics = (res.headers.get('server-timing') ?? '').split(', ').filter(Boolean).map((m) => m.split(';')[0]!)
      const after = await latency()
      const counts = (l: Latency) => Object.fromEntries(Object.entries(l).map(([name, h]) => [name, h.count]))
      const expected = counts(before)
      for (const metric of metrics) expected[metric] = (expected[metric] ?? 0) + 1
      expect(counts(after)).toEqual(expected)
      return { res, metrics, after }
    }
    const miss = await fetchAndCompare('/public/dash-latency')
    expect(miss.metrics).toContain('origin')
    expect(miss.after.origin!.buckets['+Inf']).toBe(miss.after.origin!.count)
    const hit = await fetchAndCompare('/public/dash-latency')
    expect(hit.res.headers.get('cache-status')).toContain('tiercache-memory; hit')
    // A memory hit is not timed: at most the purge-log refresh it may have had to wait for.
    expect(hit.metrics.filter((m) => m !== 'coherence')).toEqual([])
    const afterMiss = hit.after
    const prometheus = await (await secure('/__tiercache/stats?format=prometheus', { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } })).text()
    expect(prometheus).toContain('# TYPE tiercache_lookup_duration_seconds histogram')
    expect(prometheus).toContain(`tiercache_lookup_duration_seconds_count{metric="origin"} ${afterMiss.origin!.count}`)
  })

  it('a worker without INTERNAL_TOKEN says the dashboard is off, and nothing signs in', async () => {
    const bare = await startWorkerProcess({ ORIGIN_URL: stack.origin.url })
    try {
      const page = await bare.fetch('/__tiercache/dashboard')
      expect(page.status).toBe(401)
      expect(await page.text()).toContain('this worker has no INTERNAL_TOKEN')
      const post = await bare.fetch('/__tiercache/dashboard', form(''))
      expect(post.status).toBe(401)
      expect(post.headers.get('set-cookie')).toBeNull()
      await post.arrayBuffer()
    } finally {
      await bare.dispose()
    }
  })
})
