import { describe, expect, it } from 'vitest'
import { ageHeaderValue, correctedInitialAge, currentAge, parseAge } from '../../src/policy/age.ts'
import { formatHttpDate, parseHttpDate } from '../../src/policy/http-date.ts'

const T0 = Date.UTC(2024, 0, 1) // 2024-01-01T00:00:00Z
const at = (ms: number) => formatHttpDate(T0 + ms)

describe('parseAge (RFC 9111 §5.1)', () => {
  it('reads delta-seconds', () => {
    expect(parseAge('42')).toBe(42)
  })

  it('uses the first member of a list ("SHOULD use the first member of the field value")', () => {
    expect(parseAge('10, 20')).toBe(10)
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

describe('parseHttpDate (RFC 9110 §5.6.7)', () => {
  const expected = Date.UTC(1994, 10, 6, 8, 49, 37)

  it('parses IMF-fixdate, rfc850-date and asctime-date ("MUST accept all three")', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(expected)
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(expected)
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(expected)
  })

  it('rejects values that Date.parse would accept', () => {
    expect(parseHttpDate('0')).toBeUndefined()
    expect(parseHttpDate('2024')).toBeUndefined()
    expect(parseHttpDate('2024-01-01T00:00:00Z')).toBeUndefined()
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 +0000')).toBeUndefined()
  })

  it('rejects extra spaces between the parts (the grammar has single SP; cache-tests freshness-expires-invalid-multiple-spaces)', () => {
    expect(parseHttpDate('Sun, 06  Nov  1994 08:49:37 GMT')).toBeUndefined()
    expect(parseHttpDate('Sun,  06 Nov 1994 08:49:37 GMT')).toBeUndefined()
    expect(parseHttpDate('Sun Nov 6 08:49:37 1994')).toBeUndefined()
    expect(parseHttpDate('Sun Nov   6 08:49:37 1994')).toBeUndefined()
    expect(parseHttpDate('  Sun, 06 Nov 1994 08:49:37 GMT  ')).toBe(expected)
    expect(parseHttpDate('Sun Nov 16 08:49:37 1994')).toBe(Date.UTC(1994, 10, 16, 8, 49, 37))
  })

  it('rejects impossible dates', () => {
    expect(parseHttpDate('Thu, 29 Feb 2023 00:00:00 GMT')).toBeUndefined()
    expect(parseHttpDate('Mon, 01 Jan 2024 24:00:00 GMT')).toBeUndefined()
    expect(parseHttpDate('Xyz, 01 Jan 2024 00:00:00 GMT')).toBeUndefined()
  })

  it('accepts a leap day', () => {
    expect(parseHttpDate('Thu, 29 Feb 2024 00:00:00 GMT')).toBe(Date.UTC(2024, 1, 29))
  })

  it('interprets a two-digit year more than 50 years ahead as the past (§5.6.7)', () => {
    const now = Date.UTC(2025, 0, 1)
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(expected)
    expect(parseHttpDate('Friday, 01-Jan-49 00:00:00 GMT', now)).toBe(Date.UTC(2049, 0, 1))
  })

  it('round-trips formatHttpDate', () => {
    expect(formatHttpDate(expected)).toBe('Sun, 06 Nov 1994 08:49:37 GMT')
    expect(parseHttpDate(formatHttpDate(T0))).toBe(T0)
  })
})
