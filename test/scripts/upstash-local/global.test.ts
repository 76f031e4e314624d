/**
 * upstash-local's global mode (scripts/upstash-local/global.ts, replication.ts): a primary, a read
 * replica behind a lag proxy, reads on the replica, writes and scripts on the primary, and the
 * `upstash-sync-token` as Upstash's read-your-writes page describes it. Driven by the official
 * `@upstash/redis` client, unchanged. The servers are this file's own (free ports), stopped by PID.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from '@upstash/redis'
import { Redis as CloudflareRedis } from '@upstash/redis/cloudflare'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startUpstashGlobal, type UpstashGlobal } from '../../../scripts/upstash-local/global.ts'
import { call } from './helpers.ts'
import { optionsFromCli } from '../../../scripts/upstash-local/main.ts'
import { UpstashLocalConfigError } from '../../../scripts/upstash-local/options.ts'

// Large enough that no scheduler stall on a shared machine lets the replica catch up before the read.
const LAG_MS = 3000

let db: UpstashGlobal
const key = (name: string) => `global-test:${name}:${randomUUID().slice(0, 8)}`
const client = (config: { readYourWrites?: boolean } = {}) => new Redis({ url: db.url, token: db.token, retry: false, ...config })

beforeAll(async () => {
  db = await startUpstashGlobal({ port: 0, token: `test-${randomUUID()}`, syncWaitMs: 20_000 })
})
afterAll(async () => {
  await db?.close()
})
afterEach(() => {
  db.setGlobalKnobs({ lagMs: 0, primaryLatencyMs: 0, replicaLatencyMs: 0 })
})

/** Waits until a token-less read on the replica sees `value` (replication caught up). */
async function replicated(k: string, value: string): Promise<void> {
  const reader = client({ readYourWrites: false })
  const deadline = Date.now() + 20_000
  while ((await reader.get(k)) !== value) {
    if (Date.now() > deadline) throw new Error(`replica never saw ${k}=${value}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('routing', () => {
  it('serves reads (GET, EVAL_RO) from the replica and writes and scripts (SET, EVAL) from the primary', async () => {
    const k = key('route')
    const headerOf = async (body: unknown) => (await call(db, '/', { body })).headers.get('upstash-local-node')
    expect(await headerOf(['SET', k, 'v'])).toBe('primary')
    expect(await headerOf(['GET', k])).toBe('replica')
    expect(await headerOf(['EVAL_RO', "return redis.call('GET', KEYS[1])", 1, k])).toBe('replica')
    // EVAL may write, so Upstash sends it to the primary even when this script only reads.
    expect(await headerOf(['EVAL', "return redis.call('GET', KEYS[1])", 1, k])).toBe('primary')
    db.resetStats()
    await call(db, '/pipeline', { body: [['GET', k], ['SET', k, 'w']] })
    await call(db, '/pipeline', { body: [['GET', k], ['STRLEN', k]] })
    expect(db.stats().byNode).toEqual({ primary: 1, replica: 1 })
  })

  it('refuses writes on the replica itself, so a routing mistake cannot pass unnoticed', async () => {
    const { execFile } = await import('node:child_process')
    const reply = await new Promise<string>((resolve) =>
      execFile('redis-cli', ['-p', String(db.replica.port), 'SET', key('direct'), 'x'], (_e, stdout) => resolve(stdout.trim()))
    )
    expect(reply).toMatch(/^READONLY/)
  })
})

describe('replication lag and read-your-writes', () => {
  it('a replica read during the lag returns the old value; with the writer\'s sync token, the new one', async () => {
    const k = key('lag')
    const writer = client()
    await writer.set(k, 'old')
    await replicated(k, 'old')
    db.setGlobalKnobs({ lagMs: LAG_MS })
    await writer.set(k, 'new')
    const token = writer.readYourWritesSyncToken
    expect(token).toMatch(/^\d+$/)

    // Another client (no token): the replica has not applied the write yet.
    expect(await client({ readYourWrites: false }).get(k)).toBe('old')
    // The primary has it: the lag is on the replication link, not in the write.
    const viaScript = await writer.eval<[], string>("return redis.call('GET', KEYS[1])", [k], [])
    expect(viaScript).toBe('new')

    // Upstash's cross-client recipe: pass the writer's token to the reader.
    const reader = client()
    reader.readYourWritesSyncToken = token
    db.resetStats()
    expect(await reader.get(k)).toBe('new')
    expect(db.stats().byNode).toEqual({ replica: 1 })
    // And the writer's own next read (the client sends its token by itself).
    expect(await writer.get(k)).toBe('new')
  })

  it('hands a token read to the primary when the replica does not catch up within syncWaitMs', async () => {
    const quick = await startUpstashGlobal({ port: 0, token: 'quick', syncWaitMs: 100 })
    try {
      const k = key('fallback')
      const writer = new Redis({ url: quick.url, token: 'quick', retry: false })
      await writer.set(k, 'old')
      quick.setGlobalKnobs({ lagMs: 10_000 })
      await writer.set(k, 'new')
      quick.resetStats()
      expect(await writer.get(k)).toBe('new')
      expect(quick.stats().byNode).toEqual({ primary: 1 })
      expect(await new Redis({ url: quick.url, token: 'quick', readYourWrites: false }).get(k)).toBe('old')
    } finally {
      await quick.close()
    }
  })

  it('every answer carries a token, and it grows with each write (reference §1.7, §7 H2)', async () => {
    const k = key('token')
    const first = await call(db, '/', { body: ['SET', k, '1'] })
    const second = await call(db, '/', { body: ['INCR', k] })
    const read = await call(db, '/', { body: ['GET', k], headers: { 'upstash-sync-token': second.headers.get('upstash-sync-token') ?? '' } })
    const [a, b, c] = [first, second, read].map((r) => Number(r.headers.get('upstash-sync-token')))
    expect(b).toBeGreaterThan(a as number)
    expect(c).toBeGreaterThanOrEqual(b as number)
    expect(read.json).toEqual({ result: '2' })
  })
})

describe('latency knobs', () => {
  it('adds the primary latency to requests the primary serves, and only the replica latency to reads', async () => {
    const k = key('latency')
    db.setGlobalKnobs({ primaryLatencyMs: 400, replicaLatencyMs: 0 })
    const redis = client({ readYourWrites: false })
    let started = Date.now()
    await redis.set(k, 'v')
    expect(Date.now() - started).toBeGreaterThanOrEqual(400)
    db.resetStats()
    await redis.get(k)
    expect(db.stats().byNode).toEqual({ replica: 1 })
    db.setGlobalKnobs({ replicaLatencyMs: 250 })
    started = Date.now()
    await redis.get(k)
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(db.globalKnobs()).toEqual({ primaryLatencyMs: 400, replicaLatencyMs: 250, lagMs: 0 })
  })

  it('changes knobs over HTTP and rejects bad ones with a reason', async () => {
    const set = await call(db, '/__control/global', { body: { lagMs: 20 } })
    expect(set.json).toEqual({ primaryLatencyMs: 0, replicaLatencyMs: 0, lagMs: 20 })
    expect((await call(db, '/__control/global', { method: 'GET' })).json).toEqual({ primaryLatencyMs: 0, replicaLatencyMs: 0, lagMs: 20 })
    const negative = await call(db, '/__control/global', { body: { lagMs: -1 } })
    expect(negative.status).toBe(400)
    expect(negative.json).toEqual({ error: 'ERR lagMs must be a non-negative number of ms' })
    const unknown = await call(db, '/__control/global', { body: { lag: 1 } })
    expect(unknown.status).toBe(400)
    expect((unknown.json as { error: string }).error).toMatch(/unknown global knob lag; use primaryLatencyMs, replicaLatencyMs or lagMs/)
  })
})

describe('the official client, unchanged', () => {
  it.each([
    ['@upstash/redis', (url: string, token: string) => new Redis({ url, token, retry: false })],
    ['@upstash/redis/cloudflare', (url: string, token: string) => new CloudflareRedis({ url, token, retry: false })],
  ])('%s: set, get, pipeline, multi, eval, evalRo', async (_entry, create) => {
    const redis = create(db.url, db.token)
    const k = key('client')
    expect(await redis.set(k, { a: 1 }, { ex: 60 })).toBe('OK')
    expect(await redis.get(k)).toEqual({ a: 1 })
    const [got, missing] = await Promise.all([redis.get(k), redis.get(`${k}:missing`)])
    expect(got).toEqual({ a: 1 })
    expect(missing).toBeNull()
    expect(await redis.multi().set(`${k}:n`, 1).incr(`${k}:n`).exec()).toEqual(['OK', 2])
    expect(await redis.eval("return redis.call('INCR', KEYS[1])", [`${k}:n`], [])).toBe(3)
    expect(await redis.evalRo("return redis.call('GET', KEYS[1])", [`${k}:n`], [])).toBe(3)
    await redis.del(k, `${k}:n`)
  })
})

describe('several read regions', () => {
  it('each region reads its own replica: lag on one leaves the other current, and a token carries across', async () => {
    const two = await startUpstashGlobal({ port: 0, token: 'two', regions: 2, syncWaitMs: 20_000 })
    try {
      const [near, far] = two.regions as [typeof two, typeof two]
      expect(near.url).toBe(two.url)
      expect(far.url).not.toBe(near.url)
      expect(far.replica.port).not.toBe(near.replica.port)
      const k = key('regions')
      const writer = new Redis({ url: near.url, token: 'two', retry: false })
      await writer.set(k, 'old')
      const farReader = new Redis({ url: far.url, token: 'two', retry: false, readYourWrites: false })
      while ((await farReader.get(k)) !== 'old') await new Promise((r) => setTimeout(r, 10))
      far.setGlobalKnobs({ lagMs: LAG_MS })
      await writer.set(k, 'new')
      // The near region's replica (no lag) catches up at once; the far one is 3 s behind.
      const nearReader = new Redis({ url: near.url, token: 'two', retry: false, readYourWrites: false })
      const deadline = Date.now() + 10_000
      while ((await nearReader.get(k)) !== 'new') {
        if (Date.now() > deadline) throw new Error('the near replica never caught up')
        await new Promise((r) => setTimeout(r, 10))
      }
      expect(await farReader.get(k)).toBe('old')
      // A token from the near region makes the far replica wait until it has the write.
      const handedOver = new Redis({ url: far.url, token: 'two', retry: false })
      handedOver.readYourWritesSyncToken = writer.readYourWritesSyncToken
      far.resetStats()
      expect(await handedOver.get(k)).toBe('new')
      expect(far.stats().byNode).toEqual({ replica: 1 })
    } finally {
      await two.close()
    }
  })
})

describe('command line', () => {
  it('reads --global and its knobs, and refuses knobs without it', () => {
    expect(optionsFromCli(['--token', 't', '--global', '--primary-latency-ms', '80', '--replica-latency-ms', '3', '--replication-lag-ms', '500'], {})).toMatchObject({
      global: { lagMs: 500, regions: 1 },
      primaryLatencyMs: 80,
      replicaLatencyMs: 3,
    })
    expect(() => optionsFromCli(['--token', 't', '--replication-lag-ms', '500'], {})).toThrow(new UpstashLocalConfigError('--replication-lag-ms needs --global'))
    expect(() => optionsFromCli(['--token', 't', '--global', '--redis', '127.0.0.1:6380'], {})).toThrow(/leave out --redis and --db/)
  })
})
