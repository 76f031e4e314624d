import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheKeyOf, eventually, sendPurge, servedBy, startStack, type Stack, type WorkerProcess } from '../../support/stack.ts'
import { redisCliRaw } from '../../support/redis-trouble.ts'
import { COMMANDS } from '../../../scripts/model/commands.ts'

// The cost model's per-outcome Upstash commands (scripts/model/commands.ts) are the code's own: each
// outcome is produced here in workerd against the local Upstash server, which counts the commands.
// A change to what a hit, a miss, a log read or a purge sends fails this test until the model follows.
const DEADLINE_MS = 15_000

/** Whether Redis holds `path`'s entry, asked of redis-server directly (not through Upstash, which would count it). */
const redisHolds = async (stack: Stack, path: string) => (await redisCliRaw(6379, 'EXISTS', `${stack.prefix}${cacheKeyOf(path)}`)).trim() === '1'

describe('the cost model counts the Upstash commands the worker really sends', () => {
  let stack: Stack
  let worker: WorkerProcess
  beforeAll(async () => {
    // δ of an hour: the view read at the first request stays fresh, so no log read mixes into the counts.
    stack = await startStack({ workers: 1, vars: { COHERENCE_DELTA_MS: '3600000' } })
    worker = stack.workers[0]!
    await (await worker.fetch('/public/model-warm-up')).arrayBuffer()
    await eventually(() => redisHolds(stack, '/public/model-warm-up'), DEADLINE_MS)
  })
  afterAll(() => stack?.close())

  /** Commands the Upstash server counted while `act` ran and its background work settled. */
  const commandsFor = async (act: () => Promise<void>, settled: () => Promise<boolean> = async () => true): Promise<number> => {
    stack.upstash.resetStats()
    await act()
    await eventually(settled, DEADLINE_MS)
    // Nothing more arrives after the outcome's own work: the count is stable.
    const count = stack.upstash.stats().commands
    await new Promise((r) => setTimeout(r, 300))
    expect(stack.upstash.stats().commands).toBe(count)
    return count
  }
  const get = async (path: string, tier: string) => {
    const res = await worker.fetch(path)
    await res.arrayBuffer()
    expect(servedBy(res)).toBe(tier)
  }

  it('miss, memory hit, edge hit, Redis hit', async () => {
    const path = '/public/model-outcomes'
    const measured = {
      miss: await commandsFor(() => get(path, 'origin'), () => redisHolds(stack, path)),
      memoryHit: await commandsFor(() => get(path, 'memory')),
      edgeHit: await commandsFor(async () => {
        await eventually(() => worker.edgeHolds(path), DEADLINE_MS)
        await worker.clearMemory()
        await get(path, 'edge')
      }),
      redisHit: await commandsFor(async () => {
        await worker.clearMemory()
        await worker.clearEdge(path)
        await get(path, 'redis')
      }),
    }
    expect(measured).toEqual({ miss: COMMANDS.miss, memoryHit: COMMANDS.memoryHit, edgeHit: COMMANDS.edgeHit, redisHit: COMMANDS.redisHit })
  })

  it('a purge, and a purge-log read', async () => {
    const purge = await commandsFor(async () => {
      const res = await sendPurge(worker, { urls: ['/public/model-purged'], id: 'model-purge-1' })
      expect(res.status).toBe(200)
      await res.arrayBuffer()
    })
    expect(purge).toBe(COMMANDS.purge)
    // A second worker with a short δ: over memory hits, every command it sends is a log read.
    const reader = await stack.startWorker({ COHERENCE_DELTA_MS: '300' })
    const path = '/public/model-log-read'
    await (await reader.fetch(path)).arrayBuffer()
    await eventually(() => redisHolds(stack, path), DEADLINE_MS)
    const readsBefore = (await reader.stats()).counters.log_reads ?? 0
    stack.upstash.resetStats()
    const started = Date.now()
    while (Date.now() - started < 1500) {
      const res = await reader.fetch(path)
      await res.arrayBuffer()
      expect(servedBy(res)).toBe('memory')
      await new Promise((r) => setTimeout(r, 20))
    }
    const reads = ((await reader.stats()).counters.log_reads ?? 0) - readsBefore
    expect(reads).toBeGreaterThanOrEqual(2)
    expect(stack.upstash.stats().commands).toBe(reads * COMMANDS.coherenceRead)
  })
})
