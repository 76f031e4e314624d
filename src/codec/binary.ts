/**
 * @module The envelope's binary payload, format version 2: a fixed order of fields with no names and no
 * JSON, so a small entry costs little more than its body (issue 11: ≤ body + 128 bytes in Redis).
 * docs/design-notes.md "Stored envelope" lays it out byte by byte. src/codec.ts adds the two header bytes
 * (version, flags), compression and the Redis text form around it.
 *
 * Primitives: `uint` is an unsigned LEB128 varint; `num` is a varint whose low bit says how the number
 * follows (0: an integer, zigzag-encoded in the remaining bits; 1: an IEEE-754 double in the next 8
 * bytes, big-endian), so times and lifetimes in whole milliseconds take 1–7 bytes and any finite number
 * still round-trips exactly; `str` is a `uint` byte length and that many bytes of UTF-8.
 */
import type { CacheEntry, VaryIndex } from '../entry.ts'
import { CodecError } from '../errors.ts'
import { DATE_NAMES, STATIC_FIELDS, STATIC_NAMES, dateName, staticField, staticName } from './fields.ts'

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Field codes: 0 a literal name and value; then one per {@link STATIC_NAMES} entry (value follows); then
 * one per {@link STATIC_FIELDS} entry (nothing follows); then one per {@link DATE_NAMES} entry (seconds
 * since the epoch follow as a `uint`).
 */
const NAME_BASE = 1
const FIELD_BASE = NAME_BASE + STATIC_NAMES.length
const DATE_BASE = FIELD_BASE + STATIC_FIELDS.length
const CODE_END = DATE_BASE + DATE_NAMES.length

/** Integers up to this size are written as varints (zigzag and the tag bit double it twice; 2^53 is exact). */
const MAX_SMALL_INT = 2 ** 50

/** A growing byte buffer. */
export class Writer {
  #bytes = new Uint8Array(256)
  #length = 0

  #room(n: number): void {
    if (this.#length + n <= this.#bytes.byteLength) return
    const next = new Uint8Array(Math.max(this.#bytes.byteLength * 2, this.#length + n))
    next.set(this.#bytes.subarray(0, this.#length))
    this.#bytes = next
  }

  byte(value: number): void {
    this.#room(1)
    this.#bytes[this.#length++] = value
  }

  uint(value: number): void {
    this.#room(8)
    // Arithmetic, not bit operators: values pass 2^31 (times in ms).
    while (value >= 0x80) {
      this.#bytes[this.#length++] = (value % 0x80) | 0x80
      value = Math.floor(value / 0x80)
    }
    this.#bytes[this.#length++] = value
  }

  num(value: number): void {
    if (Number.isSafeInteger(value) && Math.abs(value) < MAX_SMALL_INT) {
      this.uint((value >= 0 ? value * 2 : -value * 2 - 1) * 2)
      return
    }
    this.byte(1)
    this.#room(8)
    new DataView(this.#bytes.buffer).setFloat64(this.#length, value)
    this.#length += 8
  }

  raw(bytes: Uint8Array): void {
    this.#room(bytes.byteLength)
    this.#bytes.set(bytes, this.#length)
    this.#length += bytes.byteLength
  }

  str(text: string): void {
    const bytes = utf8Encoder.encode(text)
    this.uint(bytes.byteLength)
    this.raw(bytes)
  }

  /** Everything written (a view of the buffer). */
  finish(): Uint8Array {
    return this.#bytes.subarray(0, this.#length)
  }
}

/** Reads what {@link Writer} wrote; every read past the end is a {@link CodecError}. */
export class Reader {
  readonly #bytes: Uint8Array
  #at: number

  constructor(bytes: Uint8Array, at = 0) {
    this.#bytes = bytes
    this.#at = at
  }

  get offset(): number {
    return this.#at
  }

  byte(): number {
    if (this.#at >= this.#bytes.byteLength) throw new CodecError('truncated payload')
    return this.#bytes[this.#at++]!
  }

  uint(): number {
    let value = 0
    let scale = 1
    for (;;) {
      const b = this.byte()
      value += (b & 0x7f) * scale
      if (b < 0x80) break
      scale *= 0x80
      if (scale > 2 ** 56) throw new CodecError('varint too long')
    }
    return value
  }

  num(): number {
    const tagged = this.uint()
    if (tagged % 2 === 1) {
      if (tagged !== 1) throw new CodecError('invalid number')
      if (this.#at + 8 > this.#bytes.byteLength) throw new CodecError('truncated payload')
      const value = new DataView(this.#bytes.buffer, this.#bytes.byteOffset).getFloat64(this.#at)
      this.#at += 8
      if (!Number.isFinite(value)) throw new CodecError('invalid number')
      return value
    }
    const zigzag = tagged / 2
    return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2
  }

  bytes(n: number): Uint8Array {
    if (this.#at + n > this.#bytes.byteLength) throw new CodecError('truncated payload')
    const out = this.#bytes.subarray(this.#at, this.#at + n)
    this.#at += n
    return out
  }

  str(): string {
    try {
      // (Cast: DOM typings reject views over a SharedArrayBuffer, which never reach here.)
      return utf8Decoder.decode(this.bytes(this.uint()) as Uint8Array<ArrayBuffer>)
    } catch (cause) {
      if (cause instanceof CodecError) throw cause
      throw new CodecError('invalid UTF-8 in a string', { cause })
    }
  }

  rest(): Uint8Array {
    const out = this.#bytes.subarray(this.#at)
    this.#at = this.#bytes.byteLength
    return out
  }
}

/** Seconds since the epoch when `value` is an IMF-fixdate that formats back to itself, else undefined. */
function compactDate(value: string): number | undefined {
  if (value.length !== 29 || !value.endsWith(' GMT')) return undefined
  const ms = Date.parse(value)
  if (!Number.isFinite(ms) || ms < 0 || ms % 1000 !== 0) return undefined
  return new Date(ms).toUTCString() === value ? ms / 1000 : undefined
}

/** Writes header fields (names are lower-case in a stored entry; others are written literally). */
export function writeHeaders(w: Writer, headers: ReadonlyArray<readonly [string, string]>): void {
  w.uint(headers.length)
  for (const [name, value] of headers) {
    const field = staticField(name, value)
    if (field !== undefined) {
      w.uint(FIELD_BASE + field)
      continue
    }
    const date = dateName(name)
    const seconds = date === undefined ? undefined : compactDate(value)
    if (date !== undefined && seconds !== undefined) {
      w.uint(DATE_BASE + date)
      w.uint(seconds)
      continue
    }
    const known = staticName(name)
    if (known !== undefined) w.uint(NAME_BASE + known)
    else {
      w.uint(0)
      w.str(name)
    }
    w.str(value)
  }
}

export function readHeaders(r: Reader): Array<[string, string]> {
  const count = r.uint()
  const headers: Array<[string, string]> = []
  for (let i = 0; i < count; i++) {
    const code = r.uint()
    if (code === 0) headers.push([r.str(), r.str()])
    else if (code < FIELD_BASE) headers.push([STATIC_NAMES[code - NAME_BASE]!, r.str()])
    else if (code < DATE_BASE) {
      const [name, value] = STATIC_FIELDS[code - FIELD_BASE]!
      headers.push([name, value])
    } else if (code < CODE_END) headers.push([DATE_NAMES[code - DATE_BASE]!, new Date(r.uint() * 1000).toUTCString()])
    else throw new CodecError(`unknown field code ${code}`)
  }
  return headers
}

const writeStrings = (w: Writer, list: readonly string[]): void => {
  w.uint(list.length)
  for (const s of list) w.str(s)
}

const readStrings = (r: Reader): string[] => {
  const count = r.uint()
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(r.str())
  return out
}

/** The numbers of an entry, in their stored order (the edge form's metadata field reuses it). */
export function writeEntryNumbers(w: Writer, entry: Omit<CacheEntry, 'body' | 'headers' | 'tags' | 'kind'>): void {
  w.uint(entry.status)
  w.num(entry.bornAt)
  // The fill time as an offset from the birth time: a few bytes instead of seven.
  w.num(entry.storedAt - entry.bornAt)
  w.num(entry.lifetimeMs)
  w.num(entry.swrMs)
  w.num(entry.sieMs)
  w.uint(entry.flags)
  w.num(entry.purgeSeq)
}

export type EntryNumbers = Pick<CacheEntry, 'status' | 'bornAt' | 'storedAt' | 'lifetimeMs' | 'swrMs' | 'sieMs' | 'flags' | 'purgeSeq'>

export function readEntryNumbers(r: Reader): EntryNumbers {
  const status = r.uint()
  if (status < 100 || status > 999) throw new CodecError(`invalid status ${status}`)
  const bornAt = r.num()
  const storedAt = bornAt + r.num()
  return { status, bornAt, storedAt, lifetimeMs: r.num(), swrMs: r.num(), sieMs: r.num(), flags: r.uint(), purgeSeq: r.num() }
}

/** An entry's payload: numbers, headers, tags, then the body to the end. */
export function writeEntry(w: Writer, entry: CacheEntry): void {
  writeEntryNumbers(w, entry)
  writeHeaders(w, entry.headers)
  writeStrings(w, entry.tags)
  w.raw(entry.body)
}

/** Reads an entry's payload; `body` is a view of the input (the caller copies it if it must). */
export function readEntry(r: Reader): CacheEntry {
  const numbers = readEntryNumbers(r)
  const headers = readHeaders(r)
  const tags = readStrings(r)
  return { kind: 'entry', ...numbers, headers, body: r.rest(), tags }
}

/** A vary index's payload: the names, the variants, the expiry. Nothing may follow. */
export function writeVary(w: Writer, index: VaryIndex): void {
  writeStrings(w, index.varyOn)
  writeStrings(w, index.variants)
  w.num(index.expiresAt)
}

export function readVary(r: Reader): VaryIndex {
  const varyOn = readStrings(r)
  const variants = readStrings(r)
  const expiresAt = r.num()
  if (r.rest().byteLength !== 0) throw new CodecError('invalid meta: vary index with a body')
  return { kind: 'vary', varyOn, variants, expiresAt }
}
