import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startUpstashLocal, type UpstashLocal } from '../../scripts/upstash-local/server.ts'
import { createRedisClient } from '../../src/tiers/redis-client.ts'
import { RedisHealth } from '../../src/tiers/redis-health.ts'
import { PURGE_ID_TTL_SECONDS, PurgeLog, ReadMode, logKeys, type PurgeLogLimits, type PurgeScope } from '../../src/coherence/purge-log.ts'
import { purgeLogState } from '../support/redis-inspect.ts'
import { redisCliRaw } from '../support/redis-trouble.ts'

// The purge log's scripts against the real redis-server (this suite's own key prefix), through
// upstash-local and the official client, with small limits so each bound is reached quickly.
const REDIS_PORT = 6379
const TOKEN = 'purge-log-test'

const scope = (urls: string[], extra: Partial<PurgeScope> = {}): PurgeScope => ({ urls, tags: [], prefixes: [], all: false, soft: false, ...extra })

describe('purge log (Redis scripts)', () => {
  let upstash: UpstashLocal
  beforeAll(async () => {
    upstash = await startUpstashLocal({ port: 0, token: TOKEN })
  })
  afterAll(() => upstash?.close())

  const open = (limits: Partial<PurgeLogLimits> = {}) => {
    const prefix = `t:${randomUUID().slice(0, 8)}:`
    const client = createRedisClient({ url: upstash.url, token: TOKEN, timeoutMs: 5000 })
    const health = new RedisHealth({ breakerFailures: 3, breakerCooldownMs: 5000, now: Date.now })
    return { prefix, log: new PurgeLog(client, prefix, health, limits) }
  }
  const commitMany = async (log: PurgeLog, n: number, from = 0) => {
    const seqs: number[] = []
    for (let i = from; i < from + n; i++) {
      const result = await log.commit(scope([`https://example.com/${i}`]), `id-${i}`)
      if (!result.duplicate) seqs.push(result.seq)
    }
    return seqs
  }

  it('numbers a new log from the Redis time, so positions from a log that lost its data are never reused', async () => {
    const { prefix, log } = open()
    const [first, second] = await commitMany(log, 2)
    expect(first).toBeGreaterThan(Date.now() - 60_000)
    expect(second).toBe(first! + 1)
    expect(Number(await redisCliRaw(REDIS_PORT, 'GET', `${prefix}plog:start`))).toBe(first! - 1)
    // The log loses its data (all but nothing: here, its keys are deleted): numbering restarts above.
    await redisCliRaw(REDIS_PORT, 'DEL', `${prefix}plog:seq`, `${prefix}plog`, `${prefix}plog:start`, `${prefix}plog:bytes`)
    const [afterLoss] = await commitMany(log, 1, 10)
    expect(afterLoss).toBeGreaterThan(second!)
  })

  it('keeps at most the retention count, oldest trimmed first, and counts the bytes it keeps', async () => {
    const { prefix, log } = open({ retentionCount: 5 })
    const seqs = await commitMany(log, 8)
    const state = await purgeLogState(REDIS_PORT, prefix)
    expect(state.records).toBe(5)
    expect([state.oldestSeq, state.newestSeq]).toEqual([seqs[3], seqs[7]])
    expect(state.counted).toBe(state.bytes)
  })

  it('keeps at most the retention bytes, but always the newest record', async () => {
    const { prefix, log } = open({ retentionBytes: 600 })
    await commitMany(log, 10)
    let state = await purgeLogState(REDIS_PORT, prefix)
    expect(state.bytes).toBeLessThanOrEqual(600)
    expect(state.bytes).toBeGreaterThan(600 - 150)
    expect(state.counted).toBe(state.bytes)
    const huge = await log.commit(scope(Array.from({ length: 40 }, (_, i) => `https://example.com/huge/${i}`)), 'huge')
    state = await purgeLogState(REDIS_PORT, prefix)
    expect(state.records).toBe(1)
    expect(state.newestSeq).toBe(!huge.duplicate && huge.seq)
    expect(state.counted).toBe(state.bytes)
  })

  it('drops records older than the retention age, and the log expires with it', async () => {
    const { prefix, log } = open({ retentionMs: 60_000 })
    const [first] = await commitMany(log, 1)
    // A record from two minutes ago (as if committed then), just after the first.
    const old = `{"seq":${first! + 1},"t":${Date.now() - 120_000},"urls":["https://example.com/old"],"tags":[],"prefixes":[],"all":false,"soft":false}`
    await redisCliRaw(REDIS_PORT, 'ZADD', `${prefix}plog`, String(first! + 1), old)
    await redisCliRaw(REDIS_PORT, 'SET', `${prefix}plog:seq`, String(first! + 1))
    await redisCliRaw(REDIS_PORT, 'INCRBY', `${prefix}plog:bytes`, String(Buffer.byteLength(old)))
    // The first record is young, so trimming stops there: the old one behind it stays until it is oldest.
    const [third] = await commitMany(log, 1, 1)
    let state = await purgeLogState(REDIS_PORT, prefix)
    expect(state.records).toBe(3)
    await redisCliRaw(REDIS_PORT, 'ZREMRANGEBYSCORE', `${prefix}plog`, String(first), String(first))
    await redisCliRaw(REDIS_PORT, 'DEL', `${prefix}plog:bytes`)
    await commitMany(log, 1, 2)
    state = await purgeLogState(REDIS_PORT, prefix)
    expect(state.oldestSeq).toBe(third)
    expect(state.records).toBe(2)
    expect(state.counted).toBe(state.bytes)
    expect(state.pttl).toBeGreaterThan(0)
    expect(state.pttl).toBeLessThanOrEqual(60_000)
  })

  it('remembers purge ids for the replay window only, and answers a repeated id with the first receipt', async () => {
    const { prefix, log } = open()
    const first = await log.commit(scope(['https://example.com/x']), 'same')
    await log.saveReceipt('same', { id: 'same', seq: !first.duplicate && first.seq })
    const again = await log.commit(scope(['https://example.com/x']), 'same')
    expect(again).toMatchObject({ duplicate: true })
    const ttl = Number(await redisCliRaw(REDIS_PORT, 'TTL', logKeys(prefix).id('same')))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(PURGE_ID_TTL_SECONDS)
  })

  it('reads a page at a time after a known position, complete once it reaches the head', async () => {
    const { log } = open({ pageRecords: 5 })
    const seqs = await commitMany(log, 12)
    const known = seqs[0]! - 1
    const page1 = await log.read(known)
    expect(page1).toMatchObject({ mode: ReadMode.Follow, from: known, current: seqs[11], complete: false, last: seqs[4] })
    expect(page1.records.map((r) => r.seq)).toEqual(seqs.slice(0, 5))
    const page2 = await log.read(page1.last)
    const page3 = await log.read(page2.last)
    expect(page3.records.map((r) => r.seq)).toEqual(seqs.slice(10))
    expect(page3.complete).toBe(true)
    expect((await log.read(seqs[11]!)).records).toEqual([])
  })

  it('a page holds at most its bytes, and never less than one record', async () => {
    const { log } = open({ pageBytes: 10 })
    const seqs = await commitMany(log, 3)
    const page = await log.read(seqs[0]! - 1)
    expect(page.records.map((r) => r.seq)).toEqual([seqs[0]])
    expect(page.complete).toBe(false)
  })

  it('sends the newest page to a first reader, and to one it cannot be followed from', async () => {
    const { prefix, log } = open({ retentionCount: 6, pageRecords: 4, catchUpLimit: 5 })
    const seqs = await commitMany(log, 10)
    // A first reader gets the newest page; `from` is the position before it.
    const first = await log.read(-1)
    expect(first).toMatchObject({ mode: ReadMode.Tail, from: seqs[5], complete: true })
    expect(first.records.map((r) => r.seq)).toEqual(seqs.slice(6))
    // Behind trimmed records (the log keeps the last 6), or further behind than the catch-up limit.
    expect((await log.read(seqs[0]!)).mode).toBe(ReadMode.Tail)
    expect((await log.read(seqs[3]!)).mode).toBe(ReadMode.Tail)
    expect((await log.read(seqs[4]!)).mode).toBe(ReadMode.Follow)
    // Ahead of the head: the log lost its data.
    expect((await log.read(seqs[9]! + 100)).mode).toBe(ReadMode.Tail)
    expect((await purgeLogState(REDIS_PORT, prefix)).records).toBe(6)
  })

  it('a reader that saw no log yet follows it from its start, and a first read of a whole log starts at 0', async () => {
    const { log } = open({ catchUpLimit: 5 })
    expect(await log.read(-1)).toMatchObject({ mode: ReadMode.Tail, current: 0, from: 0, records: [] })
    const seqs = await commitMany(log, 3)
    // Position 0 is millions of positions behind the first seq, yet nothing was missed.
    const read = await log.read(0)
    expect(read).toMatchObject({ mode: ReadMode.Follow, complete: true })
    expect(read.records.map((r) => r.seq)).toEqual(seqs)
    expect(await log.read(-1)).toMatchObject({ mode: ReadMode.Tail, from: 0 })
  })
})
