import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startUpstashLocal, type UpstashLocal } from '../../scripts/upstash-local/server.ts'
import type { CacheEntry } from '../../src/entry.ts'
import { TAG_INDEX_CAP, URL_INDEX_CAP } from '../../src/tiers/redis.ts'
import { pool } from '../support/pool.ts'
import { redisCliRaw } from '../support/redis-trouble.ts'
import { testEntry } from '../support/entries.ts'
import { openRedisTier } from '../support/redis-tier.ts'

// The fill script's key indexes (URL and tag) against the real redis-server, this suite's own prefix.
const REDIS_PORT = 6379
const TOKEN = 'redis-index-test'
const URL = 'https://example.com/many'

const entry = (tags: string[] = []): CacheEntry =>
  testEntry({ body: new TextEncoder().encode('x'), bornAt: Date.now(), storedAt: Date.now(), tags })

describe('key indexes are capped', () => {
  let upstash: UpstashLocal
  beforeAll(async () => {
    upstash = await startUpstashLocal({ port: 0, token: TOKEN })
  })
  afterAll(() => upstash?.close())

  const open = () => {
    const { prefix, tier } = openRedisTier(upstash.url, TOKEN)
    const members = async (set: string) => (await redisCliRaw(REDIS_PORT, 'SMEMBERS', `${prefix}${set}`)).split('\n').filter(Boolean)
    return { prefix, tier, members }
  }

  it(`a URL index holds at most ${URL_INDEX_CAP} keys; past that, values are stored but not indexed`, async () => {
    const { prefix, tier, members } = open()
    await pool(URL_INDEX_CAP + 20, 8, (i) => tier.set(`${URL}|v=${i}`, entry(), 60_000))
    const indexed = await members(`idx:url:${URL}`)
    expect(indexed).toHaveLength(URL_INDEX_CAP)
    expect(Number(await redisCliRaw(REDIS_PORT, 'EXISTS', `${prefix}${URL}|v=${URL_INDEX_CAP + 19}`))).toBe(1)
    // A value filled again that is already indexed stays indexed.
    await tier.set(indexed[0]!.slice(prefix.length), entry(), 60_000)
    expect(await members(`idx:url:${URL}`)).toContain(indexed[0])
  })

  it('a full index makes room by dropping a member whose value is gone', async () => {
    const { prefix, tier, members } = open()
    await pool(URL_INDEX_CAP, 8, (i) => tier.set(`${URL}|v=old-${i}`, entry(), 60_000))
    // Every indexed value is gone (expired, or evicted by Redis), but the index still names them.
    const old = await members(`idx:url:${URL}`)
    await redisCliRaw(REDIS_PORT, 'DEL', ...old)
    await tier.set(`${URL}|v=new`, entry(), 60_000)
    const now = await members(`idx:url:${URL}`)
    expect(now).toHaveLength(URL_INDEX_CAP)
    expect(now).toContain(`${prefix}${URL}|v=new`)
  })

  it(`a tag index is capped the same way, at ${TAG_INDEX_CAP}`, async () => {
    const { tier, members } = open()
    await pool(TAG_INDEX_CAP + 10, 16, (i) => tier.set(`https://example.com/t/${i}`, entry(['busy-tag']), 60_000))
    expect(await members('idx:tag:busy-tag')).toHaveLength(TAG_INDEX_CAP)
  })
})
