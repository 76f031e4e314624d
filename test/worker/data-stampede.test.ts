import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../support/stack.ts'
import { dataCall, loads, startDataStack } from '../support/data-app.ts'

describe('data API: one loader call fleet-wide for a cold key', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startDataStack('stampede', { workers: 2 })
  })
  afterAll(() => stack.close())

  it('200 concurrent cold getOrSet calls across two worker processes run the loader once', async () => {
    const key = 'stampede-1'
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => dataCall(stack.workers[i % 2]!, `/data/get-or-set?key=${key}&latency=300`))
    )
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(new Set(answers.map((a) => JSON.stringify(a.body.value))).size).toBe(1)
    expect(answers[0]!.body.value).toEqual({ key, n: 1 })
    expect(await loads(stack.workers[0]!, key)).toBe(1)
    // Both processes saw the value without loading: one through its flight, the other through Redis.
    const outcomes = answers.flatMap((a) => a.outcomes)
    expect(outcomes.filter((o) => o === 'loaded')).toHaveLength(1)
    expect(outcomes).toContain('collapsed')
  })

  it('a hit fills the tiers above: the next call in either process is a memory hit', async () => {
    const key = 'fill-1'
    await dataCall(stack.workers[0]!, `/data/get-or-set?key=${key}`)
    const other = await dataCall(stack.workers[1]!, `/data/get-or-set?key=${key}`)
    expect(other.outcomes).toEqual(['redis-hit'])
    const again = await dataCall(stack.workers[1]!, `/data/get-or-set?key=${key}`)
    expect(again.outcomes).toEqual(['memory-hit'])
    expect(again.body.value).toEqual({ key, n: 1 })
    expect(await loads(stack.workers[0]!, key)).toBe(1)
  })
})
