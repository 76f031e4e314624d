/**
 * @module Range requests answered from a stored complete response (RFC 9110 §14; RFC 9111 §3.3 lets a cache
 * serve a range of a complete stored response). One byte range is served as 206; several are not combined
 * into `multipart/byteranges` — the full 200 is sent instead, which §14.2 allows ("A server MAY ignore the
 * Range header field"); an unsatisfiable range is a 416 with `Content-Range: bytes *\/<length>` (§15.5.17).
 */
import { parseHttpDate } from './http-date.ts'
import { strongMatch } from './conditional.ts'

/** What a `Range` header asks of a representation of `length` bytes. */
export type RangeAnswer =
  /** No usable range: send the whole representation (absent, malformed, several ranges, or not bytes). */
  | { kind: 'full' }
  /** One satisfiable range, `start`–`end` inclusive. */
  | { kind: 'partial'; start: number; end: number }
  /** Nothing in the range overlaps the representation (§14.1.1: "unsatisfiable"). */
  | { kind: 'unsatisfiable' }

const FULL: RangeAnswer = { kind: 'full' }

/**
 * Reads a `Range` header (RFC 9110 §14.1.2 byte-ranges-specifier) against a representation of `length`
 * bytes: `bytes=a-b`, `bytes=a-` and the suffix form `bytes=-n`. A last-byte-pos past the end is cut to
 * the end (§14.1.2: "the recipient ... MUST ... replace the value with ... one less than the current
 * length"); a first-byte-pos at or past the end, or a zero suffix, is unsatisfiable.
 * @example rangeOf('bytes=0-1', 10) // { kind: 'partial', start: 0, end: 1 }
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-14.1.2
 */
export function rangeOf(header: string | null, length: number): RangeAnswer {
  if (header === null) return FULL
  const match = /^\s*bytes\s*=\s*([^,]*?)\s*$/i.exec(header)
  if (!match) return FULL
  const spec = /^(\d*)-(\d*)$/.exec(match[1] ?? '')
  if (!spec) return FULL
  const [, first = '', last = ''] = spec
  if (first === '' && last === '') return FULL
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || length === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, length - suffix), end: length - 1 }
  }
  const start = Number(first)
  const end = last === '' ? length - 1 : Math.min(Number(last), length - 1)
  if (last !== '' && Number(last) < start) return FULL
  if (start >= length) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start, end }
}

/**
 * Whether `If-Range` lets the range be served (RFC 9110 §13.1.5): an entity-tag must match the stored one
 * by strong comparison; an HTTP-date must equal the stored `Last-Modified` exactly. Otherwise the whole
 * representation is sent. No `If-Range` → true.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-13.1.5
 */
export function ifRangeAllows(ifRange: string | null, stored: { etag?: string | null; lastModified?: string | null }): boolean {
  if (ifRange === null) return true
  const value = ifRange.trim()
  if (value.startsWith('"') || value.startsWith('W/')) return stored.etag != null && strongMatch(value, stored.etag)
  const date = parseHttpDate(value)
  const modified = parseHttpDate(stored.lastModified)
  return date !== undefined && modified !== undefined && date === modified
}

/** The byte range a stored 206 holds, out of the representation's complete length (RFC 9110 §14.4). */
export interface HeldRange {
  start: number
  end: number
  length: number
}

/**
 * Reads a `Content-Range` of one satisfied byte range with a known complete length (`bytes 4-9/10`), the
 * only kind tiercache stores; anything else (`bytes 0-4/*`, unsatisfied ranges, other units) is undefined.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-14.4
 */
export function heldRange(contentRange: string | null | undefined): HeldRange | undefined {
  const match = /^\s*bytes (\d+)-(\d+)\/(\d+)\s*$/i.exec(contentRange ?? '')
  if (!match) return undefined
  const [start, end, length] = [Number(match[1]), Number(match[2]), Number(match[3])]
  return start <= end && end < length ? { start, end, length } : undefined
}

/**
 * The range of a request that a stored 206 holding `held` can answer (RFC 9111 §3.3: a stored partial
 * response answers a range request it contains), or undefined when the request asks for anything else.
 */
export function rangeWithin(rangeHeader: string | null, held: HeldRange): { start: number; end: number } | undefined {
  const range = rangeOf(rangeHeader, held.length)
  if (range.kind !== 'partial' || range.start < held.start || range.end > held.end) return undefined
  return range
}
