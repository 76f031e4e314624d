import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, type Stack } from '../support/stack.ts'
import { dataCall, loads, startDataStack } from '../support/data-app.ts'

/** Waits until `key`'s value has expired in `worker` (get returns only fresh values). */
const expired = (stack: Stack, key: string, worker = 0) =>
  eventually(async () => !(await dataCall(stack.workers[worker]!, `/data/get?key=${key}`)).body.found, 10_000)

describe('data API: stale values (stale-while-revalidate, stale-if-error, timeouts)', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startDataStack('stale', { workers: 2 })
  })
  afterAll(() => stack.close())

  it('returns the stale value when the loader throws within staleIfError, and the error without it', async () => {
    const [w] = stack.workers
    await dataCall(w!, '/data/get-or-set?key=sie-1&ttl=1&sie=60')
    await dataCall(w!, '/data/get-or-set?key=sie-2&ttl=1')
    await expired(stack, 'sie-1')
    await expired(stack, 'sie-2')
    const stale = await dataCall(w!, '/data/get-or-set?key=sie-1&ttl=1&sie=60&fail=1')
    expect(stale.status).toBe(200)
    expect(stale.body.value).toEqual({ key: 'sie-1', n: 1 })
    expect(stale.outcomes).toEqual(['stale-if-error'])
    expect(await loads(w!, 'sie-1')).toBe(2)
    const failed = await dataCall(w!, '/data/get-or-set?key=sie-2&ttl=1&fail=1')
    expect(failed.status).toBe(502)
    expect(failed.body.message).toBe('loader for sie-2 failed')
  })

  it('stale-while-revalidate: 40 calls across both processes get the old value at once and the loader runs once', async () => {
    const key = 'swr-1'
    await dataCall(stack.workers[0]!, `/data/get-or-set?key=${key}&ttl=1&swr=60`)
    await dataCall(stack.workers[1]!, `/data/get-or-set?key=${key}&ttl=1&swr=60`)
    await expired(stack, key, 0)
    await expired(stack, key, 1)
    // The refresh takes 2 s: every call below starts while it runs.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => dataCall(stack.workers[i % 2]!, `/data/get-or-set?key=${key}&ttl=1&swr=60&latency=2000`))
    )
    expect(answers.every((a) => a.status === 200 && (a.body.value as { n: number }).n === 1)).toBe(true)
    expect(answers.every((a) => a.outcomes[0] === 'stale')).toBe(true)
    await eventually(async () => ((await dataCall(stack.workers[0]!, `/data/get?key=${key}`)).body.value as { n?: number } | null)?.n === 2, 10_000)
    await eventually(async () => ((await dataCall(stack.workers[1]!, `/data/get?key=${key}`)).body.value as { n?: number } | null)?.n === 2, 10_000)
    expect(await loads(stack.workers[0]!, key)).toBe(2)
  })

  it('soft timeout: a slow loader past `timeout` gets the stale value, and its result fills the cache later', async () => {
    const [w] = stack.workers
    const key = 'soft-1'
    await dataCall(w!, `/data/get-or-set?key=${key}&ttl=1&sie=60`)
    await expired(stack, key)
    const answer = await dataCall(w!, `/data/get-or-set?key=${key}&ttl=60&sie=60&latency=1500&timeout=100`)
    expect(answer.status).toBe(200)
    expect(answer.body.value).toEqual({ key, n: 1 })
    expect(answer.outcomes).toEqual(['stale-timeout'])
    await eventually(async () => ((await dataCall(w!, `/data/get?key=${key}`)).body.value as { n?: number } | null)?.n === 2, 10_000)
    expect(await loads(w!, key)).toBe(2)
  })

  it('hard timeout: with nothing stale, the call fails with LoaderTimeoutError; the loader still fills the cache', async () => {
    const [w] = stack.workers
    const key = 'hard-1'
    const answer = await dataCall(w!, `/data/get-or-set?key=${key}&latency=1500&hard=100`)
    expect(answer.status).toBe(504)
    expect(answer.body.error).toBe('E_LOADER_TIMEOUT')
    expect(answer.body.message).toBe('[tiercache] the loader for "hard-1" did not finish within hardTimeout (100 ms); it keeps running and fills the cache if it succeeds')
    await eventually(async () => (await dataCall(w!, `/data/get?key=${key}`)).body.found === true, 10_000)
    expect(await loads(w!, key)).toBe(1)
  })
})
