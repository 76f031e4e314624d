/**
 * The check that a request after a failed fill is not held by anything the failed fill left behind (a Redis
 * fill lease, an in-isolate flight, a hit-for-miss marker): it reaches the origin at once and gets the whole
 * answer. Shared by the origin-fault and fill-release suites.
 */
import { expect } from 'vitest'
import { servedBy, type Stack, type WorkerProcess } from './stack.ts'

/** Without gzip from workerd, bodies and `Content-Length` arrive as the worker sent them. */
export const IDENTITY = { 'accept-encoding': 'identity' } as const

/** Backs up the Upstash count, never alone: a request held by a leftover lease waits out its 5 s expiry. */
export const NOT_HELD_MS = 2500

/**
 * Upstash requests a request straight to the origin may make: a lookup, a fill, and a few 25 ms lease polls
 * in case the failed fill releases its lease in the background just after answering. Waiting out a leftover
 * lease costs over a hundred polls (measured: 110–155 before the fix).
 */
export const STRAIGHT_UPSTASH_MAX = 6

/** The exact body `/public/:id` sends with serial `serial`. */
export const publicBody = (id: string, serial: string | null): string => `public resource ${id}\nserial ${serial}\n`

/**
 * Requests `path` from `worker` and asserts, softly (every miss is reported), that it went straight to the
 * origin: one more origin request for the path, served by the origin, no `lease-wait-timeout` or
 * `collapsed` in `Cache-Status`, at most {@link STRAIGHT_UPSTASH_MAX} Upstash requests, under
 * {@link NOT_HELD_MS}. Needs a long `COHERENCE_DELTA_MS` so purge-log reads stay out of the Upstash count.
 * Returns the response (body read) for further checks.
 */
export async function expectStraightToOrigin(
  stack: Stack,
  worker: WorkerProcess,
  path: string,
  init: RequestInit = {}
): Promise<{ res: Response; body: Uint8Array }> {
  const pathname = new URL(path, 'http://x').pathname
  const originBefore = stack.origin.stats().byPath[pathname] ?? 0
  stack.upstash.resetStats()
  const started = performance.now()
  const res = await worker.fetch(path, { ...init, headers: { ...IDENTITY, ...(init.headers as Record<string, string>) } })
  const body = new Uint8Array(await res.arrayBuffer())
  const elapsed = performance.now() - started
  const upstashRequests = stack.upstash.stats().requests
  const status = res.headers.get('cache-status') ?? ''
  expect.soft(res.status, `status of the request after the failure (Cache-Status: ${status})`).toBe(200)
  expect.soft(servedBy(res), `served by (Cache-Status: ${status})`).toBe('origin')
  expect.soft(stack.origin.stats().byPath[pathname], 'origin requests for the path').toBe(originBefore + 1)
  expect.soft(status, 'Cache-Status').not.toMatch(/lease-wait-timeout|collapsed/)
  expect.soft(upstashRequests, `Upstash requests (Cache-Status: ${status})`).toBeLessThanOrEqual(STRAIGHT_UPSTASH_MAX)
  expect.soft(elapsed, 'duration (ms)').toBeLessThan(NOT_HELD_MS)
  return { res, body }
}
