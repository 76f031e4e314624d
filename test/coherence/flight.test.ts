import { describe, expect, it } from 'vitest'
import { SingleFlight, type Joined } from '../../src/coherence/flight.ts'

// The in-isolate single flight (src/coherence/flight.ts): one fetch per key, waiters read a published value
// (never the leader's promise), give up at their own deadline, and a flight nobody finished is replaced once
// it is older than its stale-after. The clock that ages flights is injected; waits are bounded by their own
// short deadlines, never asserted on duration.

const STALE_AFTER_MS = 1000

function flights() {
  let now = 1_000_000
  const flight = new SingleFlight<string>(() => now)
  return { flight, advance: (ms: number) => (now += ms) }
}

const leaderOf = (joined: Joined<string>) => {
  if (joined.role !== 'leader') throw new Error(`expected a leader, got a ${joined.role}`)
  return joined
}
const waiterOf = (joined: Joined<string>) => {
  if (joined.role !== 'waiter') throw new Error(`expected a waiter, got a ${joined.role}`)
  return joined
}

describe('SingleFlight', () => {
  it('makes the first caller the leader and later ones waiters that get its published value', async () => {
    const { flight } = flights()
    const leader = leaderOf(flight.join('k', STALE_AFTER_MS))
    const waiter = waiterOf(flight.join('k', STALE_AFTER_MS))
    const waiting = waiter.wait(10_000)
    leader.publish({ kind: 'value', value: 'v1' })
    expect(await waiting).toEqual({ kind: 'value', value: 'v1' })
    // The finished flight is gone: the next caller leads a new one.
    expect(flight.size).toBe(0)
    expect(flight.join('k', STALE_AFTER_MS).role).toBe('leader')
  })

  it('hands waiters an unshareable result as it is, so they fetch for themselves', async () => {
    const { flight } = flights()
    const leader = leaderOf(flight.join('k', STALE_AFTER_MS))
    const waiting = waiterOf(flight.join('k', STALE_AFTER_MS)).wait(10_000)
    leader.publish({ kind: 'unshareable', reason: 'private' })
    expect(await waiting).toEqual({ kind: 'unshareable', reason: 'private' })
  })

  it('keeps flights of different keys apart', async () => {
    const { flight } = flights()
    const a = leaderOf(flight.join('a', STALE_AFTER_MS))
    expect(flight.join('b', STALE_AFTER_MS).role).toBe('leader')
    expect(flight.size).toBe(2)
    a.publish({ kind: 'value', value: 'a' })
    expect(flight.size).toBe(1)
  })

  it('a waiter whose leader never publishes gives up at its deadline (collapse-timeout) and the flight stays', async () => {
    const { flight } = flights()
    leaderOf(flight.join('k', STALE_AFTER_MS))
    const result = await waiterOf(flight.join('k', STALE_AFTER_MS)).wait(30)
    expect(result).toBe('timeout')
    // Timing out is the waiter's business: the leader is still in flight for the others.
    expect(flight.size).toBe(1)
    expect(flight.join('k', STALE_AFTER_MS).role).toBe('waiter')
  })

  it('a value published before the deadline wins over the timeout', async () => {
    const { flight } = flights()
    const leader = leaderOf(flight.join('k', STALE_AFTER_MS))
    const waiter = waiterOf(flight.join('k', STALE_AFTER_MS))
    leader.publish({ kind: 'value', value: 'early' })
    expect(await waiter.wait(0)).toEqual({ kind: 'value', value: 'early' })
  })

  it('a flight is joined until it is stale-after old, and then replaced by a new leader', () => {
    const { flight, advance } = flights()
    leaderOf(flight.join('k', STALE_AFTER_MS))
    advance(STALE_AFTER_MS - 1)
    expect(flight.join('k', STALE_AFTER_MS).role).toBe('waiter')
    advance(1)
    expect(flight.join('k', STALE_AFTER_MS).role).toBe('leader')
  })

  it('an abandoned flight is replaced: the new leader serves its waiters, and the old leader publishing late disturbs nothing', async () => {
    const { flight, advance } = flights()
    const abandoned = leaderOf(flight.join('k', STALE_AFTER_MS))
    const oldWaiter = waiterOf(flight.join('k', STALE_AFTER_MS))
    advance(STALE_AFTER_MS)

    const replacement = leaderOf(flight.join('k', STALE_AFTER_MS))
    const newWaiting = waiterOf(flight.join('k', STALE_AFTER_MS)).wait(10_000)
    // The old leader finishes after all: its waiters get its value, but the new flight is not ended by it.
    abandoned.publish({ kind: 'value', value: 'old' })
    expect(await oldWaiter.wait(10_000)).toEqual({ kind: 'value', value: 'old' })
    expect(flight.size).toBe(1)
    const lateWaiting = waiterOf(flight.join('k', STALE_AFTER_MS)).wait(10_000)

    replacement.publish({ kind: 'value', value: 'new' })
    expect(await newWaiting).toEqual({ kind: 'value', value: 'new' })
    expect(await lateWaiting).toEqual({ kind: 'value', value: 'new' })
    expect(flight.size).toBe(0)
  })
})
