import { describe, expect, it } from 'vitest'
import { LookupStatus } from '../../src/observe/lookup-status.ts'

describe('LookupStatus', () => {
  it('writes one member per tier consulted, Redis first and memory last (RFC 9211 §2)', () => {
    const status = new LookupStatus()
    status.note('memory', { fwd: 'miss' })
    status.note('edge', { fwd: 'miss' })
    status.note('redis', { hit: true, ttl: 3504, delta: 2000, viewAge: 540 })
    status.note('edge', { stored: true })
    status.note('memory', { stored: true })
    expect(status.cacheStatus()).toBe('tiercache-redis; hit; ttl=3504; delta=2000; view-age=540, tiercache-edge; fwd=miss; stored, tiercache-memory; fwd=miss; stored')
  })

  it('merges later notes into a tier\'s member: a later undefined clears a parameter, as a spread would', () => {
    const status = new LookupStatus()
    status.note('memory', { bucket: 'user:4otUqfV9' })
    status.note('memory', { hit: true, ttl: 3582, delta: 2000, viewAge: undefined })
    expect(status.cacheStatus()).toBe('tiercache-memory; hit; ttl=3582; delta=2000; bucket="user:4otUqfV9"')
  })

  it('writes every parameter in a fixed order and quotes a detail that is not a token', () => {
    const status = new LookupStatus()
    status.note('bypass', { fwd: 'method' })
    status.note('edge', { detail: 'stale-while-revalidate', hit: true, ttl: -3, fwdStatus: 503, collapsed: true })
    status.note('memory', { fwd: 'miss', detail: 'uncacheable private' })
    expect(status.cacheStatus()).toBe(
      'tiercache; fwd=method, tiercache-edge; hit; fwd-status=503; ttl=-3; collapsed; detail=stale-while-revalidate, tiercache-memory; fwd=miss; detail="uncacheable private"'
    )
    expect(new LookupStatus().cacheStatus()).toBe('')
  })

  it('sums durations per metric for Server-Timing, and writes nothing when nothing was timed', () => {
    const status = new LookupStatus()
    expect(status.serverTiming()).toBe('')
    status.time('edge', 1.26)
    status.time('redis', 3)
    status.time('edge', 0.5)
    expect(status.serverTiming()).toBe('edge;dur=1.8, redis;dur=3.0')
  })
})
