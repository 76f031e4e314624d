import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { seededBytes } from '../../scripts/demo-origin/routes/payloads.ts'
import { eventually, startStack, type Stack, type WorkerProcess } from '../support/stack.ts'
import { expectStraightToOrigin, IDENTITY, publicBody } from '../support/straight-to-origin.ts'

// design.md §5 stampedes: a fill holds an in-isolate flight and a Redis lease (SET NX PX, 5 s) so one
// fetcher goes to the origin. Whatever way the fill ends — error, timeout, uncacheable, too large, a client
// that left, a request that never fetched — both must be released, so the next request for the key (in this
// isolate or another process) goes straight to the origin instead of waiting out the lease.

const ORIGIN_TIMEOUT_MS = 1000
/** A body too big for Redis (4 MiB encoded; random bytes do not compress) but fine for the edge. */
const TOO_BIG_FOR_REDIS = 5 * 1024 * 1024

interface FailedFill {
  name: string
  /** A fresh path for run `n`. */
  path(n: string): string
  /** Makes `worker`'s fill of `path` end that way, and checks the client's answer. */
  fail(stack: Stack, worker: WorkerProcess, path: string): Promise<void>
  /** Checks the body of the request after (which went to the origin). */
  expectBody(path: string, res: Response, body: Uint8Array): void
  /** Where the next request comes from; `same` is left out where this process rightly kept a copy. */
  next: Array<'same' | 'other'>
}

const BOTH: Array<'same' | 'other'> = ['same', 'other']

const text = (body: Uint8Array) => new TextDecoder().decode(body)
const expectPublicBody = (path: string, res: Response, body: Uint8Array) =>
  expect.soft(text(body), 'the whole body').toBe(publicBody(path.split('/').pop()!, res.headers.get('x-origin-serial')))

const FAILED_FILLS: FailedFill[] = [
  {
    name: 'an origin timeout (504)',
    path: (n) => `/public/fr-timeout-${n}`,
    async fail(stack, worker, path) {
      stack.origin.setFault({ mode: 'headers-never' })
      const res = await worker.fetch(path, { headers: IDENTITY })
      expect(res.status).toBe(504)
      await res.arrayBuffer()
    },
    expectBody: expectPublicBody,
    next: BOTH,
  },
  {
    name: 'an unreachable origin (502)',
    path: (n) => `/public/fr-reset-${n}`,
    async fail(stack, worker, path) {
      stack.origin.setFault({ mode: 'reset' })
      const res = await worker.fetch(path, { headers: IDENTITY })
      expect(res.status).toBe(502)
      await res.arrayBuffer()
    },
    expectBody: expectPublicBody,
    next: BOTH,
  },
  {
    name: 'a body that breaks mid-way',
    path: (n) => `/public/fr-body-${n}`,
    async fail(stack, worker, path) {
      stack.origin.setFault({ mode: 'reset-mid-body' })
      const res = await worker.fetch(path, { headers: IDENTITY })
      expect.soft(res.status, 'a broken body is a 502').toBe(502)
      await res.arrayBuffer()
    },
    expectBody: expectPublicBody,
    next: BOTH,
  },
  {
    name: 'a body that stalls',
    path: (n) => `/public/fr-stall-${n}`,
    async fail(stack, worker, path) {
      stack.origin.setFault({ mode: 'endless-body' })
      const res = await worker.fetch(path, { headers: IDENTITY })
      expect.soft(res.status, 'a stalled body is a 504').toBe(504)
      await res.arrayBuffer()
    },
    expectBody: expectPublicBody,
    next: BOTH,
  },
  {
    // RFC 9111 §5.2.1.7: answered 504 from the cache without contacting the origin, yet the lookup took the lease.
    name: 'an only-if-cached miss (504, no origin fetch)',
    path: (n) => `/public/fr-only-if-cached-${n}`,
    async fail(stack, worker, path) {
      const before = stack.origin.stats().requests
      const res = await worker.fetch(path, { headers: { ...IDENTITY, 'cache-control': 'only-if-cached' } })
      expect(res.status).toBe(504)
      await res.arrayBuffer()
      expect(stack.origin.stats().requests).toBe(before)
    },
    expectBody: expectPublicBody,
    next: BOTH,
  },
  {
    name: 'an uncacheable answer (no-store)',
    path: (n) => `/no-store?fr=${n}`,
    async fail(_stack, worker, path) {
      const res = await worker.fetch(path, { headers: IDENTITY })
      expect(res.status).toBe(200)
      await res.arrayBuffer()
    },
    expectBody: (_path, res, body) => expect.soft(text(body)).toBe(`never stored\nserial ${res.headers.get('x-origin-serial')}\n`),
    next: BOTH,
  },
  {
    name: 'an answer too big for Redis',
    path: (n) => `/bytes/${TOO_BIG_FOR_REDIS}?seed=7&fr=${n}`,
    async fail(_stack, worker, path) {
      const res = await worker.fetch(path, { headers: IDENTITY })
      expect(res.status).toBe(200)
      expect((await res.arrayBuffer()).byteLength).toBe(TOO_BIG_FOR_REDIS)
    },
    expectBody: (path, _res, body) => {
      const seed = Number(new URL(path, 'http://x').searchParams.get('seed'))
      expect.soft(Buffer.from(body).equals(Buffer.from(seededBytes(TOO_BIG_FOR_REDIS, seed))), 'the whole body').toBe(true)
    },
    // The filling process keeps it at its edge (size-limits.test.ts); only another process must refetch.
    next: ['other'],
  },
]

describe('a failed fill releases its lease and flight', () => {
  let stack: Stack
  beforeAll(async () => {
    // A long δ keeps purge-log reads out of the Upstash counts; one warm-up per process takes the first.
    stack = await startStack({ workers: 2, vars: { ORIGIN_TIMEOUT_MS: String(ORIGIN_TIMEOUT_MS), COHERENCE_DELTA_MS: '3600000' } })
    for (const w of stack.workers) await (await w.fetch('/public/warm-up')).arrayBuffer()
  })
  afterAll(() => stack.close())
  afterEach(() => {
    stack.origin.setFault({ mode: 'ok', latencyMs: 0 })
    stack.origin.releaseDrip()
  })

  const cases = FAILED_FILLS.flatMap((scenario) => scenario.next.map((next) => ({ ...scenario, next, where: next === 'same' ? 'the same process' : 'another process' })))

  it.each(cases)('after $name, the next request in $where goes straight to the origin', async (scenario) => {
    const path = scenario.path(scenario.next)
    await scenario.fail(stack, stack.workers[0]!, path)
    stack.origin.setFault({ mode: 'ok' })
    const { res, body } = await expectStraightToOrigin(stack, stack.workers[scenario.next === 'same' ? 0 : 1]!, path)
    scenario.expectBody(path, res, body)
  })

  it('after the client leaves a fill whose body stalls, another process goes straight to the origin', async () => {
    const path = '/public/fr-client-abort'
    stack.origin.setFault({ mode: 'drip' })
    const client = new AbortController()
    const abandoned = stack.workers[0]!.fetch(path, { headers: IDENTITY, signal: client.signal }).then(
      (res) => res.arrayBuffer(),
      () => undefined
    )
    // The origin has sent the headers and half the body, and holds the rest: the fill is under way.
    await eventually(() => stack.origin.dripping() === 1)
    client.abort()
    await abandoned
    // The worker's origin deadline ends the fetch (the origin sees the connection close).
    await eventually(() => stack.origin.dripping() === 0, ORIGIN_TIMEOUT_MS + 4000)
    stack.origin.setFault({ mode: 'ok' })
    const { res, body } = await expectStraightToOrigin(stack, stack.workers[1]!, path)
    expectPublicBody(path, res, body)
  })
})
