import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import path from 'node:path'
import { MiniflareWithCoverage as Miniflare } from './support/workerd-coverage.ts'
import { buildWorker, bundleDir } from '../scripts/build-worker.ts'

// Workers refuse random values, timers and I/O in global scope, where an app builds its middleware. With
// Redis and the edge tier configured the engine also builds the shared purge-log view; the worker failed
// to start when that took its marker id (crypto.randomUUID) at construction.
describe('tieredCache() with Redis and the edge tier, built in global scope (workerd)', () => {
  let mf: Miniflare
  beforeAll(async () => {
    const script = await buildWorker('test/fixtures/middleware-shared-app.ts', path.join(bundleDir, 'middleware-shared-app.js'))
    mf = new Miniflare({ host: '127.0.0.1', port: 0, modules: true, scriptPath: script, compatibilityDate: '2026-07-01' })
    await mf.ready
  })
  afterAll(() => mf?.dispose())

  it('starts, and answers (Redis unreachable: the cache fails open to the handler)', async () => {
    const res = (await mf.dispatchFetch('http://app.test/hello')) as unknown as Response
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('hello')
  })
})
