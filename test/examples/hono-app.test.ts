/**
 * examples/hono-app: a Hono app laid out as the Cloudflare Workers template creates it, with the
 * middleware on /api/* and the data API in a handler. Installed from the packed tarball into a copy of
 * the example, bundled by wrangler (`wrangler deploy --dry-run`) and run in workerd with the example's
 * vars, against the local Redis tier; the demo origin stands in for the items API its loader calls.
 *
 * Purges go to the app itself: it mounts `tiercacheRoutes()` at /__tiercache, so the signed webhook uses
 * the same engine as its middleware and data API and the next request misses at once, in this isolate.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectRoot } from '../../scripts/build-worker.ts'
import { exec } from '../../scripts/lib/examples.ts'
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

const PURGE_SECRET = 'hono-app-example-purge-secret'

describe('examples/hono-app (installed from the tarball, bundled by wrangler, in workerd)', () => {
  let example: InstalledExample
  let stack: Stack
  let app: ExampleWorker
  let signPurge: (secret: string, body: string) => Promise<string>

  beforeAll(async () => {
    example = await installExample('hono-app', await packedTarball())
    const [build, config] = await Promise.all([wranglerBuild(example.dir), wranglerConfig(example.dir)])
    stack = await startStack({ workers: 0 })
    const shared = { UPSTASH_REDIS_REST_URL: stack.upstash.url, UPSTASH_REDIS_REST_TOKEN: TEST_TOKEN, REDIS_PREFIX: stack.prefix }
    app = await startExampleWorker(build.script, config.compatibilityDate, { ...config.vars, ...shared, ITEMS_API_URL: stack.origin.url, PURGE_SECRET })
    const helper = path.join(example.dir, 'node_modules', 'tiercache', 'dist', 'purge', 'signature.js')
    ;({ signPurge } = (await import(pathToFileURL(helper).href)) as { signPurge: typeof signPurge })
  }, 240_000)
  afterAll(async () => {
    await app?.dispose()
    await stack?.close()
    await example?.remove()
  })

  const loaderCalls = (id: string) => stack.origin.stats().byPath[`/items/${id}`] ?? 0
  const get = async (p: string) => {
    const res = await app.fetch(p)
    return { res, body: await res.text() }
  }
  const purgeTags = (tags: string[], signature?: string) => {
    const body = JSON.stringify({ tags })
    return signPurge(PURGE_SECRET, body).then((signed) =>
      app.fetch('/__tiercache/purge', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature === '' ? {} : { 'tiercache-signature': signature ?? signed }) },
        body,
      })
    )
  }

  it('type-checks with its own tsconfig against the declarations in the tarball', async () => {
    // The template's dev dependency, from this project (the test installs runtime dependencies only).
    await mkdir(path.join(example.dir, 'node_modules', '@cloudflare'), { recursive: true })
    await symlink(path.join(projectRoot, 'node_modules', '@cloudflare', 'workers-types'), path.join(example.dir, 'node_modules', '@cloudflare', 'workers-types'))
    // Misuse the types must catch: were the declarations missing or `any`, these directives would be unused errors.
    await writeFile(
      path.join(example.dir, 'src', 'misuse.ts'),
      [
        "import { tieredCache } from 'tiercache'",
        "import { dataCache } from 'tiercache/data'",
        '// @ts-expect-error: a Redis URL is a string',
        'tieredCache({ redis: { url: 1, token: "t" } })',
        'export const count = async (c: Parameters<typeof dataCache>[0]) => {',
        '  const n = await dataCache(c).getOrSet("k", async () => 42, { ttl: 1 })',
        '  // @ts-expect-error: getOrSet infers number from the loader',
        '  const s: string = n',
        '  return s',
        '}',
        '',
      ].join('\n')
    )
    const tsc = path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc')
    await exec(process.execPath, [tsc, '-p', path.join(example.dir, 'tsconfig.json'), '--noEmit'], example.dir)
  }, 180_000)

  it('the middleware route: a miss, then a hit from memory with the same body', async () => {
    const first = await get('/api/hello')
    expect(first.res.status).toBe(200)
    expect(servedBy(first.res)).toBe('origin')
    expect(first.res.headers.get('cache-status')).toContain('fwd=miss')
    const second = await get('/api/hello')
    expect(servedBy(second.res)).toBe('memory')
    expect(cacheStatus(second.res)['tiercache-memory']).toMatchObject({ hit: true })
    // The handler stamps the time it ran: the same body means it ran once.
    expect(second.body).toBe(first.body)
  })

  it('the data-API route calls its loader once for repeated and concurrent requests', async () => {
    const before = loaderCalls('1')
    const first = await get('/items/1')
    expect(first.res.status).toBe(200)
    expect(JSON.parse(first.body)).toMatchObject({ id: '1', body: 'first item' })
    const again = await Promise.all(Array.from({ length: 10 }, () => get('/items/1')))
    for (const r of again) expect(r.body).toBe(first.body)
    expect(loaderCalls('1') - before).toBe(1)
  })

  it('a missing item is answered 404 and its "not found" cached: the loader runs once', async () => {
    const first = await get('/items/missing')
    const second = await get('/items/missing')
    expect([first.res.status, second.res.status]).toEqual([404, 404])
    expect(loaderCalls('missing')).toBe(1)
  })

  it('its own purge webhook: unsigned is 401; a signed purge by tag makes the next request miss at once, HTTP and data entries alike', async () => {
    await get('/api/hello')
    expect(servedBy((await get('/api/hello')).res)).toBe('memory')
    const item = await get('/items/2')
    const loads = loaderCalls('2')
    expect((await get('/items/2')).body).toBe(item.body)
    expect(loaderCalls('2')).toBe(loads)

    // Unsigned, or signed with another secret: refused, and nothing is evicted.
    expect((await purgeTags(['api', 'items'], '')).status).toBe(401)
    expect((await purgeTags(['api', 'items'], await signPurge('not-the-example-purge-secret', '{"tags":["api","items"]}'))).status).toBe(401)
    expect(servedBy((await get('/api/hello')).res)).toBe('memory')

    const purged = await purgeTags(['api', 'items'])
    expect(purged.status, await purged.clone().text()).toBe(200)
    // The app's own webhook used its own engine: the very next requests miss, no δ to wait.
    expect(servedBy((await get('/api/hello')).res)).toBe('origin')
    await get('/items/2')
    expect(loaderCalls('2')).toBe(loads + 1)
    const reloaded = JSON.parse((await get('/items/2')).body) as { serial: number }
    expect(reloaded.serial).not.toBe((JSON.parse(item.body) as { serial: number }).serial)
  })
})
