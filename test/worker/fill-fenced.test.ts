import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  cacheKeyOf,
  cacheStatus,
  eventually,
  redisCommand,
  redisHolds,
  sendPurge,
  servedBy,
  startStack,
  type Stack,
  type WorkerProcess,
} from '../support/stack.ts'
import { IDENTITY } from '../support/straight-to-origin.ts'

// Fenced fills (design.md §5, "no stale sets"): a fill remembers the purge-log position its origin request
// started from; a purge covering the entry that lands before the fill is written leaves no old body in any
// tier. When the purge was committed by the filling process itself, the process knows it at once and stops
// the fill in-process (src/stack/store.ts `fenced()` → `detail=fill-fenced`), before memory, the edge or
// Redis is written.
//
// "In flight" is made certain, not likely: the demo origin's `drip` fault sends the item's header section and
// half its body (the old version, read before the change) and holds the rest until the test releases it. A
// `/slow?ms=` answer would come after a fixed delay, racing the purge.

interface Scope {
  name: string
  /** The item filled and purged. */
  id: string
  /** The purge webhook body. */
  purge: Record<string, unknown>
}

const SCOPES: Scope[] = [
  { name: 'its URL', id: 'fence-url', purge: { urls: ['/items/fence-url'] } },
  // Items carry `Cache-Tag: item-<id>,items`.
  { name: 'its tag', id: 'fence-tag', purge: { tags: ['item-fence-tag'] } },
]

describe('a purge committed by this process while its fill is in flight', () => {
  let stack: Stack
  let filler: WorkerProcess
  /** Another process that has not read the purge log since before the purge (its δ is an hour). */
  let other: WorkerProcess

  beforeAll(async () => {
    stack = await startStack({ workers: 2, vars: { COHERENCE_DELTA_MS: '3600000' } })
    ;[filler, other] = stack.workers as [WorkerProcess, WorkerProcess]
    for (const w of stack.workers) await (await w.fetch('/public/warm-up', { headers: IDENTITY })).arrayBuffer()
  })
  afterAll(() => stack.close())
  afterEach(() => {
    stack.origin.setFault({ mode: 'ok' })
    stack.origin.releaseDrip()
  })

  const leaseHeld = async (path: string) => (await redisCommand(stack, 'EXISTS', `${stack.prefix}lease:${cacheKeyOf(path)}`)) === 1
  const itemBody = async (res: Response) => (JSON.parse(await res.text()) as { body: string; version: number }).body

  it.each(SCOPES)('purged by $name: no tier keeps the old body; the next requests get the new one', async ({ id, purge }) => {
    const path = `/items/${id}`
    stack.origin.data.put(id, 'old body')

    stack.origin.setFault({ mode: 'drip' })
    const filling = filler.fetch(path, { headers: IDENTITY })
    await eventually(() => stack.origin.dripping() === 1)
    // The origin changes (without telling anyone) and the purge is committed, both while the fill reads the body.
    stack.origin.data.put(id, 'new body')
    const purged = await sendPurge(filler, purge)
    expect(purged.status, await purged.clone().text()).toBe(200)
    await purged.arrayBuffer()
    stack.origin.setFault({ mode: 'ok' })
    stack.origin.releaseDrip()

    const res = await filling
    const cacheStatusText = res.headers.get('cache-status') ?? ''
    // The request that started before the purge gets what the origin sent it, but nothing keeps it.
    expect(res.status).toBe(200)
    expect(await itemBody(res)).toBe('old body')
    expect.soft(servedBy(res)).toBe('origin')
    expect.soft(cacheStatus(res)['tiercache-memory']?.detail, cacheStatusText).toBe('fill-fenced')
    // RFC 9211 §2.6 `stored`: no tier stored it, so none may say so.
    expect.soft(cacheStatusText, 'Cache-Status claims a tier stored it').not.toMatch(/stored/)

    // The fill is over once it has let go of its lease (a fenced fill releases it; so does a stored one).
    await eventually(async () => !(await leaseHeld(path)))
    expect.soft(await redisHolds(stack, path), 'Redis holds a copy').toBe(false)
    expect.soft(await filler.edgeHolds(path), 'the edge holds a copy').toBe(false)

    // Another process, whose view of the purge log predates the purge, finds nothing in Redis.
    const elsewhere = await other.fetch(path, { headers: IDENTITY })
    expect.soft(servedBy(elsewhere), `another process (Cache-Status: ${elsewhere.headers.get('cache-status')})`).toBe('origin')
    expect.soft(await itemBody(elsewhere)).toBe('new body')

    // This process neither holds nor refuses an old copy in memory or at the edge: both simply miss.
    const here = await filler.fetch(path, { headers: IDENTITY })
    const hereText = here.headers.get('cache-status') ?? ''
    expect.soft(await itemBody(here)).toBe('new body')
    expect.soft(cacheStatus(here)['tiercache-memory'], hereText).toMatchObject({ fwd: 'miss' })
    expect.soft(cacheStatus(here)['tiercache-edge'], hereText).toMatchObject({ fwd: 'miss' })
    expect.soft(hereText, 'no old copy was found and refused').not.toMatch(/purged/)
  })
})

describe('without Redis, a purge while a fill is in flight', () => {
  let stack: Stack
  let worker: WorkerProcess
  beforeAll(async () => {
    stack = await startStack({ noRedis: true })
    worker = stack.workers[0]!
    await (await worker.fetch('/public/warm-up', { headers: IDENTITY })).arrayBuffer()
  })
  afterAll(() => stack.close())
  afterEach(() => {
    stack.origin.setFault({ mode: 'ok' })
    stack.origin.releaseDrip()
  })

  it('still leaves no old body in memory or at the edge (the purge is local, the fence too)', async () => {
    const id = 'fence-local'
    const path = `/items/${id}`
    stack.origin.data.put(id, 'old body')
    stack.origin.setFault({ mode: 'drip' })
    const filling = worker.fetch(path, { headers: IDENTITY })
    await eventually(() => stack.origin.dripping() === 1)
    stack.origin.data.put(id, 'new body')
    const purged = await sendPurge(worker, { urls: [path] })
    expect(purged.status, await purged.clone().text()).toBe(200)
    await purged.arrayBuffer()
    stack.origin.setFault({ mode: 'ok' })
    stack.origin.releaseDrip()

    const res = await filling
    const cacheStatusText = res.headers.get('cache-status') ?? ''
    expect(JSON.parse(await res.text())).toMatchObject({ body: 'old body' })
    expect.soft(cacheStatus(res)['tiercache-memory']?.detail, cacheStatusText).toBe('fill-fenced')
    expect.soft(cacheStatusText, 'Cache-Status claims a tier stored it').not.toMatch(/stored/)

    const next = await worker.fetch(path, { headers: IDENTITY })
    const nextText = next.headers.get('cache-status') ?? ''
    expect.soft(JSON.parse(await next.text()), `the next request (Cache-Status: ${nextText})`).toMatchObject({ body: 'new body' })
    expect.soft(servedBy(next), nextText).toBe('origin')
  })

  it('a purge by prefix, which the edge cannot enumerate, makes the edge copies filled before it refused on read', async () => {
    const path = '/public/local-prefix-a'
    const first = await worker.fetch(path, { headers: IDENTITY })
    const before = await first.text()
    await eventually(() => worker.edgeHolds(path))
    const purged = await sendPurge(worker, { prefixes: ['/public/local-prefix-'] })
    expect(purged.status, await purged.clone().text()).toBe(200)
    await purged.arrayBuffer()
    // The edge copy is still there (only URLs are deleted at the edge); it must not be served.
    expect(await worker.edgeHolds(path)).toBe(true)
    const next = await worker.fetch(path, { headers: IDENTITY })
    const nextText = next.headers.get('cache-status') ?? ''
    expect.soft(servedBy(next), nextText).toBe('origin')
    expect.soft(await next.text()).not.toBe(before)
  })
})
