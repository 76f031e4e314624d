import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../support/stack.ts'

describe('memory tier byte budget', () => {
  const BUDGET = 256 * 1024
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ vars: { MEMORY_MAX_BYTES: String(BUDGET) } })
  })
  afterAll(() => stack.close())

  it('stays within its budget under a workload ten times larger', async () => {
    let served = 0
    // ~2.7 MB of distinct responses of 1–40 KB through a 256 KB memory tier.
    for (let i = 0; i < 130; i++) {
      const kb = 1 + ((i * 7) % 40)
      const res = await stack.workers[0]!.fetch(`/large?kb=${kb}&n=${i}`)
      served += (await res.arrayBuffer()).byteLength
    }
    expect(served).toBeGreaterThan(BUDGET * 10)
    const stats = await stack.workers[0]!.stats()
    expect(stats.memory!.maxBytes).toBe(BUDGET)
    expect(stats.memory!.peakBytes).toBeLessThanOrEqual(BUDGET)
    expect(stats.memory!.bytes).toBeLessThanOrEqual(BUDGET)
    expect(stats.memory!.entries).toBeGreaterThan(0)
  })
})
