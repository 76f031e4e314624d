import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cacheKeyOf, cacheStatus, eventually, redisCommand, servedBy, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { IDENTITY, publicBody } from '../support/straight-to-origin.ts'

// Waiting on another fetch of the same key (design.md §5 stampedes). Across processes a Redis fill lease
// (SET NX PX) lets one fetcher go to the origin; a request that finds the lease held polls Redis for the
// other fill (src/stack/lookup.ts `awaitOtherFill`) until it lands, the coalesce deadline passes, or Redis
// fails. In one isolate a request waits on the in-flight fetch (src/coherence/flight.ts) until its deadline.
//
// The first fetch is held at the origin by the demo origin's `timeout` fault, so "the other fill has not
// landed" is a fact the test controls, not a race; every wait below ends on an observed signal (origin
// request counts, Upstash request counts), never on a sleep.

/** The leader's lease outlives every wait here, so only the waiter's own deadline (or Redis) ends a wait. */
const LEADER_LEASE_MS = 60_000
/** A waiter that only the other fill, or a Redis failure, stops waiting (its deadline is far off). */
const PATIENT_WAIT_MS = 20_000
/** A waiter that gives up quickly. */
const IMPATIENT_WAIT_MS = 1_000

describe('waiting on another fetch of the same key', () => {
  let stack: Stack
  /** Goes to the origin first and holds the lease. */
  let leader: WorkerProcess
  let patient: WorkerProcess
  let impatient: WorkerProcess

  beforeAll(async () => {
    // A long δ keeps purge-log reads out of the Upstash counts that show a waiter polling.
    stack = await startStack({ workers: 0, vars: { COHERENCE_DELTA_MS: '3600000' } })
    leader = await stack.startWorker({ LEASE_MS: String(LEADER_LEASE_MS) })
    patient = await stack.startWorker({ COALESCE_WAIT_MS: String(PATIENT_WAIT_MS) })
    impatient = await stack.startWorker({ COALESCE_WAIT_MS: String(IMPATIENT_WAIT_MS) })
    for (const w of stack.workers) await (await w.fetch('/public/warm-up', { headers: IDENTITY })).arrayBuffer()
  })
  afterAll(() => stack.close())
  afterEach(() => {
    stack.upstash.setFault({})
    stack.origin.setFault({ mode: 'ok', latencyMs: 0 })
  })

  const originRequests = (path: string) => stack.origin.stats().byPath[path] ?? 0
  const leaseHeld = async (path: string) => (await redisCommand(stack, 'EXISTS', `${stack.prefix}lease:${cacheKeyOf(path)}`)) === 1
  const read = async (pending: Promise<Response>) => {
    const res = await pending
    return { res, body: await res.text(), status: cacheStatus(res), cacheStatus: res.headers.get('cache-status') ?? '' }
  }

  /**
   * Starts the leader's fetch of `path` and returns once it holds the lease and is held at the origin. The
   * answer is wrapped: an async function returning the bare promise would wait for it.
   */
  async function leaderHeldAtOrigin(path: string): Promise<{ response: Promise<Response> }> {
    stack.origin.setFault({ mode: 'timeout' })
    const response = leader.fetch(path, { headers: IDENTITY })
    await eventually(() => originRequests(path) === 1)
    expect(await leaseHeld(path), 'the leader holds the fill lease').toBe(true)
    return { response }
  }

  /** Starts `waiter`'s fetch of `path` and returns once it is polling Redis for the other fill. */
  async function polling(waiter: WorkerProcess, path: string): Promise<{ response: Promise<Response> }> {
    stack.upstash.resetStats()
    const response = waiter.fetch(path, { headers: IDENTITY })
    // Its lookup (which found the lease held) and at least two polls.
    await eventually(() => stack.upstash.stats().requests >= 3, 10_000)
    expect(originRequests(path), 'the waiter has not gone to the origin').toBe(1)
    return { response }
  }

  it('the other fill lands: the waiter is served it from Redis, collapsed, and the origin is asked once', async () => {
    const path = '/public/lease-lands'
    const first = await leaderHeldAtOrigin(path)
    const waiting = await polling(patient, path)
    stack.origin.setFault({ mode: 'ok' })
    const filled = await read(first.response)
    const waiter = await read(waiting.response)

    expect(servedBy(filled.res)).toBe('origin')
    expect(waiter.res.status).toBe(200)
    expect.soft(servedBy(waiter.res), `served by (Cache-Status: ${waiter.cacheStatus})`).toBe('redis')
    expect.soft(waiter.status['tiercache-redis'], waiter.cacheStatus).toMatchObject({ hit: true, collapsed: true })
    expect.soft(waiter.body, 'the leader fill').toBe(filled.body)
    expect(originRequests(path), 'origin requests').toBe(1)
  })

  it('the other fill never lands and its lease is held: the waiter gives up at its deadline and asks the origin', async () => {
    const path = '/public/lease-never'
    const first = await leaderHeldAtOrigin(path)
    const waiting = impatient.fetch(path, { headers: IDENTITY })
    // The waiter reaches the origin while the leader is still held there and its lease still stands.
    await eventually(() => originRequests(path) === 2, 10_000)
    expect(await leaseHeld(path), 'the lease was never released').toBe(true)
    stack.origin.setFault({ mode: 'ok' })
    const waiter = await read(waiting)
    const filled = await read(first.response)

    expect(waiter.res.status).toBe(200)
    expect.soft(servedBy(waiter.res), `served by (Cache-Status: ${waiter.cacheStatus})`).toBe('origin')
    expect.soft(waiter.status['tiercache-redis']?.detail, waiter.cacheStatus).toBe('lease-wait-timeout')
    expect.soft(waiter.status['tiercache-redis']?.collapsed, waiter.cacheStatus).toBeUndefined()
    // Its own origin answer, not the leader's.
    expect.soft(waiter.body).toBe(publicBody('lease-never', waiter.res.headers.get('x-origin-serial')))
    expect.soft(waiter.res.headers.get('x-origin-serial')).not.toBe(filled.res.headers.get('x-origin-serial'))
  })

  it('Redis fails while the waiter polls: it stops waiting at once and asks the origin', async () => {
    const path = '/public/lease-redis-fails'
    const first = await leaderHeldAtOrigin(path)
    const waiting = await polling(patient, path)
    stack.upstash.setFault({ mode: 'error' })
    // Long before its 20 s deadline, the waiter is at the origin too.
    await eventually(() => originRequests(path) === 2, 10_000)
    stack.upstash.setFault({})
    stack.origin.setFault({ mode: 'ok' })
    const waiter = await read(waiting.response)
    await read(first.response)

    expect(waiter.res.status).toBe(200)
    expect.soft(servedBy(waiter.res), `served by (Cache-Status: ${waiter.cacheStatus})`).toBe('origin')
    // Not the deadline: the failure ended the wait, and Cache-Status says so.
    expect.soft(waiter.status['tiercache-redis']?.detail, waiter.cacheStatus).toBe('redis-error')
    expect.soft((await patient.stats()).counters['redis_errors'], 'redis_errors').toBeGreaterThanOrEqual(1)
    expect.soft(waiter.body).toBe(publicBody('lease-redis-fails', waiter.res.headers.get('x-origin-serial')))
  })

  it('in one isolate, a request waiting on the in-flight fetch gives up at its deadline and asks the origin itself', async () => {
    const path = '/public/collapse-timeout'
    stack.origin.setFault({ mode: 'timeout' })
    const first = impatient.fetch(path, { headers: IDENTITY })
    await eventually(() => originRequests(path) === 1)
    // Same process, same key: this request joins the in-flight fetch as a waiter.
    const waiting = impatient.fetch(path, { headers: IDENTITY })
    await eventually(() => originRequests(path) === 2, 10_000)
    stack.origin.setFault({ mode: 'ok' })
    const waiter = await read(waiting)
    const leading = await read(first)

    expect(waiter.res.status).toBe(200)
    expect.soft(servedBy(waiter.res), `served by (Cache-Status: ${waiter.cacheStatus})`).toBe('origin')
    expect.soft(waiter.status['tiercache-memory']?.detail, waiter.cacheStatus).toBe('collapse-timeout')
    expect.soft(waiter.res.headers.get('x-origin-serial')).not.toBe(leading.res.headers.get('x-origin-serial'))
    expect.soft(leading.status['tiercache-memory']?.detail, leading.cacheStatus).toBeUndefined()
  })
})
