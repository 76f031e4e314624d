import { describe, expect, it } from 'vitest'
import { createEngine } from '../src/engine.ts'
import { resolveOptions } from '../src/options.ts'
import { cacheKey } from '../src/policy/key.ts'
import type { WaitUntil } from '../src/stack/stack.ts'
import { cacheStatus } from './support/stack.ts'

// The stack on its own, in Node, with a clock that moves on every reading: no judgement may depend on
// two readings of the clock being equal.
describe('CacheStack with a clock that never stands still', () => {
  it('serves a soft-purged memory entry as stale (RFC 5861 §3), however the clock moves between readings', async () => {
    let clock = Date.UTC(2026, 10, 23, 12, 0, 0)
    const engine = createEngine(resolveOptions({ edge: false, now: () => clock++ }))
    const pending: Promise<unknown>[] = []
    const ctx: WaitUntil = { waitUntil: (p) => void pending.push(p) }
    let originCalls = 0
    const produce = async () =>
      new Response(`body ${++originCalls}`, { headers: { 'cache-control': 'public, max-age=300, stale-while-revalidate=60', date: new Date(clock).toUTCString() } })
    const url = 'http://a.test/soft'
    const get = async () => {
      const res = await engine.stack.handle(new Request(url), undefined, undefined, ctx, produce)
      return { body: await res.text(), status: cacheStatus(res)['tiercache-memory'] }
    }

    await get()
    await Promise.all(pending.splice(0))
    expect((await get()).status).toMatchObject({ hit: true })

    // A soft purge of the URL, as a log read would deliver it.
    engine.coherence.apply([{ seq: 1, t: clock, urls: [cacheKey(new URL(url), { ignoreQueryParams: [] })], tags: [], prefixes: [], all: false, soft: true }])
    const stale = await get()
    expect(stale.body).toBe('body 1')
    expect(stale.status).toMatchObject({ hit: true, detail: 'stale-while-revalidate' })
    await Promise.all(pending.splice(0))
    expect(originCalls).toBe(2)
  })
})
