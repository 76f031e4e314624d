import { describe, expect, it } from 'vitest'
import { ageHeaderValue, correctedInitialAge, currentAge, parseAge } from '../../src/policy/age.ts'
import { formatHttpDate } from '../../src/policy/http-date.ts'

const T0 = Date.UTC(2024, 0, 1) // 2024-01-01T00:00:00Z
const at = (ms: number) => formatHttpDate(T0 + ms)

describe('parseAge (RFC 9111 §5.1)', () => {
  it('reads delta-seconds', () => {
    expect(parseAge('42')).toBe(42)
  })

  it('uses the first member of a list ("SHOULD use the first member of the field value")', () => {
    expect(parseAge('10, 20')).toBe(10)
  })

  it('allows optional whitespace before the comma of a list (RFC 9110 §5.6.1: OWS "," OWS)', () => {
    expect(parseAge('10 , 20')).toBe(10)
  })

  it.each(['-5', '1.5', 'abc', ''])('ignores an invalid Age %j ("a cache SHOULD ignore the field")', (v) => {
    expect(parseAge(v)).toBeUndefined()
  })

  it('is undefined for an absent field', () => {
    expect(parseAge(null)).toBeUndefined()
  })
})

describe('correctedInitialAge (RFC 9111 §4.2.3)', () => {
  it('is the response delay when Date equals response time and there is no Age', () => {
    const age = correctedInitialAge({
      ageHeader: null,
      dateHeader: at(0),
      requestTime: T0 - 300,
      responseTime: T0,
    })
    expect(age).toBe(300)
  })

  it('adds the response delay to the Age value ("corrected_age_value = age_value + response_delay")', () => {
    const age = correctedInitialAge({
      ageHeader: '10',
      dateHeader: at(0),
      requestTime: T0 - 500,
      responseTime: T0,
    })
    expect(age).toBe(10_500)
  })

  it('uses the apparent age when it is larger ("corrected_initial_age = max(apparent_age, corrected_age_value)")', () => {
    const age = correctedInitialAge({
      ageHeader: '5',
      dateHeader: at(-60_000),
      requestTime: T0 - 100,
      responseTime: T0,
    })
    expect(age).toBe(60_000)
  })

  it('clamps a Date in the future to apparent_age 0 ("apparent_age = max(0, response_time - date_value)")', () => {
    const age = correctedInitialAge({
      ageHeader: null,
      dateHeader: at(3_600_000),
      requestTime: T0,
      responseTime: T0,
    })
    expect(age).toBe(0)
  })

  it('ignores a negative Age', () => {
    const age = correctedInitialAge({ ageHeader: '-30', dateHeader: at(0), requestTime: T0, responseTime: T0 })
    expect(age).toBe(0)
  })

  it('treats a missing Date as received now (RFC 9110 §6.6.1)', () => {
    const age = correctedInitialAge({ ageHeader: '7', dateHeader: null, requestTime: T0, responseTime: T0 })
    expect(age).toBe(7_000)
  })

  it('treats an invalid Date as received now', () => {
    const age = correctedInitialAge({ ageHeader: null, dateHeader: '0', requestTime: T0, responseTime: T0 })
    expect(age).toBe(0)
  })

  it('never lets a request time after the response time reduce the age', () => {
    const age = correctedInitialAge({ ageHeader: '3', dateHeader: null, requestTime: T0 + 50, responseTime: T0 })
    expect(age).toBe(3_000)
  })

  it('caps a huge Age at 2^31 seconds', () => {
    const age = correctedInitialAge({
      ageHeader: '99999999999',
      dateHeader: null,
      requestTime: T0,
      responseTime: T0,
    })
    expect(age).toBe(2 ** 31 * 1000)
  })
})

describe('currentAge and the Age header (RFC 9111 §4.2.3, §5.1)', () => {
  it('"current_age = corrected_initial_age + resident_time"', () => {
    expect(currentAge({ correctedInitialAgeMs: 10_000, responseTime: T0, now: T0 + 5_000 })).toBe(15_000)
  })

  it('adds no resident time when the clock is behind the response time', () => {
    expect(currentAge({ correctedInitialAgeMs: 10_000, responseTime: T0, now: T0 - 5_000 })).toBe(10_000)
  })

  it('formats Age in whole seconds, rounded down, capped at 2^31', () => {
    expect(ageHeaderValue(0)).toBe('0')
    expect(ageHeaderValue(1_999)).toBe('1')
    expect(ageHeaderValue(-5)).toBe('0')
    expect(ageHeaderValue(1e20)).toBe('2147483648')
  })
})
