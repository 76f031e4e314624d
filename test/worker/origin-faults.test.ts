import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { FaultMode } from '../../scripts/demo-origin/faults.ts'
import { cacheStatus, servedBy, startStack, type Stack } from '../support/stack.ts'
import { expectStraightToOrigin, IDENTITY, NOT_HELD_MS, publicBody } from '../support/straight-to-origin.ts'

// A misbehaving origin (design.md §6): whatever it sends, the client gets the origin's answer, a 502/504
// naming what went wrong, or the stale copy within stale-if-error (RFC 5861 §4) — never a 500 from tiercache.
// Nothing partial is stored, and the failed fill leaves no lease behind: the next request goes straight to
// the origin. The demo origin's wire faults (scripts/demo-origin/wire-faults.ts) break the real answer of a
// cacheable path, so every step of the fill sees that path's own cache headers.

const ORIGIN_TIMEOUT_MS = 1000

/** What the client must get for each fault when there is no stale copy. */
interface Expectation {
  mode: FaultMode
  status: 502 | 504
  /** Must appear in the JSON error's `error` or `detail`: what the origin sent. */
  names?: RegExp
  /** The runtime may let tiercache skip a 1xx and use the final 200 instead. */
  finalMayArrive?: boolean
}

const FAULTS: Expectation[] = [
  { mode: 'status-999', status: 502, names: /\b999\b/ },
  // workerd parses `HTTP/1.1 2xx Garbage` as status 2 (scripts/demo-origin/wire-faults.ts).
  { mode: 'garbage-status', status: 502, names: /\b2\b/ },
  { mode: 'early-hints', status: 502, names: /\b103\b/, finalMayArrive: true },
  { mode: 'early-hints-close', status: 502, names: /\b103\b/ },
  { mode: 'short-body', status: 502 },
  { mode: 'reset-mid-body', status: 502 },
  { mode: 'reset-mid-chunked', status: 502 },
  { mode: 'endless-body', status: 504 },
  { mode: 'endless-chunked', status: 504 },
  { mode: 'headers-never', status: 504 },
  { mode: 'reset', status: 502 },
]

describe('origin faults: 502/504 with a reason, nothing partial stored, no lease left behind', () => {
  let stack: Stack
  beforeAll(async () => {
    // A long δ keeps purge-log reads out of the per-request Upstash counts below.
    stack = await startStack({ vars: { ORIGIN_TIMEOUT_MS: String(ORIGIN_TIMEOUT_MS), COHERENCE_DELTA_MS: '3600000' } })
    await (await stack.workers[0]!.fetch('/public/warm-up')).arrayBuffer()
  })
  afterAll(() => stack.close())
  afterEach(() => {
    stack.origin.setFault({ mode: 'ok', latencyMs: 0 })
  })
  const worker = () => stack.workers[0]!

  /** Asserts a gateway error: the status and a JSON `{ error, detail }` naming what went wrong. */
  async function expectGatewayError(res: Response, expected: Expectation): Promise<void> {
    const text = await res.text()
    expect.soft(res.status, `status (body: ${text.slice(0, 300)})`).toBe(expected.status)
    expect.soft(res.headers.get('content-type'), 'content-type').toMatch(/^application\/json/)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    expect.soft(body, 'JSON error body').toEqual({ error: expect.any(String), detail: expect.any(String) })
    // Like every answer tiercache gives, it says what the cache did (design.md §3).
    expect.soft(cacheStatus(res)['tiercache-memory']?.detail, `Cache-Status: ${res.headers.get('cache-status')}`).toMatch(/^origin-(timeout|network|invalid|body)$/)
    if (expected.names && body && typeof body === 'object') {
      const { error, detail } = body as { error?: unknown; detail?: unknown }
      expect.soft(`${String(error)} ${String(detail)}`, 'names what the origin sent').toMatch(expected.names)
    }
  }

  /**
   * After a failure: the next normal request goes straight to the origin and gets the full, correct body;
   * the one after it is a hit with the same body, so the clean fill was stored (an origin fault leaves no
   * hit-for-miss marker behind: it was not an uncacheable answer).
   */
  async function expectCleanRefill(id: string, failedServedBody: string | undefined): Promise<void> {
    const path = `/public/${id}`
    stack.origin.setFault({ mode: 'ok' })
    if (failedServedBody !== undefined) {
      // The runtime let the final 200 through and it was stored: the next request may hit it.
      const res = await worker().fetch(path, { headers: IDENTITY })
      if (servedBy(res) !== 'origin') {
        expect.soft(await res.text(), 'the stored body is the complete one').toBe(failedServedBody)
        return
      }
      await res.arrayBuffer()
    }
    const { res, body } = await expectStraightToOrigin(stack, worker(), path)
    const text = new TextDecoder().decode(body)
    expect.soft(text, 'the body after the failure is complete').toBe(publicBody(id, res.headers.get('x-origin-serial')))
    const again = await worker().fetch(path, { headers: IDENTITY })
    expect.soft(servedBy(again), `the clean fill is stored (Cache-Status: ${again.headers.get('cache-status')})`).not.toBe('origin')
    expect.soft(await again.text(), 'stored body').toBe(text)
  }

  it.each(FAULTS)('$mode: $status with a JSON reason, then a clean refill', async (expected) => {
    const id = `of-${expected.mode}`
    stack.origin.setFault({ mode: expected.mode })
    const originBefore = stack.origin.stats().requests
    const res = await worker().fetch(`/public/${id}`, { headers: IDENTITY })
    expect.soft(stack.origin.stats().requests, 'the origin was asked').toBe(originBefore + 1)
    let servedFinal: string | undefined
    if (expected.finalMayArrive && res.status === 200) {
      // The runtime handed over the final response: it must be the whole, real 200.
      servedFinal = await res.text()
      expect.soft(servedFinal).toBe(publicBody(id, res.headers.get('x-origin-serial')))
    } else {
      await expectGatewayError(res, expected)
    }
    await expectCleanRefill(id, servedFinal)
  })
})

describe('origin faults with a stale copy: stale-if-error answers (RFC 5861 §4)', () => {
  let stack: Stack
  const originals = new Map<string, string>()
  beforeAll(async () => {
    stack = await startStack({ vars: { ORIGIN_TIMEOUT_MS: String(ORIGIN_TIMEOUT_MS), COHERENCE_DELTA_MS: '3600000' } })
    // One `/sie` copy per fault (the query is part of the key), filled while the origin is healthy.
    for (const { mode } of FAULTS) {
      const res = await stack.workers[0]!.fetch(`/sie?fault=${mode}`, { headers: IDENTITY })
      originals.set(mode, await res.text())
    }
    // `/sie` is fresh for 1 s (max-age=1, stale-if-error=60): let every copy go stale.
    await new Promise((r) => setTimeout(r, 1200))
  })
  afterAll(() => stack.close())
  afterEach(() => {
    stack.origin.setFault({ mode: 'ok', latencyMs: 0 })
  })

  it.each(FAULTS)('$mode: the stale copy is served, then the next healthy request refreshes it', async ({ mode, finalMayArrive }) => {
    const path = `/sie?fault=${mode}`
    stack.origin.setFault({ mode })
    const res = await stack.workers[0]!.fetch(path, { headers: IDENTITY })
    const body = await res.text()
    expect.soft(res.status, `status (body: ${body.slice(0, 200)})`).toBe(200)
    const fresh = /^stale-if-error for 60 s after 1 s\nserial (\d+)\n$/.exec(body)
    if (finalMayArrive && res.status === 200 && body !== originals.get(mode)) {
      // The runtime let the final 200 through: a complete fresh answer is right too.
      expect.soft(fresh?.[1], 'a complete fresh body').toBe(res.headers.get('x-origin-serial'))
    } else {
      expect.soft(body, 'the stale copy').toBe(originals.get(mode))
      expect.soft(cacheStatus(res)[`tiercache-${servedBy(res)}`], `Cache-Status: ${res.headers.get('cache-status')}`).toMatchObject({
        hit: true,
        detail: 'stale-if-error',
      })
    }

    stack.origin.setFault({ mode: 'ok' })
    const started = performance.now()
    const refreshed = await stack.workers[0]!.fetch(path, { headers: IDENTITY })
    const refreshedBody = await refreshed.text()
    expect.soft(refreshed.status).toBe(200)
    expect.soft(refreshedBody, 'a complete fresh body').toBe(`stale-if-error for 60 s after 1 s\nserial ${refreshed.headers.get('x-origin-serial')}\n`)
    expect.soft(refreshed.headers.get('cache-status') ?? '', 'no lease wait').not.toMatch(/lease-wait-timeout|collapsed/)
    expect.soft(performance.now() - started, 'refresh duration (ms)').toBeLessThan(NOT_HELD_MS)
  })
})

describe('origin faults on the paths that pass the answer through (HEAD miss, Range, unsafe methods)', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ vars: { ORIGIN_TIMEOUT_MS: String(ORIGIN_TIMEOUT_MS), COHERENCE_DELTA_MS: '3600000' } })
  })
  afterAll(() => stack.close())
  afterEach(() => {
    stack.origin.setFault({ mode: 'ok', latencyMs: 0 })
  })

  const STATUS_FAULTS = FAULTS.filter((f) => f.mode === 'status-999' || f.mode === 'garbage-status' || f.mode === 'early-hints-close')
  const REQUESTS: Array<{ label: string; path: string; init: RequestInit }> = [
    { label: 'a HEAD miss', path: '/public/pt-head', init: { method: 'HEAD' } },
    { label: 'a Range request (bypass)', path: '/public/pt-range', init: { headers: { range: 'bytes=0-3' } } },
    { label: 'a POST', path: '/echo', init: { method: 'POST', body: 'x' } },
  ]
  const cases = STATUS_FAULTS.flatMap((fault) => REQUESTS.map((request) => ({ ...fault, ...request })))

  it.each(cases)('$mode on $label: 502 naming the status, never a 500', async ({ mode, names, path, init }) => {
    stack.origin.setFault({ mode })
    const res = await stack.workers[0]!.fetch(path, { ...init, headers: { ...IDENTITY, ...(init.headers as Record<string, string>) } })
    const text = await res.text()
    expect.soft(res.status, `status (body: ${text.slice(0, 200)})`).toBe(502)
    if (init.method !== 'HEAD') {
      expect.soft(text, 'names what the origin sent').toMatch(names!)
      expect.soft(() => JSON.parse(text), 'a JSON body').not.toThrow()
    }
  })
})
