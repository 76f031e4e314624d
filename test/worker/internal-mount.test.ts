/**
 * src/internal-mount.ts: `app.route('/__tiercache', tiercacheRoutes())` in a worker author's Hono app
 * (test/fixtures/routes-app.ts), two workerd processes on one Redis. The mounted purge webhook uses the
 * isolate's shared engine: this isolate's HTTP and data entries miss at once, the other process's
 * within δ + 1 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { MiniflareWithCoverage as Miniflare } from '../support/workerd-coverage.ts'
import { buildWorker, bundleDir } from '../../scripts/build-worker.ts'
import { startUpstashLocal, type UpstashLocal } from '../../scripts/upstash-local/server.ts'
import { eventually, servedBy, TEST_INTERNAL_TOKEN, TEST_PURGE_SECRET, TEST_TOKEN } from '../support/stack.ts'
import { signPurge } from '../../src/purge/signature.ts'
/** The fixture's coherenceDeltaMs (a worker module may export only handlers, so it is repeated here). */
const DELTA_MS = 1000

type Get = (p: string, init?: RequestInit) => Promise<Response>

describe('tiercacheRoutes() mounted in a worker author’s app (workerd, two processes)', () => {
  let upstash: UpstashLocal
  const processes: Miniflare[] = []
  let a: Get
  let b: Get
  let misplaced: Get

  const start = async (script: string, bindings: Record<string, string>): Promise<Get> => {
    const mf = new Miniflare({ host: '127.0.0.1', port: 0, modules: true, scriptPath: script, compatibilityDate: '2026-07-01', bindings })
    await mf.ready
    processes.push(mf)
    return async (p, init) => (await mf.dispatchFetch(`http://app.test${p}`, init as never)) as unknown as Response
  }

  beforeAll(async () => {
    upstash = await startUpstashLocal({ port: 0, token: TEST_TOKEN })
    const [script, misplacedScript] = await Promise.all([
      buildWorker('test/fixtures/routes-app.ts', path.join(bundleDir, 'routes-app.js')),
      buildWorker('test/fixtures/routes-misplaced-app.ts', path.join(bundleDir, 'routes-misplaced-app.js')),
    ])
    const bindings = {
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: TEST_TOKEN,
      REDIS_PREFIX: `t:${randomUUID().slice(0, 8)}:`,
      PURGE_SECRET: TEST_PURGE_SECRET,
      INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    }
    ;[a, b, misplaced] = await Promise.all([start(script, bindings), start(script, bindings), start(misplacedScript, { PURGE_SECRET: TEST_PURGE_SECRET })])
  }, 120_000)
  afterAll(async () => {
    await Promise.all(processes.map((mf) => mf.dispose()))
    await upstash?.close()
  })

  const counts = async (get: Get) => (await (await get('/counts')).json()) as { loads: number; renders: number }
  const purge = async (get: Get, body: unknown, secret = TEST_PURGE_SECRET) => {
    const text = JSON.stringify(body)
    return get('/__tiercache/purge', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'tiercache-signature': await signPurge(secret, text) },
      body: text,
    })
  }
  /** Fills `/api/page` and `/users/1` in `get`'s isolate until both are memory hits there. */
  const warm = async (get: Get) => {
    await get('/api/page')
    await eventually(async () => servedBy(await get('/api/page')) === 'memory', 10_000)
    await get('/users/1')
    await eventually(async () => /desc="memory-hit"/.test((await get('/users/1')).headers.get('server-timing') ?? ''), 10_000)
  }

  it('serves /health, a token-guarded /stats and the dashboard from the app’s engine', async () => {
    const health = await a('/__tiercache/health')
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ ok: true, tiers: { redis: { configured: true, reachable: true } } })
    expect((await a('/__tiercache/stats')).status).toBe(401)
    await a('/api/page')
    const stats = await a('/__tiercache/stats', { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } })
    expect(stats.status).toBe(200)
    // The app's own traffic is counted there: the routes read the middleware's engine, not one of their own.
    expect(((await stats.json()) as { counters: Record<string, number> }).counters.requests).toBeGreaterThan(0)
    // The operator page is there too: its sign-in form, with INTERNAL_TOKEN set.
    const dashboard = await a('/__tiercache/dashboard')
    expect(dashboard.status).toBe(200)
    expect(await dashboard.text()).toMatch(/<form/i)
  })

  it('refuses an unsigned or wrongly signed purge with 401, and evicts nothing', async () => {
    await warm(a)
    const unsigned = await a('/__tiercache/purge', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tags":["users"]}' })
    expect(unsigned.status).toBe(401)
    expect((await purge(a, { tags: ['users'] }, 'not-the-purge-secret-at-all')).status).toBe(401)
    expect(servedBy(await a('/api/page'))).toBe('memory')
  })

  it('a signed purge by tag evicts HTTP and data entries in this isolate at once, and in another process within δ + 1 s', async () => {
    await warm(a)
    await warm(b)
    const before = await counts(a)
    const [oldPageB, oldUserB] = await Promise.all([(await b('/api/page')).text(), (await b('/users/1')).text()])

    const res = await purge(a, { tags: ['users'] })
    expect(res.status, await res.clone().text()).toBe(200)
    // This isolate: no wait. Not memory, not the edge, not Redis: the handler and the loader run again.
    const page = await a('/api/page')
    expect(servedBy(page)).toBe('origin')
    const user = await a('/users/1')
    expect(user.headers.get('server-timing')).toMatch(/desc="loaded"/)
    expect(await counts(a)).toEqual({ loads: before.loads + 1, renders: before.renders + 1 })

    // The other process reads the purge log within δ; 1 s on top for scheduling on a loaded machine.
    const deadline = Date.now() + DELTA_MS + 1000
    await eventually(async () => (await (await b('/api/page')).text()) !== oldPageB, DELTA_MS + 1000)
    await eventually(async () => (await (await b('/users/1')).text()) !== oldUserB, Math.max(0, deadline - Date.now()) + 50)
  })

  it('answers a clear ConfigError when mounted away from the cache’s internalPrefix', async () => {
    const res = await misplaced('/ops/health')
    expect(res.status).toBe(500)
    const body = (await res.json()) as { error: string; detail: string }
    expect(body.error).toBe('tiercache is misconfigured')
    expect(body.detail).toContain(`app.route('/__tiercache', tiercacheRoutes())`)
  })
})
