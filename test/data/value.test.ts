import { describe, expect, it } from 'vitest'
import { decodeValue, encodeValue } from '../../src/data/value.ts'

const roundTrip = (value: unknown) => {
  const { kind, body } = encodeValue(value)
  return decodeValue(kind, body)
}

describe('data values', () => {
  it('round-trips JSON, Uint8Array and ArrayBuffer, and undefined as "not found"', () => {
    const json = { a: [1, 'two', null, true, { b: -0.5 }], c: '' }
    expect(roundTrip(json)).toEqual(json)
    expect(roundTrip(null)).toBeNull()
    const bytes = new Uint8Array([0, 255, 7])
    expect(roundTrip(bytes)).toEqual(bytes)
    const buffer = new Uint8Array([1, 2]).buffer
    const back = roundTrip(buffer)
    expect(back).toBeInstanceOf(ArrayBuffer)
    expect([...new Uint8Array(back as ArrayBuffer)]).toEqual([1, 2])
    expect(encodeValue(undefined).kind).toBe('none')
    expect(roundTrip(undefined)).toBeUndefined()
  })

  it('drops undefined properties as JSON does', () => {
    expect(roundTrip({ a: 1, b: undefined })).toEqual({ a: 1 })
  })

  it('copies: changing a stored or returned value does not change the cache', () => {
    const bytes = new Uint8Array([1])
    const { kind, body } = encodeValue(bytes)
    bytes[0] = 9
    const out = decodeValue(kind, body) as Uint8Array
    out[0] = 8
    expect((decodeValue(kind, body) as Uint8Array)[0]).toBe(1)
  })

  it('refuses what JSON would not give back, naming where and what to store instead', () => {
    expect(() => encodeValue({ at: new Date(0) })).toThrow(new TypeError('tiercache cannot store value.at, a Date: JSON would not give it back; store date.toISOString() instead'))
    expect(() => encodeValue(new Map())).toThrow('store Object.fromEntries(map) instead')
    expect(() => encodeValue({ n: 10n })).toThrow('tiercache cannot store value.n, a bigint: store String(n) and parse it back with BigInt()')
    expect(() => encodeValue([1, Number.NaN])).toThrow('tiercache cannot store value[1] = NaN: JSON has no NaN or Infinity; store null or a string instead')
    expect(() => encodeValue([undefined])).toThrow('tiercache cannot store value[0] = undefined inside an array: use null')
    expect(() => encodeValue({ f: () => 1 })).toThrow('tiercache cannot store value.f, a function')
    expect(() => encodeValue({ b: new Uint8Array(1) })).toThrow('binary data only as the whole value')
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(() => encodeValue(cycle)).toThrow('tiercache cannot store value.self: the value refers to itself (a cycle); store plain data')
    // The same object twice is not a cycle.
    const shared = { x: 1 }
    expect(roundTrip({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } })
  })
})
