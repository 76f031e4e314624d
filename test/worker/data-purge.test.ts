import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, sendPurge, type Stack } from '../support/stack.ts'
import { dataCall, loads, startDataStack } from '../support/data-app.ts'

/** δ in this suite, in ms. */
const DELTA_MS = 1000

const valueN = (answer: { body: { value?: unknown } }): number | undefined => (answer.body.value as { n?: number } | null)?.n

/** Polls `check` until it holds; returns how long that took from `since` (a purge's answer). */
async function msUntil(since: number, check: () => Promise<boolean>): Promise<number> {
  await eventually(check, 10_000)
  return Date.now() - since
}

describe('data API: purge, writes, namespaces and negative caching across two worker processes', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startDataStack('purge', { workers: 2, vars: { COHERENCE_DELTA_MS: String(DELTA_MS) } })
  })
  afterAll(() => stack.close())

  it('a signed purge by tag (the webhook) removes tagged data entries in both processes within δ + 1 s', async () => {
    const [a, b] = stack.workers as [NonNullable<(typeof stack.workers)[0]>, NonNullable<(typeof stack.workers)[0]>]
    const route = (key: string) => `/data/get-or-set?key=${key}&tags=users team-7`
    for (const w of [a, b]) for (const key of ['tag-1', 'tag-2']) await dataCall(w, route(key))
    await dataCall(a, '/data/get-or-set?key=untagged-1')
    // Both processes answer from memory before the purge.
    expect((await dataCall(b, route('tag-1'))).outcomes).toEqual(['memory-hit'])
    const res = await sendPurge(a, { tags: ['users'] })
    expect(res.status).toBe(200)
    const acknowledged = Date.now()
    for (const w of [a, b]) {
      for (const key of ['tag-1', 'tag-2']) {
        const ms = await msUntil(acknowledged, async () => valueN(await dataCall(w, route(key))) !== 1)
        expect(ms).toBeLessThanOrEqual(DELTA_MS + 1000)
      }
    }
    // One new load per key for the whole fleet, and the untagged value untouched.
    expect(await loads(a, 'tag-1')).toBe(2)
    expect(await loads(a, 'tag-2')).toBe(2)
    expect((await dataCall(a, '/data/get-or-set?key=untagged-1')).outcomes).toEqual(['memory-hit'])
    expect(await loads(a, 'untagged-1')).toBe(1)
  })

  it('set and delete in one process are seen by the other within δ', async () => {
    const [a, b] = stack.workers as [NonNullable<(typeof stack.workers)[0]>, NonNullable<(typeof stack.workers)[0]>]
    const set = (w: typeof a, v: number) => w.fetch('/data/set?key=cfg&ttl=600', { method: 'POST', body: JSON.stringify({ v }) })
    expect((await set(a, 1)).status).toBe(200)
    expect((await dataCall(b, '/data/get?key=cfg')).body.value).toEqual({ v: 1 })
    expect((await dataCall(b, '/data/get?key=cfg')).outcomes).toEqual(['memory-hit'])
    await set(a, 2)
    const written = Date.now()
    expect((await dataCall(a, '/data/get?key=cfg')).body.value).toEqual({ v: 2 })
    expect(await msUntil(written, async () => ((await dataCall(b, '/data/get?key=cfg')).body.value as { v: number }).v === 2)).toBeLessThanOrEqual(DELTA_MS + 1000)
    await a.fetch('/data/delete?key=cfg', { method: 'POST' })
    const deleted = Date.now()
    expect((await dataCall(a, '/data/has?key=cfg')).body.has).toBe(false)
    expect(await msUntil(deleted, async () => !(await dataCall(b, '/data/get?key=cfg')).body.found)).toBeLessThanOrEqual(DELTA_MS + 1000)
  })

  it('deleteByTag from the data API removes tagged values in both processes', async () => {
    const [a, b] = stack.workers as [NonNullable<(typeof stack.workers)[0]>, NonNullable<(typeof stack.workers)[0]>]
    const route = '/data/get-or-set?key=dbt-1&tags=orders'
    await dataCall(a, route)
    await dataCall(b, route)
    await b.fetch('/data/delete-by-tag?tag=orders', { method: 'POST' })
    const deleted = Date.now()
    expect(valueN(await dataCall(b, route))).toBe(2)
    expect(await msUntil(deleted, async () => valueN(await dataCall(a, route)) === 2)).toBeLessThanOrEqual(DELTA_MS + 1000)
    expect(await loads(a, 'dbt-1')).toBe(2)
  })

  it('namespace clear drops every value of the namespace, in both processes, and no other', async () => {
    const [a, b] = stack.workers as [NonNullable<(typeof stack.workers)[0]>, NonNullable<(typeof stack.workers)[0]>]
    const route = (ns: string, key: string) => `/data/get-or-set?ns=${ns}&key=${key}`
    for (const w of [a, b]) for (const [ns, key] of [['users', 'a'], ['users', 'b'], ['other', 'a']] as const) await dataCall(w, route(ns, key))
    // Same key, different namespaces: different values.
    expect(await loads(a, 'users/a')).toBe(1)
    expect(await loads(a, 'other/a')).toBe(1)
    await a.fetch('/data/clear?ns=users', { method: 'POST' })
    const cleared = Date.now()
    expect(valueN(await dataCall(a, route('users', 'a')))).toBe(2)
    expect(await msUntil(cleared, async () => valueN(await dataCall(b, route('users', 'b'))) === 2)).toBeLessThanOrEqual(DELTA_MS + 1000)
    expect(valueN(await dataCall(b, route('users', 'a')))).toBe(2)
    expect((await dataCall(b, route('other', 'a'))).outcomes).toEqual(['memory-hit'])
    expect(await loads(a, 'other/a')).toBe(1)
  })

  it('negative caching: a flood for a missing row runs the loader once within negativeTtl, then again after it', async () => {
    const route = '/data/get-or-set?key=missing-1&missing=1&neg=2'
    const flood = await Promise.all(Array.from({ length: 100 }, (_, i) => dataCall(stack.workers[i % 2]!, route)))
    expect(flood.every((a) => a.status === 200 && a.body.found === false)).toBe(true)
    for (let i = 0; i < 10; i++) expect((await dataCall(stack.workers[i % 2]!, route)).body.found).toBe(false)
    expect(await loads(stack.workers[0]!, 'missing-1')).toBe(1)
    expect((await dataCall(stack.workers[0]!, '/data/has?key=missing-1')).body.has).toBe(false)
    await eventually(async () => {
      await dataCall(stack.workers[0]!, route)
      return (await loads(stack.workers[0]!, 'missing-1')) === 2
    }, 10_000)
  })

  it('wrap caches a function by its arguments', async () => {
    const [a, b] = stack.workers as [NonNullable<(typeof stack.workers)[0]>, NonNullable<(typeof stack.workers)[0]>]
    const first = await dataCall(a, '/data/wrap?id=7&v=1')
    expect(first.body.value).toEqual({ id: '7', version: 1, n: 1 })
    expect((await dataCall(b, '/data/wrap?id=7&v=1')).body.value).toEqual({ id: '7', version: 1, n: 1 })
    expect((await dataCall(a, '/data/wrap?id=7&v=2')).body.value).toEqual({ id: '7', version: 2, n: 2 })
    expect((await dataCall(a, '/data/wrap?id=8&v=1')).body.value).toEqual({ id: '8', version: 1, n: 3 })
    expect((await dataCall(a, '/data/wrap?id=7&v=1')).outcomes).toEqual(['memory-hit'])
  })
})
