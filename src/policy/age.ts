/**
 * @module Age calculations (RFC 9111 §4.2.3, §5.1). All times are epoch milliseconds and are passed
 * in; nothing here reads a clock.
 */
import { MAX_DELTA_SECONDS, parseDeltaSeconds } from './cache-control.ts'
import { parseHttpDate } from './http-date.ts'

/**
 * Parses an `Age` field value into seconds (RFC 9111 §5.1): "a cache encountering a message with a
 * list-based Age field value SHOULD use the first member of the field value, discarding subsequent
 * ones. If the field value (after discarding additional members, as per above) is invalid (e.g., it
 * contains something other than a non-negative integer), a cache SHOULD ignore the field."
 * Returns `undefined` when absent or ignored.
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.1
 */
export function parseAge(value: string | null): number | undefined {
  if (value === null) return undefined
  return parseDeltaSeconds((value.split(',')[0] ?? '').trim())
}

/** Input to {@link correctedInitialAge}. */
export type AgeInput = {
  /** The response's `Age` field value, or `null`. */
  ageHeader: string | null
  /** The response's `Date` field value, or `null`. */
  dateHeader: string | null
  /** When the request that produced the response was sent (ms): `request_time`. */
  requestTime: number
  /** When the response was received (ms): `response_time`. */
  responseTime: number
}

/**
 * The age of a response when it was received, in ms (RFC 9111 §4.2.3):
 *
 * ```
 * apparent_age = max(0, response_time - date_value);
 * response_delay = response_time - request_time;
 * corrected_age_value = age_value + response_delay;
 * corrected_initial_age = max(apparent_age, corrected_age_value);
 * ```
 *
 * A missing or invalid `Date` is replaced by `response_time` (RFC 9110 §6.6.1: the recipient "MUST
 * record the time it was received"), making `apparent_age` 0. An invalid or negative `Age` is ignored
 * (§5.1). A negative `response_delay` (clock skew) counts as 0.
 *
 * @example correctedInitialAge({ ageHeader: '10', dateHeader: null, requestTime: 0, responseTime: 500 }) // 10500
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.2.3
 */
export function correctedInitialAge(input: AgeInput): number {
  const { requestTime, responseTime } = input
  const dateValue = parseHttpDate(input.dateHeader) ?? responseTime
  const ageValue = (parseAge(input.ageHeader) ?? 0) * 1000
  const apparentAge = Math.max(0, responseTime - dateValue)
  const responseDelay = Math.max(0, responseTime - requestTime)
  const correctedAgeValue = ageValue + responseDelay
  return Math.max(apparentAge, correctedAgeValue)
}

/**
 * The current age in ms (RFC 9111 §4.2.3): "resident_time = now - response_time; current_age =
 * corrected_initial_age + resident_time;". A clock that moved backwards adds nothing.
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.2.3
 */
export function currentAge(input: {
  correctedInitialAgeMs: number
  responseTime: number
  now: number
}): number {
  return input.correctedInitialAgeMs + Math.max(0, input.now - input.responseTime)
}

/**
 * The `Age` field value for a response of `ageMs`: whole seconds, rounded down, capped at 2^31
 * (RFC 9111 §5.1: "If the cache receives a value larger than the largest positive integer it can
 * represent, or if any of its age calculations overflows, it MUST transmit an Age header field with a
 * field value of 2147483648 (2^31)").
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.1
 */
export const ageHeaderValue = (ageMs: number): string =>
  String(Math.min(Math.max(0, Math.floor(ageMs / 1000)), MAX_DELTA_SECONDS))
