import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startUpstashLocal, type UpstashLocal } from '../../scripts/upstash-local/server.ts'
import type { CacheEntry } from '../../src/entry.ts'
import { redisCliRaw } from '../support/redis-trouble.ts'
import { testEntry } from '../support/entries.ts'
import { openRedisTier } from '../support/redis-tier.ts'

// The fenced fill against the real redis-server (this suite's own prefix): what it refuses and why.
const REDIS_PORT = 6379
const TOKEN = 'redis-fill-test'
const URL = 'https://example.com/fenced'

const entry = (purgeSeq: number, tags: string[] = []): CacheEntry =>
  testEntry({ body: new TextEncoder().encode('body'), bornAt: Date.now(), storedAt: Date.now(), tags, purgeSeq })

/** A purge-log record as the commit script writes it (src/coherence/purge-log.ts), at `seq`. */
const record = (seq: number, scope: { urls?: string[]; tags?: string[] }) =>
  JSON.stringify({ seq, t: Date.now(), urls: scope.urls ?? [], tags: scope.tags ?? [], prefixes: [], all: false, soft: false })

describe('RedisTier.fill: the fence (design.md §5, no stale sets)', () => {
  let upstash: UpstashLocal
  beforeAll(async () => {
    upstash = await startUpstashLocal({ port: 0, token: TOKEN })
  })
  afterAll(() => upstash?.close())

  const open = () => {
    const { prefix, tier } = openRedisTier(upstash.url, TOKEN)
    const log = (seq: number, value: string) => redisCliRaw(REDIS_PORT, 'ZADD', `${prefix}plog`, String(seq), value)
    const stored = async () => Number(await redisCliRaw(REDIS_PORT, 'EXISTS', `${prefix}${URL}`)) === 1
    const fill = (purgeSeq: number, tags: string[] = []) =>
      tier.fill([{ key: URL, value: entry(purgeSeq, tags), ttlMs: 60_000 }], URL, '', { purgeSeq, primaryKey: URL, tags })
    return { tier, log, stored, fill }
  }

  it('refuses when a later record covers the URL or a tag, and stores when none does', async () => {
    const { log, stored, fill } = open()
    await log(5, record(5, { urls: ['https://example.com/other'] }))
    await log(6, record(6, { tags: ['t1'] }))
    expect((await fill(4)).outcome).toBe('stored')
    expect(await stored()).toBe(true)
    expect((await fill(4, ['t1'])).outcome).toBe('fenced')
    await log(7, record(7, { urls: [URL] }))
    expect((await fill(6)).outcome).toBe('fenced')
    expect((await fill(7)).outcome).toBe('stored')
  })

  it('refuses when records after the fill’s start were trimmed from the log (they cannot be checked)', async () => {
    const { log, stored, fill } = open()
    // The oldest record kept is 50: records 11–49 are gone, and any of them might have covered the URL.
    await log(50, record(50, { urls: ['https://example.com/other'] }))
    expect((await fill(10)).outcome).toBe('fenced')
    expect(await stored()).toBe(false)
    // A fill that started at 49 has nothing missing before 50.
    expect((await fill(49)).outcome).toBe('stored')
    expect(await stored()).toBe(true)
  })

  it('says skipped, not fenced, when the value is over the size limit', async () => {
    const { tier } = open()
    const big: CacheEntry = { ...entry(0), body: new Uint8Array(2 << 20) }
    expect(tier.fits(big)).toBe(false)
    expect((await tier.fill([{ key: URL, value: big, ttlMs: 60_000 }], URL, '', { purgeSeq: 0, primaryKey: URL, tags: [] })).outcome).toBe('skipped')
  })
})
