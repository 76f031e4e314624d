/**
 * @module How an entry is kept in the Cache API (format version 2), so that a hit is served with the least
 * work: the stored `Response` is the answer almost as the client gets it.
 *
 * - The body is the body, and the entry's header fields are the stored response's own header fields,
 *   except the few the Cache API itself acts on or that must not reach clients ({@link RESERVED}).
 * - Everything else tiercache needs (status, times, lifetimes, flags, purge position, tags and the
 *   reserved fields) is one header, {@link EDGE_META_HEADER}: unpadded base64url of
 *   `[version = 2][flags][status u16][entry flags u32][bornAt, storedAt, lifetimeMs, swrMs, sieMs,
 *   purgeSeq: f64 each][reserved fields][tags]`, numbers big-endian at fixed offsets (read with one
 *   `DataView` each, and the same length for every entry), fields and tags in the envelope's binary
 *   encoding (src/codec/binary.ts). A hit decodes only this field; the origin's fields are copied natively
 *   by the `Response` constructor and never parsed in JavaScript.
 * - The stored response's `Cache-Control` is ours (the remaining storage time, so the Cache API expires it
 *   on time and never refuses it for the origin's `no-cache`), and `Cache-Tag` lists the purge tags for
 *   Cloudflare's zone purge; neither reaches clients.
 *
 * Entries written by version 1 (`X-Tiercache-Meta`, JSON) are read as a miss: the edge is local to one
 * data centre and refills from Redis, which still reads version 1 (docs/design-notes.md).
 */
import type { CacheEntry, Stored, VaryIndex } from '../entry.ts'
import { CodecError } from '../errors.ts'
import { bytesToBase64Url, CODEC_VERSION, CodecFlag, base64UrlToBytes } from '../codec.ts'
import { Reader, Writer, readHeaders, readVary, writeHeaders, writeVary, type EntryNumbers } from '../codec/binary.ts'
import { metaProblem } from '../codec/v1.ts'

/** Response header that carries tiercache's own fields at the edge. */
export const EDGE_META_HEADER = 'x-tiercache'

/**
 * Entry fields kept in the metadata field rather than as header fields of the stored response: the
 * Cache API acts on `Cache-Control` (ours takes its place) and `Vary`; a stored `Content-Encoding` would
 * make the runtime re-encode a body that is stored decoded; `Content-Range` describes a 206, stored as a
 * 200; and the purge and CDN-only fields never reach clients (src/serve.ts).
 */
export const RESERVED = new Set(['cache-control', 'vary', 'content-encoding', 'content-range', 'cache-tag', 'surrogate-key', 'cloudflare-cdn-cache-control'])

/** Header fields of a stored response that are the edge tier's own (or the Cache API's: `Age`, `CF-Cache-Status`), never part of the entry. */
const EDGE_OWN = new Set([EDGE_META_HEADER, 'x-tiercache-meta', 'x-tiercache-length', 'cache-control', 'cache-tag', 'cf-cache-status', 'content-length', 'age'])

/** Bits of the metadata field's flags byte (byte 1). */
export const EdgeFlag = {
  /** The record is a vary index (no body). */
  Vary: CodecFlag.Vary,
  /** `Accept-Ranges: bytes` was added to the stored response (a 200 the origin gave none): not the entry's. */
  AddedAcceptRanges: 4,
} as const
const KNOWN_FLAGS = EdgeFlag.Vary | EdgeFlag.AddedAcceptRanges
/** The fixed-width numbers after the two header bytes: status u16, flags u32, six f64. */
const NUMBER_FIELDS = ['bornAt', 'storedAt', 'lifetimeMs', 'swrMs', 'sieMs', 'purgeSeq'] as const
const NUMBERS_BYTES = 2 + 4 + 8 * NUMBER_FIELDS.length

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/
/** Field values a `Headers` object keeps exactly: bytes only, no CR/LF/NUL, no surrounding whitespace. */
const EXACT_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/

/**
 * Whether an entry field is kept as a header field of the stored response: not reserved, not the edge's
 * own, and one a `Headers` object stores exactly (an entry built by hand may hold anything; such a field
 * travels in the metadata field instead).
 */
const kept = ([name, value]: readonly [string, string]): boolean =>
  !RESERVED.has(name) && !EDGE_OWN.has(name) && !name.startsWith('x-tiercache') && TOKEN.test(name) && EXACT_VALUE.test(value)

/** The stored response's header fields that are the entry's own, in the order given. */
export function keptFields(entry: CacheEntry): Array<[string, string]> {
  return entry.headers.filter(kept)
}

/**
 * The metadata field for `stored`, and the entry fields to store as header fields.
 * @throws {CodecError} if the record has fields that cannot round-trip.
 */
export function encodeEdgeMeta(stored: Stored): { meta: string; fields: Array<[string, string]> } {
  const problem = metaProblem(stored)
  if (problem !== undefined) throw new CodecError(`cannot encode: ${problem}`)
  const w = new Writer()
  w.byte(CODEC_VERSION)
  if (stored.kind === 'vary') {
    w.byte(EdgeFlag.Vary)
    writeVary(w, stored)
    return { meta: bytesToBase64Url(w.finish()), fields: [] }
  }
  const fields = keptFields(stored)
  // Ranges of a complete stored 200 are served from cache (RFC 9110 §14.3), as src/serve.ts announces.
  const addRanges = stored.status === 200 && !stored.headers.some(([name]) => name === 'accept-ranges')
  w.byte(addRanges ? EdgeFlag.AddedAcceptRanges : 0)
  const fixed = new DataView(new ArrayBuffer(NUMBERS_BYTES))
  fixed.setUint16(0, stored.status)
  fixed.setUint32(2, stored.flags)
  NUMBER_FIELDS.forEach((name, i) => fixed.setFloat64(6 + 8 * i, stored[name]))
  w.raw(new Uint8Array(fixed.buffer))
  writeHeaders(
    w,
    stored.headers.filter((field) => !kept(field))
  )
  w.uint(stored.tags.length)
  for (const tag of stored.tags) w.str(tag)
  if (addRanges) fields.push(['accept-ranges', 'bytes'])
  return { meta: bytesToBase64Url(w.finish()), fields }
}

/**
 * An entry read from the edge: its numbers, tags and reserved fields from the metadata field; its other
 * fields are the stored response's, read only when something asks for `headers` (a hit served by
 * src/serve.ts `serveEdgeHit` never does).
 */
export interface EdgeEntry extends CacheEntry {
  /** The reserved fields (kept in the metadata field), in stored order. */
  readonly reserved: ReadonlyArray<[string, string]>
}

/**
 * Decodes the metadata field of a stored response. For an entry, `headers` is computed on first use from
 * `fields` (the stored response's header fields) and the reserved ones; `body` is empty (the caller reads
 * or streams the stored body).
 * @throws {CodecError} on a malformed field, an unknown version or flags, or a truncated record.
 */
export function decodeEdgeMeta(text: string, fields: Pick<Headers, 'forEach'>): EdgeEntry | VaryIndex {
  const bytes = base64UrlToBytes(text)
  if (bytes.byteLength < 2) throw new CodecError('truncated meta')
  if (bytes[0] !== CODEC_VERSION) throw new CodecError(`unknown format version ${bytes[0]}`)
  const flags = bytes[1]!
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new CodecError(`unknown flags 0x${flags.toString(16)}`)
  if (flags & EdgeFlag.Vary) return readVary(new Reader(bytes, 2))
  if (bytes.byteLength < 2 + NUMBERS_BYTES) throw new CodecError('truncated meta')
  const view = new DataView(bytes.buffer, bytes.byteOffset + 2, NUMBERS_BYTES)
  const status = view.getUint16(0)
  if (status < 100 || status > 999) throw new CodecError(`invalid status ${status}`)
  const numbers: EntryNumbers = {
    status,
    flags: view.getUint32(2),
    bornAt: view.getFloat64(6),
    storedAt: view.getFloat64(14),
    lifetimeMs: view.getFloat64(22),
    swrMs: view.getFloat64(30),
    sieMs: view.getFloat64(38),
    purgeSeq: view.getFloat64(46),
  }
  for (const name of NUMBER_FIELDS) if (!Number.isFinite(numbers[name])) throw new CodecError(`invalid ${name}`)
  const r = new Reader(bytes, 2 + NUMBERS_BYTES)
  const reserved = readHeaders(r)
  const count = r.uint()
  const tags: string[] = []
  for (let i = 0; i < count; i++) tags.push(r.str())
  if (r.rest().byteLength !== 0) throw new CodecError('trailing bytes in meta')
  let headers: Array<[string, string]> | undefined
  const addedRanges = (flags & EdgeFlag.AddedAcceptRanges) !== 0
  const entry = {
    kind: 'entry' as const,
    ...numbers,
    body: EMPTY,
    tags,
    get headers(): Array<[string, string]> {
      if (!headers) {
        const own: Array<[string, string]> = []
        fields.forEach((value, name) => {
          if (EDGE_OWN.has(name) || RESERVED.has(name) || name.startsWith('x-tiercache')) return
          if (addedRanges && name === 'accept-ranges') return
          own.push([name, value])
        })
        headers = [...own, ...reserved]
      }
      return headers
    },
    set headers(value: Array<[string, string]>) {
      headers = value
    },
  }
  // Not enumerable: a copy of the entry (`{ ...entry }`) is a plain entry, served the ordinary way.
  return Object.defineProperty(entry, 'reserved', { value: reserved, enumerable: false }) as EdgeEntry
}

const EMPTY = new Uint8Array(0)
