import { describe, expect, it } from 'vitest'
import { CircuitBreaker, MIN_STREAK_MS } from '../../src/tiers/breaker.ts'

describe('circuit breaker', () => {
  it('opens after consecutive failures spanning the minimum streak, skips for the cool-down, then lets one trial through', () => {
    const breaker = new CircuitBreaker({ failures: 3, cooldownMs: 5000 })
    breaker.failure(0)
    breaker.failure(500)
    breaker.failure(MIN_STREAK_MS)
    expect(breaker.state(MIN_STREAK_MS)).toBe('open')
    expect(breaker.allow(MIN_STREAK_MS + 4999)).toBe(false)
    expect(breaker.allow(MIN_STREAK_MS + 5000)).toBe(true)
    expect(breaker.state(MIN_STREAK_MS + 5000)).toBe('half-open')
    expect(breaker.allow(MIN_STREAK_MS + 5001)).toBe(false)
    breaker.success()
    expect(breaker.state(MIN_STREAK_MS + 5002)).toBe('closed')
  })

  it('does not open on a burst of concurrent failures from one stall', () => {
    const breaker = new CircuitBreaker({ failures: 3, cooldownMs: 5000 })
    for (let i = 0; i < 29; i++) breaker.failure(100)
    expect(breaker.state(100)).toBe('closed')
  })

  it('opens on a burst ten times the threshold: that is an outage', () => {
    const breaker = new CircuitBreaker({ failures: 3, cooldownMs: 5000 })
    for (let i = 0; i < 30; i++) breaker.failure(100)
    expect(breaker.state(100)).toBe('open')
  })

  it('a success resets the streak', () => {
    const breaker = new CircuitBreaker({ failures: 3, cooldownMs: 5000 })
    breaker.failure(0)
    breaker.failure(600)
    breaker.success()
    breaker.failure(1200)
    expect(breaker.state(1200)).toBe('closed')
  })

  it('a failed trial reopens at once', () => {
    const breaker = new CircuitBreaker({ failures: 1, cooldownMs: 100 })
    breaker.failure(0)
    breaker.failure(MIN_STREAK_MS)
    expect(breaker.allow(MIN_STREAK_MS + 100)).toBe(true)
    breaker.failure(MIN_STREAK_MS + 100)
    expect(breaker.state(MIN_STREAK_MS + 100)).toBe('open')
  })

  it('record() passes results and errors through, counting each failure at its time', async () => {
    const breaker = new CircuitBreaker({ failures: 2, cooldownMs: 5000 })
    let clock = 0
    const now = () => clock
    expect(await breaker.record(async () => 'ok', now)).toBe('ok')
    const boom = new Error('boom')
    await expect(breaker.record(async () => Promise.reject(boom), now)).rejects.toBe(boom)
    clock = MIN_STREAK_MS
    await expect(breaker.record(async () => Promise.reject(boom), now)).rejects.toBe(boom)
    expect(breaker.state(clock)).toBe('open')
    clock += 5000
    expect(breaker.allow(clock)).toBe(true)
    expect(await breaker.record(async () => 42, now)).toBe(42)
    expect(breaker.state(clock)).toBe('closed')
  })

  it('opens after a threshold of independent failures (each call started after the last failure), however short their span', async () => {
    const breaker = new CircuitBreaker({ failures: 3, cooldownMs: 5000 })
    let clock = 0
    const now = () => clock
    const failing = () => breaker.record(async () => {
      clock += 150
      throw new Error('timeout')
    }, now).catch(() => {})
    await failing()
    await failing()
    expect(breaker.state(clock)).toBe('closed')
    await failing()
    expect(clock).toBeLessThan(MIN_STREAK_MS)
    expect(breaker.state(clock)).toBe('open')
  })

  it('concurrent calls failing together are one independent failure', async () => {
    const breaker = new CircuitBreaker({ failures: 3, cooldownMs: 5000 })
    let clock = 0
    const now = () => clock
    let fail!: () => void
    const stalled = new Promise<void>((_, reject) => (fail = () => reject(new Error('stall'))))
    const calls = Array.from({ length: 5 }, () => breaker.record(() => stalled, now).catch(() => {}))
    clock = 300
    fail()
    await Promise.all(calls)
    expect(breaker.state(clock)).toBe('closed')
  })

  it('a trial that never reports back is given up after the cool-down', () => {
    const breaker = new CircuitBreaker({ failures: 1, cooldownMs: 100 })
    breaker.failure(0, 0)
    expect(breaker.state(0)).toBe('open')
    expect(breaker.allow(100)).toBe(true)
    expect(breaker.allow(150)).toBe(false)
    expect(breaker.allow(200)).toBe(true)
  })
})
