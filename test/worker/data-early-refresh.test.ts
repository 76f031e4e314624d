import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../support/stack.ts'
import { dataCall, loads, startDataStack } from '../support/data-app.ts'

/** Outcomes of calls that waited for a loader (their own, or another call's through the flight or lease). */
const WAITED = new Set(['loaded', 'collapsed'])

/**
 * Keeps `key` hot: 6 concurrent callers per process, each calling getOrSet back to back until `ms` have
 * passed. Returns every call's outcome.
 */
async function hammer(stack: Stack, route: string, ms: number): Promise<string[]> {
  const until = Date.now() + ms
  const outcomes: string[] = []
  await Promise.all(
    stack.workers.flatMap((worker) =>
      Array.from({ length: 6 }, async () => {
        while (Date.now() < until) {
          const answer = await dataCall(worker, route)
          expect(answer.status).toBe(200)
          outcomes.push(...answer.outcomes)
        }
      })
    )
  )
  return outcomes
}

describe('data API: probabilistic early refresh (XFetch) on a hot key', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startDataStack('early', { workers: 2 })
  })
  afterAll(() => stack.close())

  // ttl 3 s, a 250 ms loader, a little over two lifetimes of load.
  const run = async (key: string, early: string) => {
    const route = `/data/get-or-set?key=${key}&ttl=3&latency=250${early}`
    await dataCall(stack.workers[0]!, route)
    const outcomes = await hammer(stack, route, 6500)
    return { outcomes, waited: outcomes.filter((o) => WAITED.has(o)).length, loads: await loads(stack.workers[0]!, key) }
  }

  it('with earlyRefresh, no call around expiry waits for the loader, and the loader runs about once per lifetime', async () => {
    const on = await run('hot-early', '&early=true')
    console.log(`early refresh on: ${on.waited} of ${on.outcomes.length} calls waited, ${on.loads} loads`)
    expect(on.outcomes.length).toBeGreaterThan(50)
    expect(on.waited).toBe(0)
    // Refreshed before each expiry (so at least once per lifetime) without a stampede: one load at a time,
    // fleet-wide, a handful against thousands of calls.
    expect(on.loads).toBeGreaterThanOrEqual(3)
    expect(on.loads).toBeLessThanOrEqual(10)
  })

  it('without it, calls wait for the loader at each expiry (the stampede is still collapsed to one load)', async () => {
    const off = await run('hot-plain', '')
    expect(off.waited).toBeGreaterThan(0)
    // One load per expiry, fleet-wide (the flight and the fill lease): the cold fill and two expiries.
    expect(off.loads).toBeGreaterThanOrEqual(2)
    expect(off.loads).toBeLessThanOrEqual(4)
    console.log(`early refresh off: ${off.waited} of ${off.outcomes.length} calls waited, ${off.loads} loads`)
  })
})
