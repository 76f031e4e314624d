import { describe, expect, it } from 'vitest'
import { formatHttpDate, parseHttpDate } from '../../src/policy/http-date.ts'

const EXPECTED = Date.UTC(1994, 10, 6, 8, 49, 37) // Sun, 06 Nov 1994 08:49:37 GMT

/**
 * The three HTTP-date forms of an instant, built from the platform's own IMF-fixdate (`toUTCString`)
 * and weekday names (`Intl`), so the test does not share the parser's month and day tables.
 */
function threeForms(ms: number): { imf: string; rfc850: string; asctime: string } {
  const imf = new Date(ms).toUTCString() // 'Sun, 06 Nov 1994 08:49:37 GMT'
  const [, day = '', month = '', year = '', time = ''] = imf.replace(',', '').split(' ')
  const weekday = imf.slice(0, 3)
  const longWeekday = new Date(ms).toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' })
  return {
    imf,
    rfc850: `${longWeekday}, ${day}-${month}-${year.slice(2)} ${time} GMT`,
    asctime: `${weekday} ${month} ${String(Number(day)).padStart(2, ' ')} ${time} ${year}`,
  }
}

describe('parseHttpDate (RFC 9110 §5.6.7)', () => {
  it('parses IMF-fixdate, rfc850-date and asctime-date ("MUST accept all three")', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(EXPECTED)
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(EXPECTED)
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(EXPECTED)
  })

  it('parses every month and every day name in all three formats', () => {
    // One date in each month of 2024, then seven consecutive days for the seven day names.
    const instants = [
      ...Array.from({ length: 12 }, (_, m) => Date.UTC(2024, m, 10 + m, m, 2 * m, 59 - m)),
      ...Array.from({ length: 7 }, (_, d) => Date.UTC(2024, 0, 1 + d, 12, 30, 15)),
    ]
    for (const ms of instants) {
      const { imf, rfc850, asctime } = threeForms(ms)
      expect([imf, parseHttpDate(imf)]).toEqual([imf, ms])
      expect([rfc850, parseHttpDate(rfc850)]).toEqual([rfc850, ms])
      expect([asctime, parseHttpDate(asctime)]).toEqual([asctime, ms])
    }
  })

  it('accepts a two-digit day in asctime-date ("date3 = month SP ( 2DIGIT / ( SP DIGIT ))")', () => {
    expect(parseHttpDate('Wed Nov 16 08:49:37 1994')).toBe(Date.UTC(1994, 10, 16, 8, 49, 37))
  })

  it('ignores surrounding whitespace and names in any case', () => {
    expect(parseHttpDate('  Sun, 06 Nov 1994 08:49:37 GMT \t')).toBe(EXPECTED)
    expect(parseHttpDate('SUN, 06 NOV 1994 08:49:37 gmt')).toBe(EXPECTED)
  })

  it('rejects extra spaces between the parts (single SP in the grammar; cache-tests freshness-expires-invalid-multiple-spaces)', () => {
    expect(parseHttpDate('Sun, 06  Nov  1994 08:49:37 GMT')).toBeUndefined()
    expect(parseHttpDate('Sun,  06 Nov 1994 08:49:37 GMT')).toBeUndefined()
    expect(parseHttpDate('Sun Nov 6 08:49:37 1994')).toBeUndefined()
    expect(parseHttpDate('Sun Nov   6 08:49:37 1994')).toBeUndefined()
  })

  it('rejects values that Date.parse would accept', () => {
    expect(parseHttpDate('0')).toBeUndefined()
    expect(parseHttpDate('2024')).toBeUndefined()
    expect(parseHttpDate('2024-01-01T00:00:00Z')).toBeUndefined()
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 +0000')).toBeUndefined()
  })

  it('rejects text before or after an otherwise valid date', () => {
    expect(parseHttpDate('on Sunday, 06-Nov-94 08:49:37 GMT')).toBeUndefined()
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT+1')).toBeUndefined()
    expect(parseHttpDate('On Sun Nov  6 08:49:37 1994')).toBeUndefined()
    expect(parseHttpDate('Sun Nov  6 08:49:37 19945')).toBeUndefined()
  })

  it('rejects an unknown day name in every format', () => {
    expect(parseHttpDate('Xyz, 01 Jan 2024 00:00:00 GMT')).toBeUndefined()
    expect(parseHttpDate('Someday, 06-Nov-94 08:49:37 GMT')).toBeUndefined()
    expect(parseHttpDate('Xyz Nov  6 08:49:37 1994')).toBeUndefined()
  })

  it('rejects impossible dates', () => {
    expect(parseHttpDate('Thu, 29 Feb 2023 00:00:00 GMT')).toBeUndefined()
    expect(parseHttpDate('Sun, 00 Nov 1994 08:49:37 GMT')).toBeUndefined()
    expect(parseHttpDate('Mon, 01 Jan 2024 24:00:00 GMT')).toBeUndefined()
    expect(parseHttpDate('Mon, 01 Jan 2024 00:60:00 GMT')).toBeUndefined()
    expect(parseHttpDate('Mon, 01 Jan 2024 00:00:61 GMT')).toBeUndefined()
  })

  it('applies the Gregorian leap-year rule (29 Feb in 2024 and 2000, not in 1900)', () => {
    expect(parseHttpDate('Thu, 29 Feb 2024 00:00:00 GMT')).toBe(Date.UTC(2024, 1, 29))
    expect(parseHttpDate('Tue, 29 Feb 2000 00:00:00 GMT')).toBe(Date.UTC(2000, 1, 29))
    expect(parseHttpDate('Thu, 29 Feb 1900 00:00:00 GMT')).toBeUndefined()
  })

  it('accepts second 60 ("00:00:00 - 23:59:60 (leap second)") as the start of the next minute', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:60 GMT')).toBe(Date.UTC(1994, 10, 6, 8, 50, 0))
    expect(parseHttpDate('Sun, 06 Nov 1994 08:59:60 GMT')).toBe(Date.UTC(1994, 10, 6, 9, 0, 0))
    // At the end of a day (and a year) it rolls into the next day, not back to the start of this one.
    expect(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT')).toBe(Date.UTC(2017, 0, 1))
    expect(parseHttpDate('Saturday, 30-Jun-12 23:59:60 GMT')).toBe(Date.UTC(2012, 6, 1))
  })

  it('reads two-digit years 70-99 as 19xx and 00-69 as 20xx without a clock', () => {
    expect(parseHttpDate('Thursday, 01-Jan-70 00:00:00 GMT')).toBe(0)
    expect(parseHttpDate('Tuesday, 01-Jan-69 00:00:00 GMT')).toBe(Date.UTC(2069, 0, 1))
  })

  it('interprets a two-digit year more than 50 years ahead as the past (§5.6.7)', () => {
    const now = Date.UTC(2025, 0, 1)
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(EXPECTED)
    expect(parseHttpDate('Friday, 01-Jan-49 00:00:00 GMT', now)).toBe(Date.UTC(2049, 0, 1))
  })

  it('judges two-digit years against the given clock ("appears to be more than 50 years in the future")', () => {
    const mid2025 = Date.UTC(2025, 5, 1)
    // 49.6 years ahead: not more than 50, so the future year stands.
    expect(parseHttpDate('Tuesday, 01-Jan-75 00:00:00 GMT', mid2025)).toBe(Date.UTC(2075, 0, 1))
    // 50.6 years ahead: "the most recent year in the past that had the same last two digits".
    expect(parseHttpDate('Wednesday, 01-Jan-76 00:00:00 GMT', mid2025)).toBe(Date.UTC(1976, 0, 1))
    // In 2080, '94' is 2094 (14 years ahead), not 1994.
    expect(parseHttpDate('Saturday, 06-Nov-94 08:49:37 GMT', Date.UTC(2080, 0, 1))).toBe(
      Date.UTC(2094, 10, 6, 8, 49, 37)
    )
  })

  it('moves a two-digit year into the next century when that is at most 50 years ahead', () => {
    expect(parseHttpDate('Friday, 01-Jan-00 00:00:00 GMT', Date.UTC(2099, 5, 1))).toBe(Date.UTC(2100, 0, 1))
    // 49.6 years ahead of mid-2060.
    expect(parseHttpDate('Wednesday, 01-Jan-10 00:00:00 GMT', Date.UTC(2060, 5, 1))).toBe(
      Date.UTC(2110, 0, 1)
    )
  })

  it('round-trips formatHttpDate', () => {
    expect(formatHttpDate(EXPECTED)).toBe('Sun, 06 Nov 1994 08:49:37 GMT')
    expect(parseHttpDate(formatHttpDate(Date.UTC(2024, 0, 1)))).toBe(Date.UTC(2024, 0, 1))
  })
})
