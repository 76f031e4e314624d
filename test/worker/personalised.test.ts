import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheStatus, eventually, sendPurge, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'

// Issue 13: per-user routes must actually cache (for that user only), cohort routes once per cohort, and
// what leaves tiercache must stop every downstream cache from sharing it. Two worker processes share
// Redis; each has its own memory and edge.

const ROUTES = JSON.stringify([
  { pattern: '/p/', perUser: { identity: 'authorization' } },
  { pattern: '/set-cookie', perUser: { identity: 'authorization' } },
  { pattern: '/no-store', perUser: { identity: 'authorization' } },
  { pattern: '/cohort/country', cohort: { headers: ['cf-ipcountry'] } },
  { pattern: '/cohort/ab', cohort: { cookies: ['ab'], maxCohorts: 3 } },
])

/** The identity hash an origin computes for a per-user purge: base64url of SHA-256's first 128 bits. */
const identityHash = (value: string) => createHash('sha256').update(value).digest().subarray(0, 16).toString('base64url')

const as = (user: string) => ({ headers: { authorization: `Bearer ${user}` } })

describe('per-user and per-cohort caching', () => {
  let stack: Stack
  let a: WorkerProcess
  let b: WorkerProcess
  beforeAll(async () => {
    stack = await startStack({ workers: 2, vars: { ROUTES } })
    ;[a, b] = stack.workers as [WorkerProcess, WorkerProcess]
  })
  afterAll(() => stack.close())

  const get = async (worker: WorkerProcess, path: string, init?: RequestInit) => {
    const res = await worker.fetch(path, init)
    return { res, body: await res.text(), by: servedBy(res), status: cacheStatus(res) }
  }
  const originHits = (path: string) => stack.origin.stats().byPath[path] ?? 0

  it.each([
    ['Cache-Control: private, max-age=60', '/p/private'],
    ['Cache-Control: max-age=60', '/p/plain'],
    ['Cache-Control: max-age=60, Vary: Cookie', '/p/vary-cookie'],
    ['Cache-Control: public, max-age=60', '/p/public'],
  ])('%s: the same user hits (memory, then Redis in the other process); another user never gets it', async (_label, path) => {
    const first = await get(a, path, as('alice'))
    expect(first.res.status).toBe(200)
    expect(first.body).toMatch(/^hello alice,/)
    expect(first.by).toBe('origin')
    expect(first.status['tiercache-memory']?.stored).toBe(true)

    const again = await get(a, path, as('alice'))
    expect(again.by).toBe('memory')
    expect(again.body).toBe(first.body)

    await eventually(async () => (await get(b, path, as('alice'))).by === 'redis')
    const fromRedis = await get(b, path, as('alice'))
    expect(fromRedis.body).toBe(first.body)

    for (const worker of [a, b]) {
      const other = await get(worker, path, as('bob'))
      expect(other.res.status).toBe(200)
      expect(other.body).toMatch(/^hello bob,/)
    }
    // alice's fill, bob's fill in a and one more for bob in b at most (b may find a's copy in Redis).
    expect(originHits(path)).toBeLessThanOrEqual(3)
    expect(originHits(path)).toBeGreaterThanOrEqual(2)
  })

  it('keeps per-user entries out of the shared edge: with memory cleared the next hit is from Redis', async () => {
    const path = '/p/private?edge-check'
    await get(a, path, as('carol'))
    await eventually(async () => (await get(b, path, as('carol'))).by === 'redis')
    await a.clearMemory()
    const res = await get(a, path, as('carol'))
    expect(res.by).toBe('redis')
    expect(res.body).toMatch(/^hello carol,/)
  })

  it('sends per-user answers downstream as private, keeps max-age, and names the bucket without the identity', async () => {
    const miss = await get(a, '/p/public?headers', as('dave'))
    const hit = await get(a, '/p/public?headers', as('dave'))
    expect(hit.by).toBe('memory')
    for (const { res } of [miss, hit]) {
      const cc = res.headers.get('cache-control') ?? ''
      expect(cc).toMatch(/^private\b/)
      expect(cc).not.toMatch(/public/)
      expect(cc).toMatch(/max-age=60/)
      const bucket = cacheStatus(res)['tiercache-memory']?.bucket
      expect(bucket).toBe(`user:${identityHash('Bearer dave').slice(0, 8)}`)
      const everyHeader = [...res.headers].map(([n, v]) => `${n}: ${v}`).join('\n')
      expect(everyHeader).not.toMatch(/dave/)
    }
  })

  it('never stores Set-Cookie and lets no-store win on a per-user route', async () => {
    for (const path of ['/set-cookie', '/no-store']) {
      const before = originHits(path)
      for (let i = 0; i < 3; i++) {
        const res = await get(a, path, as('erin'))
        expect(res.by).toBe('origin')
      }
      expect(originHits(path) - before).toBe(3)
    }
  })

  it('a purge by URL removes every user’s copy in both processes within δ + 1 s', async () => {
    const path = '/p/private?purge-url'
    const before = new Map<string, string>()
    for (const user of ['frank', 'grace']) {
      before.set(user, (await get(a, path, as(user))).body)
      await eventually(async () => (await get(b, path, as(user))).by === 'redis')
      expect((await get(a, path, as(user))).by).toBe('memory')
      expect((await get(b, path, as(user))).by).toBe('memory')
    }
    const receipt = await sendPurge(a, { urls: [path] })
    expect(receipt.status).toBe(200)
    const acknowledged = Date.now()
    await receipt.arrayBuffer()
    // The purged bodies carry their origin serial: gone means every process answers with a newer one.
    let polls = 0
    for (const user of ['frank', 'grace']) {
      for (const worker of [a, b]) {
        await eventually(async () => {
          polls++
          const now = await get(worker, path, as(user))
          expect(now.body).toMatch(new RegExp(`^hello ${user},`))
          return now.body !== before.get(user)
        }, 4000)
      }
    }
    // δ (2 s) + 1 s, with room for a loaded machine; and the old copies were really seen before the purge.
    expect(Date.now() - acknowledged).toBeLessThan(3000 + 1000)
    expect(polls).toBeGreaterThanOrEqual(4)
  })

  it('a per-user purge ({"users": [hash]}) removes that user’s copies and no one else’s', async () => {
    const paths = ['/p/private?users', '/p/plain?users']
    for (const user of ['heidi', 'ivan']) for (const path of paths) await get(a, path, as(user))
    for (const user of ['heidi', 'ivan']) for (const path of paths) expect((await get(a, path, as(user))).by).toBe('memory')
    const res = await sendPurge(a, { users: [identityHash('Bearer heidi')] })
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    for (const path of paths) {
      expect((await get(a, path, as('heidi'))).by).toBe('origin')
      expect((await get(a, path, as('ivan'))).by).toBe('memory')
    }
  })

  it('a tag the origin sets per user purges that user’s pages', async () => {
    await get(a, '/p/tagged', as('judy'))
    await get(a, '/p/tagged', as('mallory'))
    const res = await sendPurge(a, { tags: ['user-judy'] })
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    expect((await get(a, '/p/tagged', as('judy'))).by).toBe('origin')
    expect((await get(a, '/p/tagged', as('mallory'))).by).toBe('memory')
  })

  it('a per-user route without the identity goes to the origin, uncached', async () => {
    const first = await get(a, '/p/private?anon')
    const second = await get(a, '/p/private?anon')
    expect(first.body).toMatch(/^hello anonymous,/)
    expect(second.by).toBe('origin')
    expect(second.status['tiercache']?.detail).toBe('no-identity')
  })

  it('caches a page per country (header cohort) and sends Vary naming the header', async () => {
    const de = { headers: { 'cf-ipcountry': 'DE' } }
    const us = { headers: { 'cf-ipcountry': 'US' } }
    const first = await get(a, '/cohort/country', de)
    const second = await get(a, '/cohort/country', de)
    expect(first.body).toMatch(/^prices for DE/)
    expect(second.by).toBe('memory')
    expect(second.body).toBe(first.body)
    const other = await get(a, '/cohort/country', us)
    expect(other.by).toBe('origin')
    expect(other.body).toMatch(/^prices for US/)
    expect((await get(a, '/cohort/country', us)).by).toBe('memory')
    for (const { res } of [first, second, other]) expect(res.headers.get('vary')?.toLowerCase()).toMatch(/cf-ipcountry/)
    // Shared across processes: the other process gets DE from Redis or its edge, not the origin.
    await eventually(async () => (await get(b, '/cohort/country', de)).by !== 'origin')
    expect((await get(b, '/cohort/country', de)).body).toBe(first.body)
  })

  it('caches a page per experiment bucket (cookie cohort), privately downstream, and caps the cohorts', async () => {
    const bucket = (ab: string) => ({ headers: { cookie: `ab=${ab}; theme=dark` } })
    const first = await get(a, '/cohort/ab', bucket('A'))
    const again = await get(a, '/cohort/ab', bucket('A'))
    expect(first.body).toMatch(/^variant A/)
    expect(again.by).toBe('memory')
    expect(again.body).toBe(first.body)
    expect(again.res.headers.get('cache-control')).toMatch(/^private\b/)
    const b1 = await get(a, '/cohort/ab', bucket('B'))
    expect(b1.body).toMatch(/^variant B/)
    expect(b1.by).toBe('origin')
    expect((await get(a, '/cohort/ab', bucket('B'))).by).toBe('memory')
    expect((await get(a, '/cohort/ab', bucket('C'))).body).toMatch(/^variant C/)
    // maxCohorts: 3: a fourth bucket is served, uncached, and says why.
    const d1 = await get(a, '/cohort/ab', bucket('D'))
    const d2 = await get(a, '/cohort/ab', bucket('D'))
    expect(d2.body).toMatch(/^variant D/)
    expect(d2.by).toBe('origin')
    expect(d2.status['tiercache']?.detail).toBe('cohort-limit')
    expect(d1.res.status).toBe(200)
  })
})
