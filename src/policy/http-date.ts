/**
 * @module HTTP-date parsing (RFC 9110 §5.6.7). `Date.parse` is not used: it accepts values such as
 * `"0"` or `"2024"` as dates, and RFC 9111 §5.3 requires "invalid date formats, especially the value
 * "0"" to count as already expired, so the parser must reject them.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const LONG_DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']

/** IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT` (the preferred format). */
const IMF_FIXDATE = /^([a-z]{3}), (\d{1,2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/
/** Obsolete RFC 850 format: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE = /^([a-z]{6,9}), (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/
/** Obsolete ANSI C asctime() format: `Sun Nov  6 08:49:37 1994` (date3 = month SP ( 2DIGIT / ( SP DIGIT ) )). */
const ASCTIME_DATE = /^([a-z]{3}) ([a-z]{3}) (\d{2}| \d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/

type Parts = { year: number; month: string; day: string; hour: string; minute: string; second: string }

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0

function toEpoch(p: Parts): number | undefined {
  const month = MONTHS.indexOf(p.month)
  const day = Number(p.day)
  const hour = Number(p.hour)
  const minute = Number(p.minute)
  // A leap second (60) is allowed by the grammar; it rolls into the next minute.
  const second = Number(p.second)
  if (month < 0 || hour > 23 || minute > 59 || second > 60) return undefined
  const monthDays = [31, isLeap(p.year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month] ?? 0
  if (day < 1 || day > monthDays) return undefined
  // Build at 00:00:00 of the day and add the time: setting the year afterwards (needed because Date.UTC
  // maps years 0–99 to 1900–1999) would otherwise undo a leap second's roll into the next day.
  const date = new Date(Date.UTC(2000, 0, 1))
  date.setUTCFullYear(p.year, month, day)
  return date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000
}

/**
 * Parses an HTTP-date in any of the three formats a recipient "MUST accept" (RFC 9110 §5.6.7) and
 * returns epoch milliseconds, or `undefined` when the value is absent or not a valid HTTP-date.
 * Names are matched case-insensitively (tolerant of real origins), but the separators are the grammar's
 * single spaces: `Thu, 18  Aug  2050 ...` is not an HTTP-date, so an `Expires` written that way means
 * "already expired" (RFC 9111 §5.3). The day name must be a day name but is not checked against the date.
 *
 * RFC 850 two-digit years: "Recipients of a timestamp value in rfc850-date format, which uses a
 * two-digit year, MUST interpret a timestamp that appears to be more than 50 years in the future as
 * representing the most recent year in the past that had the same last two digits." That rule is
 * applied against `now` when given; without it, years 70–99 are 19xx and 00–69 are 20xx.
 *
 * @param value the field value (`null`/`undefined` for an absent field)
 * @param now the current time in ms, only used for two-digit years
 * @example parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT') // 784111777000
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
 */
export function parseHttpDate(value: string | null | undefined, now?: number): number | undefined {
  if (value === null || value === undefined) return undefined
  const v = value.trim().toLowerCase()

  let m = IMF_FIXDATE.exec(v)
  if (m !== null) {
    // Stryker disable next-line StringLiteral: every capture group is mandatory, so these defaults (there for noUncheckedIndexedAccess) are never used
    const [, dayName = '', day = '', month = '', year = '', hour = '', minute = '', second = ''] = m
    if (!DAY_NAMES.includes(dayName)) return undefined
    return toEpoch({ year: Number(year), month, day, hour, minute, second })
  }

  m = RFC850_DATE.exec(v)
  if (m !== null) {
    // Stryker disable next-line StringLiteral: every capture group is mandatory, so these defaults (there for noUncheckedIndexedAccess) are never used
    const [, dayName = '', day = '', month = '', yy = '', hour = '', minute = '', second = ''] = m
    if (!LONG_DAY_NAMES.includes(dayName)) return undefined
    return toEpoch({ year: fullYear(Number(yy), now), month, day, hour, minute, second })
  }

  m = ASCTIME_DATE.exec(v)
  if (m !== null) {
    // Stryker disable next-line StringLiteral: every capture group is mandatory, so these defaults (there for noUncheckedIndexedAccess) are never used
    const [, dayName = '', month = '', day = '', hour = '', minute = '', second = '', year = ''] = m
    if (!DAY_NAMES.includes(dayName)) return undefined
    return toEpoch({ year: Number(year), month, day: day.trim(), hour, minute, second })
  }
  return undefined
}

/** Expands a two-digit rfc850-date year (RFC 9110 §5.6.7). */
function fullYear(yy: number, now: number | undefined): number {
  if (now === undefined) return yy >= 70 ? 1900 + yy : 2000 + yy
  const current = new Date(now).getUTCFullYear()
  let year = current - (current % 100) + yy
  // "more than 50 years in the future" → the most recent past year with the same two digits.
  if (year > current + 50) year -= 100
  else if (year + 100 <= current + 50) year += 100
  return year
}

/**
 * Formats epoch milliseconds as an IMF-fixdate, the form a sender MUST generate (RFC 9110 §5.6.7).
 * @example formatHttpDate(784111777000) // 'Sun, 06 Nov 1994 08:49:37 GMT'
 */
export const formatHttpDate = (ms: number): string => new Date(ms).toUTCString()
