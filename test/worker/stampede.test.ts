import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../support/stack.ts'

describe('stampede protection', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ workers: 2 })
  })
  afterAll(() => stack.close())

  it('200 concurrent requests for one cold key across two worker processes reach the origin once', async () => {
    stack.origin.resetStats()
    stack.origin.setFault({ latencyMs: 300 })
    const path = '/public/stampede-1'
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => stack.workers[i % 2]!.fetch(path).then(async (r) => ({ status: r.status, body: await r.text() })))
    )
    stack.origin.setFault({ latencyMs: 0 })
    expect(responses.every((r) => r.status === 200)).toBe(true)
    expect(new Set(responses.map((r) => r.body)).size).toBe(1)
    expect(stack.origin.stats().requests).toBe(1)
  })

  it('waiters do not share an unshareable answer: each private response comes from the origin', async () => {
    stack.origin.resetStats()
    stack.origin.setFault({ latencyMs: 200 })
    const users = Array.from({ length: 20 }, (_, i) => `user${i}`)
    const bodies = await Promise.all(
      users.map((u, i) => stack.workers[i % 2]!.fetch('/me', { headers: { authorization: `Bearer ${u}` } }).then((r) => r.text()))
    )
    stack.origin.setFault({ latencyMs: 0 })
    users.forEach((u, i) => expect(bodies[i]).toContain(u))
  })
})
