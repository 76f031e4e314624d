import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, sendPurge, servedBy, startStack, TEST_TOKEN, type Stack, type WorkerProcess } from '../support/stack.ts'
import { pool } from '../support/pool.ts'
import { keysAndTtls, purgeLogState } from '../support/redis-inspect.ts'
import { measureLogRead, sharedCopyBytes } from '../support/log-read-bytes.ts'
import { MAX_SHARED_BYTES } from '../../src/coherence/colo-view.ts'
import { LOG_RETENTION_BYTES, LOG_RETENTION_COUNT, LOG_RETENTION_MS, PAGE_RECORDS, PURGE_ID_TTL_SECONDS } from '../../src/coherence/purge-log.ts'

// Purge storms keep the δ bound and bounded state. 3,000 purges go through one worker process while
// another sleeps through all of them (it must resynchronise: the log keeps only 1,000) and a third
// sleeps through the last 700 (it must read two pages in one refresh). Neither may serve a body purged
// before the storm's end once it is asked again. The log, the purge ids and the key indexes are read
// straight from the shared redis-server (read-only, this suite's prefix only).
const DELTA_MS = 1000
const STORM = 3000
const CONCURRENCY = 8
const REDIS_PORT = 6379

const version = (body: string): number => Number(/"version":\s*(\d+)/.exec(body)?.[1] ?? NaN)

describe('a purge storm keeps the δ bound and bounded state', () => {
  let stack: Stack
  let purger: WorkerProcess
  let sleeper: WorkerProcess
  let napper: WorkerProcess
  beforeAll(async () => {
    stack = await startStack({ workers: 3, vars: { COHERENCE_DELTA_MS: String(DELTA_MS) } })
    ;[purger, sleeper, napper] = stack.workers as [WorkerProcess, WorkerProcess, WorkerProcess]
  })
  afterAll(() => stack?.close())

  it(`after ${STORM} purges no sleeping isolate serves a body purged before the storm's end`, async () => {
    // Items purged early, in the middle, and late (after the napper's last look, and in the last page it
    // must read); their origin data changes just before each purge.
    const early = ['early-0', 'early-1', 'early-2', 'early-3']
    const middle = ['middle-0', 'middle-1', 'middle-2', 'middle-3']
    const late = Array.from({ length: 10 }, (_, k) => `late-${k}`)
    const itemAt = new Map<number, string>()
    early.forEach((id, k) => itemAt.set(5 + k, id))
    middle.forEach((id, k) => itemAt.set(1000 + k, id))
    ;[2310, 2400, 2500, 2600, 2700, 2800, 2850, 2900, 2950, STORM - 1].forEach((at, k) => itemAt.set(at, late[k]!))
    const items = [...early, ...middle, ...late]

    const warmed = new Map<string, number>()
    for (const id of items) stack.origin.data.put(id, 'before the storm')
    for (const w of [sleeper, napper]) {
      for (const id of items) {
        await (await w.fetch(`/items/${id}`)).arrayBuffer()
        const again = await w.fetch(`/items/${id}`)
        expect(servedBy(again)).toBe('memory')
        warmed.set(id, version(await again.text()))
        expect(warmed.get(id)).toBeGreaterThan(0)
      }
    }
    await eventually(async () => (await sleeper.edgeHolds(`/items/${late[0]}`)) && (await napper.edgeHolds(`/items/${late[0]}`)))

    const purge = async (i: number): Promise<number> => {
      const id = itemAt.get(i)
      let body: Record<string, unknown>
      if (id) {
        stack.origin.data.put(id, `changed at purge ${i}`)
        body = i % 2 === 0 ? { urls: [`/items/${id}`] } : { tags: [`item-${id}`] }
      } else {
        body = { urls: [`/storm/noise-${i}`], tags: [`storm-noise-${i % 50}`] }
      }
      const res = await sendPurge(purger, { ...body, id: `storm-${i}` })
      expect(res.status).toBe(200)
      await res.arrayBuffer()
      return Date.now()
    }

    const started = Date.now()
    await pool(1500, CONCURRENCY, (i) => purge(i))
    const afterHalf = await purgeLogState(REDIS_PORT, stack.prefix)
    console.log(`after 1,500 purges (${Date.now() - started} ms): ${JSON.stringify(afterHalf)}`)
    expect(afterHalf.records).toBe(LOG_RETENTION_COUNT)
    // What one coherence read costs after the storm: for an isolate that is caught up (the steady state,
    // once per δ), one δ behind the storm, and one reading its first page (a new isolate, or a resync).
    const newest = afterHalf.newestSeq
    const full = await measureLogRead(stack.upstash.url, TEST_TOKEN, stack.prefix, -1)
    const newestT = Math.max(...full.read.records.map((r) => r.t))
    const behindByDelta = full.read.records.filter((r) => r.t > newestT - DELTA_MS).length
    const reads = [await measureLogRead(stack.upstash.url, TEST_TOKEN, stack.prefix, newest), await measureLogRead(stack.upstash.url, TEST_TOKEN, stack.prefix, newest - behindByDelta), full]
    const copyBytes = sharedCopyBytes(full.read, `${stack.upstash.url}\n${stack.prefix}`, DELTA_MS)
    console.log(
      `after 1,500 purges: purge log ${afterHalf.records} records, ${afterHalf.bytes} B of record JSON (Redis MEMORY USAGE ${afterHalf.memoryUsage} B); ` +
        `coherence read: ${reads.map((r) => `${r.records} records → ${r.responseBytes} B on the wire`).join('; ')} ` +
        `(caught up; ${behindByDelta} purges = one δ behind; first page); the data centre's shared copy of the view (δ = ${DELTA_MS} ms): ${copyBytes} B`
    )
    expect(reads[0]!.records).toBe(0)
    expect(reads[0]!.responseBytes).toBeLessThan(100)
    expect(reads[1]!.records).toBe(behindByDelta)
    expect(full.records).toBe(PAGE_RECORDS)
    expect(full.responseBytes).toBeGreaterThan(full.recordBytes)
    expect(copyBytes).toBeLessThanOrEqual(MAX_SHARED_BYTES)

    await pool(800, CONCURRENCY, (i) => purge(1500 + i))
    // The napper looks once at purge 2,300 (it resynchronises: 2,300 behind) and keeps the late items
    // in memory from then on; then sleeps through the last 700 purges.
    for (const id of late) await (await napper.fetch(`/items/${id}`)).arrayBuffer()
    for (const id of late) expect(servedBy(await napper.fetch(`/items/${id}`))).toBe('memory')
    const napperBefore = (await napper.stats()).counters
    const receipts = await pool(STORM - 2300, CONCURRENCY, (i) => purge(2300 + i))
    const stormEnd = Math.max(...receipts)
    console.log(`${STORM} purges in ${stormEnd - started} ms`)

    // Each sleeper, asked again: its view is older than δ, so its first request refreshes it. Nothing
    // purged before the storm's end is served, not even once, and certainly not δ + 1 s later.
    const counters: Array<Record<string, number>> = []
    for (const w of [sleeper, napper]) {
      const served: string[] = []
      for (const id of [...late].reverse().concat(middle, early)) {
        const res = await w.fetch(`/items/${id}`)
        const body = await res.text()
        if (version(body) <= warmed.get(id)!) served.push(`${id} v${version(body)} from ${servedBy(res)} at +${Date.now() - stormEnd} ms`)
        // What the refresh before the first answer did.
        if (counters.length < (w === sleeper ? 1 : 2)) counters.push((await w.stats()).counters)
      }
      console.log(`${w === sleeper ? 'sleeper' : 'napper'}: all ${items.length} items answered with the new version by +${Date.now() - stormEnd} ms after the last receipt`)
      expect(served).toEqual([])
    }
    const [sleeperCounters, napperCounters] = counters as [Record<string, number>, Record<string, number>]
    console.log(`sleeper: ${JSON.stringify(sleeperCounters)}\nnapper: ${JSON.stringify(napperCounters)}`)
    // The sleeper resynchronised (memory dropped, older shared entries revalidated); the napper, 700
    // behind, followed the log: two pages in one refresh, no resynchronisation.
    expect(sleeperCounters.log_resyncs).toBe(1)
    expect((napperCounters.log_resyncs ?? 0) - (napperBefore.log_resyncs ?? 0)).toBe(0)
    expect((napperCounters.log_reads ?? 0) - (napperBefore.log_reads ?? 0)).toBe(Math.ceil((STORM - 2300) / PAGE_RECORDS))

    // Bounded state in Redis: the log by count, bytes and age; purge ids expire; the shared tag index.
    const log = await purgeLogState(REDIS_PORT, stack.prefix)
    console.log(`after ${STORM} purges: ${JSON.stringify(log)}`)
    expect(log.records).toBe(LOG_RETENTION_COUNT)
    expect(log.newestSeq - log.oldestSeq + 1).toBe(LOG_RETENTION_COUNT)
    expect(log.bytes).toBeLessThanOrEqual(LOG_RETENTION_BYTES)
    expect(log.counted).toBe(log.bytes)
    expect(log.pttl).toBeGreaterThan(0)
    expect(log.pttl).toBeLessThanOrEqual(LOG_RETENTION_MS)
    const ids = await keysAndTtls(REDIS_PORT, `${stack.prefix}plog:id:*`)
    console.log(`purge ids: ${JSON.stringify(ids)}`)
    expect(ids.count).toBe(STORM)
    expect(ids.minTtl).toBeGreaterThan(0)
    expect(ids.maxTtl).toBeLessThanOrEqual(PURGE_ID_TTL_SECONDS)
  }, 300_000)
})
