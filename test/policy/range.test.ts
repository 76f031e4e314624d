import { describe, expect, it } from 'vitest'
import { heldRange, ifRangeAllows, rangeOf, rangeWithin } from '../../src/policy/range.ts'

describe('rangeOf (RFC 9110 §14.1.2)', () => {
  it.each([
    ['bytes=0-1', 10, { kind: 'partial', start: 0, end: 1 }],
    ['bytes=1-', 10, { kind: 'partial', start: 1, end: 9 }],
    ['bytes=-1', 10, { kind: 'partial', start: 9, end: 9 }],
    ['bytes=-20', 10, { kind: 'partial', start: 0, end: 9 }],
    ['bytes=4-100', 10, { kind: 'partial', start: 4, end: 9 }],
    ['Bytes = 2-3', 10, { kind: 'partial', start: 2, end: 3 }],
    ['bytes=10-', 10, { kind: 'unsatisfiable' }],
    ['bytes=-0', 10, { kind: 'unsatisfiable' }],
    ['bytes=0-1', 0, { kind: 'unsatisfiable' }],
    ['bytes=-5', 0, { kind: 'unsatisfiable' }],
    ['bytes=3-3', 10, { kind: 'partial', start: 3, end: 3 }],
    ['  bytes=2-3  ', 10, { kind: 'partial', start: 2, end: 3 }],
  ] as const)('%s of %i bytes', (header, length, expected) => {
    expect(rangeOf(header, length)).toEqual(expected)
  })

  it.each([null, 'bytes=0-1,4-5', 'items=0-1', 'bytes=', 'bytes=-', 'bytes=3-2', 'bytes=a-b', 'bytes=1.5-2', 'xbytes=0-1', 'bytes=0-1x', 'bytes=x0-1'])(
    'serves the whole representation for %j (absent, several ranges, other units, malformed: §14.2 lets a server ignore it)',
    (header) => {
      expect(rangeOf(header, 10)).toEqual({ kind: 'full' })
    }
  )
})

describe('ifRangeAllows (RFC 9110 §13.1.5)', () => {
  const stored = { etag: '"v1"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT' }
  it('serves the range when there is no If-Range', () => expect(ifRangeAllows(null, stored)).toBe(true))
  it('matches an entity-tag by strong comparison only', () => {
    expect(ifRangeAllows('"v1"', stored)).toBe(true)
    expect(ifRangeAllows('"v2"', stored)).toBe(false)
    expect(ifRangeAllows('W/"v1"', stored)).toBe(false)
    expect(ifRangeAllows('"v1"', { etag: 'W/"v1"' })).toBe(false)
    expect(ifRangeAllows('"v1"', {})).toBe(false)
  })
  it('reads an If-Range with surrounding whitespace', () => {
    expect(ifRangeAllows(' "v1" ', stored)).toBe(true)
    expect(ifRangeAllows(' W/"v1"', stored)).toBe(false)
  })

  it('never matches an unreadable If-Range, even against a response without Last-Modified', () => {
    expect(ifRangeAllows('garbage', {})).toBe(false)
    expect(ifRangeAllows('garbage', { etag: '"v1"' })).toBe(false)
  })

  it('matches an HTTP-date only when it equals Last-Modified exactly', () => {
    expect(ifRangeAllows('Tue, 01 Dec 2026 10:00:00 GMT', stored)).toBe(true)
    expect(ifRangeAllows('Tue, 01 Dec 2026 10:00:01 GMT', stored)).toBe(false)
    expect(ifRangeAllows('not a date', stored)).toBe(false)
    expect(ifRangeAllows('Tue, 01 Dec 2026 10:00:00 GMT', { etag: '"v1"' })).toBe(false)
  })
})

describe('heldRange and rangeWithin (RFC 9110 §14.4, RFC 9111 §3.3)', () => {
  it('reads one satisfied byte range of a known length', () => {
    expect(heldRange('bytes 4-9/10')).toEqual({ start: 4, end: 9, length: 10 })
    expect(heldRange('Bytes 0-0/1')).toEqual({ start: 0, end: 0, length: 1 })
    expect(heldRange(' bytes 10-19/100 ')).toEqual({ start: 10, end: 19, length: 100 })
  })

  it.each([null, undefined, 'bytes 0-4/*', 'bytes */10', 'bytes 5-4/10', 'bytes 0-10/10', 'items 0-1/2', 'bytes 0-1', 'xbytes 0-1/2', 'bytes 0-1/2x'])(
    'refuses %j (unknown length, unsatisfied, inverted, past the end, other units)',
    (value) => expect(heldRange(value)).toBeUndefined()
  )

  it('answers only ranges that lie inside the stored part', () => {
    const held = { start: 4, end: 9, length: 10 }
    expect(rangeWithin('bytes=4-9', held)).toEqual({ kind: 'partial', start: 4, end: 9 })
    expect(rangeWithin('bytes=-5', held)).toEqual({ kind: 'partial', start: 5, end: 9 })
    expect(rangeWithin('bytes=6-', held)).toEqual({ kind: 'partial', start: 6, end: 9 })
    expect(rangeWithin('bytes=3-5', held)).toBeUndefined()
    expect(rangeWithin('bytes=0-', held)).toBeUndefined()
    expect(rangeWithin(null, held)).toBeUndefined()
    expect(rangeWithin('bytes=0-1,5-6', held)).toBeUndefined()
    expect(rangeWithin('items=4-5', held)).toBeUndefined()
    expect(rangeWithin('bytes=20-', held)).toBeUndefined()
  })
})
