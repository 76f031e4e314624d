import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startUpstashLocal, type UpstashLocal } from '../../scripts/upstash-local/server.ts'
import type { CacheEntry } from '../../src/entry.ts'
import { createRedisClient } from '../../src/tiers/redis-client.ts'
import { RedisHealth } from '../../src/tiers/redis-health.ts'
import { Coherence, MAX_PAGES, WINDOW_RECORDS, type CoherenceEvent } from '../../src/coherence/coherence.ts'
import { PurgeLog, type PurgeLogLimits } from '../../src/coherence/purge-log.ts'
import type { PurgeRecord } from '../../src/coherence/purge-record.ts'
import { testEntry } from '../support/entries.ts'

// One isolate's view of the purge log, against the real log scripts and redis-server (this suite's own
// key prefix) through upstash-local, whose fault switch plays a hanging Redis.
const TOKEN = 'coherence-test'
const DELTA_MS = 1000
const TIMEOUT_MS = 300

const entry = (purgeSeq: number): CacheEntry => testEntry({ purgeSeq })

describe('Coherence: one isolate reading the purge log', () => {
  let upstash: UpstashLocal
  beforeAll(async () => {
    upstash = await startUpstashLocal({ port: 0, token: TOKEN })
  })
  afterAll(() => upstash?.close())
  afterEach(() => upstash.setFault({ mode: 'ok', latencyMs: 0 }))

  /** A log under a fresh prefix, a writer for it, and an isolate's view of it with a settable clock. */
  const setup = (limits: Partial<PurgeLogLimits> = {}) => {
    const prefix = `t:${randomUUID().slice(0, 8)}:`
    const client = createRedisClient({ url: upstash.url, token: TOKEN, timeoutMs: TIMEOUT_MS })
    let clock = Date.now()
    const now = () => clock
    const health = new RedisHealth({ breakerFailures: 3, breakerCooldownMs: 5000, now })
    const log = new PurgeLog(client, prefix, health, limits)
    const writer = new PurgeLog(createRedisClient({ url: upstash.url, token: TOKEN, timeoutMs: 5000 }), prefix, new RedisHealth({ breakerFailures: 3, breakerCooldownMs: 5000, now: Date.now }), limits)
    const events: CoherenceEvent[] = []
    const evicted: PurgeRecord[] = []
    let flushes = 0
    const coherence = new Coherence(
      log,
      { evict: (records) => evicted.push(...records), flush: () => flushes++, count: (e) => events.push(e) },
      { now, waitMs: TIMEOUT_MS }
    )
    let n = 0
    const purge = async (count: number) => {
      const seqs: number[] = []
      for (let i = 0; i < count; i++, n++) {
        const result = await writer.commit({ urls: [`https://example.com/${n}`], tags: [], prefixes: [], all: false, soft: false }, `${prefix}${n}`)
        if (!result.duplicate) seqs.push(result.seq)
      }
      return seqs
    }
    return {
      coherence,
      log,
      purge,
      events,
      evicted,
      flushes: () => flushes,
      /** Moves the isolate's clock on by δ, so its view is due for a refresh. */
      age: (ms = DELTA_MS) => void (clock += ms),
      count: (e: CoherenceEvent) => events.filter((x) => x === e).length,
    }
  }

  it('normally one read per δ: a fresh view is not read again', async () => {
    const s = setup()
    await s.coherence.ensureFresh(DELTA_MS)
    await s.coherence.ensureFresh(DELTA_MS)
    expect(s.count('log_reads')).toBe(1)
    expect(s.coherence.isStale(DELTA_MS)).toBe(false)
    await s.purge(3)
    s.age()
    expect(s.coherence.isStale(DELTA_MS)).toBe(true)
    await s.coherence.ensureFresh(DELTA_MS)
    expect(s.count('log_reads')).toBe(2)
    expect(s.evicted).toHaveLength(3)
  })

  it('an isolate that slept through more than a page reads every page in one refresh before its view is fresh', async () => {
    const s = setup({ pageRecords: 5, catchUpLimit: 100 })
    await s.coherence.ensureFresh(DELTA_MS)
    const seqs = await s.purge(12)
    s.age()
    await s.coherence.ensureFresh(DELTA_MS)
    expect(s.count('log_reads')).toBe(1 + 3)
    expect(s.coherence.isStale(DELTA_MS)).toBe(false)
    expect(s.coherence.knownSeq).toBe(seqs.at(-1))
    expect(s.evicted.map((r) => r.seq)).toEqual(seqs)
    expect(s.flushes()).toBe(0)
    // Every entry filled before the storm is judged against all of it.
    expect(s.coherence.judge(entry(seqs[0]! - 1), 'https://example.com/11')).toBe('purged')
    expect(s.coherence.judge(entry(seqs[0]! - 1), 'https://example.com/99')).toBe('valid')
  })

  it(`past ${MAX_PAGES} pages it resynchronises: memory dropped, older shared entries revalidated, fresh`, async () => {
    const s = setup({ pageRecords: 2, catchUpLimit: 100 })
    await s.coherence.ensureFresh(DELTA_MS)
    const before = s.coherence.fillSeq
    const seqs = await s.purge(2 * MAX_PAGES + 3)
    s.age()
    await s.coherence.ensureFresh(DELTA_MS)
    expect(s.count('log_reads')).toBe(1 + MAX_PAGES + 1)
    expect(s.flushes()).toBe(1)
    expect(s.count('log_resyncs')).toBe(1)
    expect(s.coherence.isStale(DELTA_MS)).toBe(false)
    expect(s.coherence.knownSeq).toBe(seqs.at(-1))
    // An entry filled before the storm cannot be judged any more: revalidate it.
    expect(s.coherence.judge(entry(before), 'https://example.com/nothing-purged-it')).toBe('unknown')
    expect(s.coherence.judge(entry(seqs.at(-1)!), 'https://example.com/0')).toBe('valid')
  })

  it('an isolate further behind than the catch-up limit, or behind trimmed records, resynchronises at once', async () => {
    const s = setup({ retentionCount: 4, catchUpLimit: 100 })
    await s.coherence.ensureFresh(DELTA_MS)
    await s.purge(1)
    s.age()
    await s.coherence.ensureFresh(DELTA_MS)
    await s.purge(8)
    s.age()
    await s.coherence.ensureFresh(DELTA_MS)
    expect(s.count('log_resyncs')).toBe(1)
    expect(s.flushes()).toBe(1)
    expect(s.count('log_reads')).toBe(3)
  })

  it('keeps its window within bounds: entries older than what it still holds are revalidated', async () => {
    const s = setup()
    await s.coherence.ensureFresh(DELTA_MS)
    const base = s.coherence.knownSeq + 1
    const records = Array.from({ length: WINDOW_RECORDS + 10 }, (_, i): PurgeRecord => ({
      seq: base + i,
      t: 0,
      urls: [`https://example.com/w${i}`],
      tags: [],
      prefixes: [],
      all: false,
      soft: false,
    }))
    s.coherence.apply(records)
    expect(s.coherence.window()).toMatchObject({ records: WINDOW_RECORDS, windowStart: base + 10 })
    expect(s.coherence.judge(entry(base + 9), 'https://example.com/x')).toBe('valid')
    expect(s.coherence.judge(entry(base + 8), 'https://example.com/x')).toBe('unknown')
  })

  describe('when Redis hangs', () => {
    it('the first failures wait for the deadline; once the breaker is open nobody reads or waits', async () => {
      const s = setup()
      await s.coherence.ensureFresh(DELTA_MS)
      upstash.setFault({ mode: 'hang' })
      for (let i = 0; i < 6; i++) {
        s.age()
        await s.coherence.ensureFresh(DELTA_MS)
      }
      expect(s.count('log_read_failures')).toBe(3)
      expect(s.count('log_reads_skipped')).toBe(3)
      expect(s.coherence.failing).toBe(true)
      expect(s.coherence.isStale(DELTA_MS)).toBe(true)
      // Redis is back; after the cool-down the next refresh is the breaker's trial, and succeeds.
      upstash.setFault({ mode: 'ok' })
      s.age(5000)
      await s.coherence.ensureFresh(DELTA_MS)
      expect(s.coherence.failing).toBe(false)
      expect(s.coherence.isStale(DELTA_MS)).toBe(false)
    })

    it('after a failure, only the request that retries waits for the retry', async () => {
      const s = setup()
      await s.coherence.ensureFresh(DELTA_MS)
      upstash.setFault({ mode: 'hang' })
      s.age()
      await s.coherence.ensureFresh(DELTA_MS)
      expect(s.coherence.failing).toBe(true)
      let retried = false
      const retry = s.coherence.ensureFresh(DELTA_MS).then(() => (retried = true))
      await s.coherence.ensureFresh(DELTA_MS)
      expect(retried).toBe(false)
      await retry
      expect(s.count('log_read_failures')).toBe(2)
    })

    it('with waitUntil, not even the request that retries waits', async () => {
      const s = setup()
      await s.coherence.ensureFresh(DELTA_MS)
      upstash.setFault({ mode: 'hang' })
      s.age()
      await s.coherence.ensureFresh(DELTA_MS)
      const background: Array<Promise<unknown>> = []
      await s.coherence.ensureFresh(DELTA_MS, { waitUntil: (p) => background.push(p) })
      expect(background).toHaveLength(1)
      expect(s.count('log_read_failures')).toBe(1)
      await background[0]
      expect(s.count('log_read_failures')).toBe(2)
    })

    it('concurrent requests share one refresh while Redis is healthy', async () => {
      const s = setup()
      await s.coherence.ensureFresh(DELTA_MS)
      upstash.setFault({ mode: 'ok', latencyMs: 50 })
      s.age()
      await Promise.all(Array.from({ length: 10 }, () => s.coherence.ensureFresh(DELTA_MS)))
      expect(s.count('log_reads')).toBe(2)
      expect(s.coherence.isStale(DELTA_MS)).toBe(false)
    })
  })

  it('a refresh whose request ended before it settled does not block the ones after it', async () => {
    const s = setup()
    await s.coherence.ensureFresh(DELTA_MS)
    // A read that never settles, as when workerd drops a finished request's pending I/O.
    const real = s.log.read.bind(s.log)
    let lost = true
    s.log.read = (known) => (lost ? new Promise(() => {}) : real(known))
    s.age()
    void s.coherence.ensureFresh(DELTA_MS)
    lost = false
    // While it could still be running, others wait for it (bounded); once it cannot be, a new one starts.
    s.age((MAX_PAGES + 2) * TIMEOUT_MS)
    await s.coherence.ensureFresh(DELTA_MS)
    expect(s.coherence.isStale(DELTA_MS)).toBe(false)
  })
})
