import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { FaultPatch } from '../../scripts/demo-origin/faults.ts'
import { cacheStatus, eventually, redisCommand, redisHolds, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { IDENTITY } from '../support/straight-to-origin.ts'

// Unsafe methods pass through to the origin; only a non-error answer invalidates the target URI in every
// tier (RFC 9111 §4.4), through the purge path (src/stack/unsafe.ts). When the origin fails, the client gets
// a clear 502/504 with a JSON reason and nothing is invalidated; when Redis fails during the invalidation,
// the origin's answer still reaches the client, marked `detail=invalidation-failed`.

const ORIGIN_TIMEOUT_MS = 1000

interface OriginFailure {
  name: string
  fault: FaultPatch
  status: number
  /** What the client gets: tiercache's JSON gateway error, or the origin's own error answer. */
  gatewayError: boolean
}

const FAILURES: OriginFailure[] = [
  { name: 'unreachable (reset)', fault: { mode: 'reset' }, status: 502, gatewayError: true },
  { name: 'silent past the deadline', fault: { mode: 'headers-never' }, status: 504, gatewayError: true },
  // An error status is an answer, passed on as it is; §4.4 invalidates only on a non-error status.
  { name: 'answering 503', fault: { mode: 'error', status: 503 }, status: 503, gatewayError: false },
]

describe('unsafe methods when something fails', () => {
  let stack: Stack
  let writer: WorkerProcess
  let reader: WorkerProcess

  beforeAll(async () => {
    stack = await startStack({ workers: 2, vars: { ORIGIN_TIMEOUT_MS: String(ORIGIN_TIMEOUT_MS), COHERENCE_DELTA_MS: '3600000' } })
    ;[writer, reader] = stack.workers as [WorkerProcess, WorkerProcess]
    for (const w of stack.workers) await (await w.fetch('/public/warm-up', { headers: IDENTITY })).arrayBuffer()
  })
  afterAll(() => stack.close())
  afterEach(() => {
    stack.upstash.setFault({})
    stack.origin.setFault({ mode: 'ok', latencyMs: 0 })
  })

  const get = async (worker: WorkerProcess, path: string) => {
    const res = await worker.fetch(path, { headers: IDENTITY })
    return { res, body: await res.text(), cacheStatus: res.headers.get('cache-status') ?? '' }
  }
  const put = (path: string, body: string) =>
    writer.fetch(path, { method: 'PUT', headers: { ...IDENTITY, 'content-type': 'text/plain' }, body })
  /** The purge log's head: every invalidation (like every purge) advances it. */
  const purgeLogSeq = async () => Number((await redisCommand(stack, 'GET', `${stack.prefix}plog:seq`)) ?? 0)

  /** Caches `path` in the writer's memory and in Redis, and returns the cached body. */
  async function cached(path: string): Promise<string> {
    const fill = await get(writer, path)
    expect(servedBy(fill.res)).toBe('origin')
    const hit = await get(writer, path)
    expect(servedBy(hit.res), hit.cacheStatus).toBe('memory')
    await eventually(() => redisHolds(stack, path))
    return fill.body
  }

  it.each(FAILURES)('origin $name: the client gets $status and nothing is invalidated', async ({ fault, status, gatewayError }) => {
    const id = `unsafe-${status}`
    const path = `/items/${id}`
    stack.origin.data.put(id, 'before')
    const before = await cached(path)
    const seq = await purgeLogSeq()
    const puts = stack.origin.stats().byMethod['PUT'] ?? 0

    stack.origin.setFault(fault)
    const res = await put(path, 'after')
    const text = await res.text()
    stack.origin.setFault({ mode: 'ok' })

    expect(stack.origin.stats().byMethod['PUT'], 'the origin was asked').toBe(puts + 1)
    expect(res.status, text).toBe(status)
    if (gatewayError) {
      expect.soft(res.headers.get('content-type')).toMatch(/^application\/json/)
      expect.soft(JSON.parse(text), 'a JSON reason').toEqual({ error: expect.any(String), detail: expect.any(String) })
      expect.soft(res.headers.get('cache-control')).toBe('no-store')
      expect.soft(cacheStatus(res)['tiercache'], `Cache-Status: ${res.headers.get('cache-status')}`).toMatchObject({
        fwd: 'method',
        detail: status === 504 ? 'origin-timeout' : 'origin-network',
      })
    } else {
      expect.soft(text).toMatch(/^origin fault: error 503\n/)
      expect.soft(cacheStatus(res)['tiercache']?.detail, res.headers.get('cache-status') ?? '').toBeUndefined()
    }

    // Nothing was invalidated: no purge was recorded, every tier still holds the copy.
    expect.soft(await purgeLogSeq(), 'purge-log position').toBe(seq)
    const again = await get(writer, path)
    expect.soft(servedBy(again.res), `the writer's next read (Cache-Status: ${again.cacheStatus})`).toBe('memory')
    expect.soft(again.body).toBe(before)
    expect.soft(await redisHolds(stack, path), 'Redis holds the copy').toBe(true)
    const elsewhere = await get(reader, path)
    expect.soft(servedBy(elsewhere.res), `another process (Cache-Status: ${elsewhere.cacheStatus})`).toBe('redis')
    expect.soft(elsewhere.body).toBe(before)
  })

  it('Redis fails during the invalidation: the origin answer still passes through, marked invalidation-failed', async () => {
    const id = 'unsafe-redis-down'
    const path = `/items/${id}`
    stack.origin.data.put(id, 'before')
    await cached(path)
    const version = stack.origin.data.get(id)!.version

    stack.upstash.setFault({ mode: 'error' })
    const res = await put(path, 'after')
    const text = await res.text()
    stack.upstash.setFault({})

    expect(res.status, text).toBe(200)
    const written = JSON.parse(text) as { id: string; body: string; version: number }
    expect.soft(written).toMatchObject({ id, body: 'after', version: version + 1 })
    expect.soft(res.headers.get('content-location')).toBe(path)
    expect.soft(cacheStatus(res)['tiercache'], res.headers.get('cache-status') ?? '').toMatchObject({ fwd: 'method', detail: 'invalidation-failed' })
    expect.soft(stack.origin.data.get(id)?.body, 'the write reached the origin').toBe('after')
    // Nothing was recorded for other isolates, but this one forgot its copy: the writer's next read here is
    // not the old body from memory or the edge.
    const next = await get(writer, path)
    expect(servedBy(next.res), next.cacheStatus).not.toBe('memory')
    expect(servedBy(next.res), next.cacheStatus).not.toBe('edge')
  })
})
