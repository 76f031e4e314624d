/**
 * examples/standalone-worker: the package's worker entry configured only through wrangler.toml, installed
 * from the packed tarball into a copy of the example, bundled by wrangler (`wrangler deploy --dry-run`)
 * and run in workerd with the example's own vars, against the local Redis tier and the demo origin. Only
 * what exists nowhere but here is overridden, as `wrangler dev --var` would: the origin and Redis
 * addresses, a key prefix of its own, and the secrets `wrangler secret put` would hold.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheStatus, servedBy, startStack, TEST_TOKEN, type Stack } from '../support/stack.ts'
import {
  installExample,
  packedTarball,
  startExampleWorker,
  wranglerBuild,
  wranglerConfig,
  type ExampleWorker,
  type InstalledExample,
} from '../support/package.ts'

const PURGE_SECRET = 'standalone-example-purge-secret'
const INTERNAL_TOKEN = 'standalone-example-internal-token'

describe('examples/standalone-worker (installed from the tarball, bundled by wrangler, in workerd)', () => {
  let example: InstalledExample
  let stack: Stack
  let worker: ExampleWorker
  let vars: Record<string, string>
  let signPurge: (secret: string, body: string) => Promise<string>

  beforeAll(async () => {
    example = await installExample('standalone-worker', await packedTarball())
    const [build, config] = await Promise.all([wranglerBuild(example.dir), wranglerConfig(example.dir)])
    vars = config.vars
    stack = await startStack({ workers: 0 })
    worker = await startExampleWorker(build.script, config.compatibilityDate, {
      ...config.vars,
      ORIGIN_URL: stack.origin.url,
      UPSTASH_REDIS_REST_URL: stack.upstash.url,
      UPSTASH_REDIS_REST_TOKEN: TEST_TOKEN,
      REDIS_PREFIX: stack.prefix,
      // Two cores run everything at once here; see test/support/stack.ts.
      REDIS_TIMEOUT_MS: '2000',
      PURGE_SECRET,
      INTERNAL_TOKEN,
    })
    // The origin signs with the package's own helper (tiercache/purge), from the same install.
    const helper = path.join(example.dir, 'node_modules', 'tiercache', 'dist', 'purge', 'signature.js')
    ;({ signPurge } = (await import(pathToFileURL(helper).href)) as { signPurge: typeof signPurge })
  }, 240_000)
  afterAll(async () => {
    await worker?.dispose()
    await stack?.close()
    await example?.remove()
  })

  const originCalls = (p: string) => stack.origin.stats().byPath[p] ?? 0

  it('runs the package worker with the settings wrangler.toml gives it', async () => {
    expect(vars).toMatchObject({ ORIGIN_URL: expect.any(String), REDIS_PREFIX: 'tc:', ROUTES: expect.stringContaining('/api/') })
    const health = (await (await worker.fetch('/__tiercache/health')).json()) as { tiers: { redis: { configured: boolean; probe: { ok: boolean } } } }
    expect(health.tiers.redis).toMatchObject({ configured: true, probe: { ok: true } })
    // ROUTES from wrangler.toml: /admin/ bypasses the cache, so every request reaches the origin.
    for (let i = 0; i < 2; i++) {
      const res = await worker.fetch('/admin/report')
      await res.text()
      expect(res.headers.get('cache-status')).toContain('fwd=bypass')
    }
    expect(originCalls('/admin/report')).toBe(2)
  })

  it('answers a repeat GET from a tier: a miss, then a hit, and one origin fetch', async () => {
    const first = await worker.fetch('/items/1')
    const firstBody = await first.text()
    expect(first.status).toBe(200)
    expect(servedBy(first)).toBe('origin')
    expect(first.headers.get('cache-status')).toContain('fwd=miss')
    const second = await worker.fetch('/items/1')
    expect(await second.text()).toBe(firstBody)
    expect(servedBy(second)).toBe('memory')
    expect(cacheStatus(second)['tiercache-memory']).toMatchObject({ hit: true })
    expect(originCalls('/items/1')).toBe(1)
  })

  it('a signed purge by tag makes the next request miss', async () => {
    await worker.fetch('/items/2').then((r) => r.text())
    expect(servedBy(await worker.fetch('/items/2'))).toBe('memory')
    expect(originCalls('/items/2')).toBe(1)
    // The demo origin tags item reads `Cache-Tag: item-<id>,items`.
    const body = JSON.stringify({ tags: ['item-2'] })
    const purge = await worker.fetch('/__tiercache/purge', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'tiercache-signature': await signPurge(PURGE_SECRET, body) },
      body,
    })
    expect(purge.status).toBe(200)
    await purge.text()
    const next = await worker.fetch('/items/2')
    await next.text()
    expect(servedBy(next)).toBe('origin')
    expect(originCalls('/items/2')).toBe(2)
    // Other tags' entries stay.
    expect(servedBy(await worker.fetch('/items/1'))).toBe('memory')
  })

  it('refuses an unsigned purge', async () => {
    const purge = await worker.fetch('/__tiercache/purge', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tags":["items"]}' })
    expect(purge.status).toBe(401)
    await purge.text()
    expect(servedBy(await worker.fetch('/items/1'))).toBe('memory')
  })
})
