/**
 * @module The one codec for the stored envelope ({@link Stored}). Redis values go through here, so the
 * wire format has one definition and one version (docs/design-notes.md "Stored envelope", byte by byte):
 *
 * - **Binary** ({@link encodeStored}): `[version u8 = 2][flags u8][payload]`; the payload is a fixed order
 *   of varint-encoded numbers, header fields named through a static table (src/codec/fields.ts), tags and
 *   the body (src/codec/binary.ts), deflate-raw compressed when {@link CodecFlag.Deflate} is set. No JSON.
 * - **Redis** ({@link encodeForRedis}): Upstash REST values travel inside JSON strings, which cannot carry
 *   raw bytes, and are stored as their UTF-8. So each byte becomes the character with that code (U+0000 to
 *   U+00FF): one stored byte for each byte below 0x80, two above. Where that would be larger than base64
 *   (compressed or binary bodies) the value is standard base64 instead. The first character tells them
 *   apart: U+0002 (the version byte itself) for the byte form, a base64 letter otherwise.
 * - **Version 1** (src/codec/v1.ts): JSON metadata, base64 in Redis; still decoded, never written.
 *
 * The edge tier keeps its own form (headers as headers, src/tiers/edge-form.ts), with the same numbers.
 *
 * Anything that cannot be decoded (unknown version, unknown flags, truncated or corrupt bytes, an unknown
 * field code) throws {@link CodecError}; callers treat it as a miss.
 *
 * Compression is applied only where it pays: see {@link COMPRESS_MIN_BYTES}, {@link MAX_COMPRESSED_RATIO}
 * and `worthCompressing` below.
 */
import type { Stored } from './entry.ts'
import { entryHeader } from './entry.ts'
import { CodecError } from './errors.ts'
import { Reader, Writer, readEntry, readVary, writeEntry, writeVary } from './codec/binary.ts'
import { decodeV1Payload, metaProblem } from './codec/v1.ts'

/** Format version written in byte 0 of the binary form. */
export const CODEC_VERSION = 2
/** The previous format (JSON metadata), still decoded. */
export const CODEC_VERSION_1 = 1

/** Bits of byte 1 of the binary form. Unknown bits make the record undecodable (a future format). */
export const CodecFlag = {
  /** The payload is deflate-raw (RFC 1951) compressed. */
  Deflate: 1,
  /** The record is a {@link VaryIndex} (version 2; version 1 said so in its JSON). */
  Vary: 2,
} as const
export type CodecFlag = (typeof CodecFlag)[keyof typeof CodecFlag]

/**
 * Payloads smaller than this are stored as is: below about a kilobyte deflate saves a few hundred bytes at
 * best, which is not worth the CPU on the fill path or the inflate on every Redis hit.
 */
export const COMPRESS_MIN_BYTES = 1024

/** The compressed payload is kept only if it is at most this fraction of the original (saves ≥ 10 %). */
export const MAX_COMPRESSED_RATIO = 0.9

/** Sizes of one encoded record, for stats and the benchmark (bytes in Redis vs bytes of body). */
export interface EncodedSizes {
  /** Body bytes of the entry (0 for a {@link VaryIndex}). */
  bodyBytes: number
  /** Length of the binary form ({@link encodeStored}). */
  storedBytes: number
  /** Bytes the Redis value ({@link encodeForRedis}) occupies as stored (its UTF-8 length). */
  redisBytes: number
  /** Whether the payload was stored deflate-compressed. */
  compressed: boolean
}

const HEADER_BYTES = 2
const KNOWN_FLAGS = CodecFlag.Deflate | CodecFlag.Vary
/** First character of the byte form of a Redis value: the version byte itself, which base64 never starts with. */
const BYTE_FORM_MARK = String.fromCharCode(CODEC_VERSION)
/** Above this payload size a sample is compressed first, so incompressible blobs cost ~32 KiB of deflate. */
const PROBE_MIN_BYTES = 256 * 1024
const PROBE_BYTES = 32 * 1024

const utf8Encoder = new TextEncoder()

/**
 * Media types whose bodies are already compressed, so deflate would burn CPU for nothing. Only a CPU
 * shortcut: everything else (including `application/octet-stream`, which in a cache is as often protobuf or
 * a getOrSet value as a zip) is tried, and the ratio rule and the probe decide.
 */
const PRECOMPRESSED_TYPES = new Set([
  'application/zip',
  'application/gzip',
  'application/x-gzip',
  'application/x-bzip2',
  'application/x-xz',
  'application/x-7z-compressed',
  'application/x-rar-compressed',
  'application/vnd.rar',
  'application/zstd',
  'font/woff',
  'font/woff2',
  'application/font-woff',
])
/** The raster/vector image types that do compress well; every other `image/*` is skipped. */
const COMPRESSIBLE_IMAGES = new Set(['image/svg+xml', 'image/bmp', 'image/x-ms-bmp', 'image/x-icon', 'image/vnd.microsoft.icon'])

/**
 * Encodes a record to its binary form (for Redis, via {@link encodeForRedis}, and for size accounting).
 * Compresses with deflate-raw where it pays; the result always starts with {@link CODEC_VERSION}.
 * @throws {CodecError} if the record has fields that cannot round-trip (a non-finite number, a status
 * outside 100–999, a negative flag word).
 */
export async function encodeStored(stored: Stored): Promise<Uint8Array> {
  // Validate on the way in: a record that would not decode must fail at the fill.
  const problem = metaProblem(stored)
  if (problem !== undefined) throw new CodecError(`cannot encode: ${problem}`)
  const w = new Writer()
  w.byte(CODEC_VERSION)
  w.byte(stored.kind === 'vary' ? CodecFlag.Vary : 0)
  if (stored.kind === 'vary') writeVary(w, stored)
  else writeEntry(w, stored)
  const out = w.finish()

  const payload = out.subarray(HEADER_BYTES)
  if (!worthCompressing(stored, payload.byteLength)) return out
  const body = stored.kind === 'entry' ? stored.body : EMPTY
  if (payload.byteLength >= PROBE_MIN_BYTES && !(await compressesWell(body.subarray(0, PROBE_BYTES)))) return out
  const deflated = await transform(payload, new CompressionStream('deflate-raw'))
  if (deflated.byteLength > payload.byteLength * MAX_COMPRESSED_RATIO) return out
  const compressed = new Uint8Array(HEADER_BYTES + deflated.byteLength)
  compressed[0] = CODEC_VERSION
  compressed[1] = out[1]! | CodecFlag.Deflate
  compressed.set(deflated, HEADER_BYTES)
  return compressed
}

/**
 * Decodes the binary form. The returned body is a copy, so the caller's buffer may be reused.
 * @throws {CodecError} on an unknown version or flags, truncated or corrupt bytes, or meta of the wrong shape.
 */
export async function decodeStored(bytes: Uint8Array): Promise<Stored> {
  return decodeBinary(bytes, false)
}

/**
 * Encodes a record as the Redis value: {@link encodeStored}'s bytes as one character per byte, or standard
 * base64 where that is smaller. The Upstash client must run with `responseEncoding: false` and
 * `automaticDeserialization: false` so the text comes back untouched.
 * @see reference/upstash-and-workers.md §1.5 (why the client's own base64 decoding corrupts binary)
 */
export async function encodeForRedis(stored: Stored): Promise<string> {
  return bytesToRedisText(await encodeStored(stored))
}

/** The Redis text of encoded bytes: the byte form, unless base64 stores fewer bytes. */
export function bytesToRedisText(bytes: Uint8Array): string {
  return byteFormLength(bytes) <= base64Length(bytes.byteLength) ? bytesToChars(bytes) : bytesToBase64(bytes)
}

/** Bytes a Redis value occupies as stored: its UTF-8 length (characters above U+007F take two). */
export function redisTextBytes(text: string): number {
  let n = text.length
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) n++
  return n
}

/**
 * Decodes a Redis value written by {@link encodeForRedis}, or by version 1 (base64 of the JSON form).
 * @throws {CodecError} if the text is neither form or the bytes do not decode.
 */
export async function decodeFromRedis(text: string): Promise<Stored> {
  // The decoded buffer is ours alone, so the body may share it (no second multi-MB copy on a Redis hit).
  return decodeBinary(text.startsWith(BYTE_FORM_MARK) ? charsToBytes(text) : base64ToBytes(text), true)
}

/**
 * Sizes of a record as stored, for stats and the benchmark. Pass the already-encoded binary to avoid
 * encoding twice; without it the record is encoded here.
 */
export async function encodedSizes(stored: Stored, encoded?: Uint8Array): Promise<EncodedSizes> {
  const bytes = encoded ?? (await encodeStored(stored))
  return {
    bodyBytes: stored.kind === 'entry' ? stored.body.byteLength : 0,
    storedBytes: bytes.byteLength,
    redisBytes: Math.min(byteFormLength(bytes), base64Length(bytes.byteLength)),
    compressed: ((bytes[1] ?? 0) & CodecFlag.Deflate) !== 0,
  }
}

/**
 * Standard base64 (RFC 4648 §4, padded). Table-driven over a preallocated buffer: no argument spreading,
 * so multi-MB inputs cannot overflow the stack, and ~3× faster than chunked `btoa(String.fromCharCode(…))`.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  return encodeBase64(bytes, BASE64, true)
}

/**
 * Strict standard base64 decoding: length a multiple of 4, padding only at the end, no whitespace.
 * @throws {CodecError} on any other input.
 */
export function base64ToBytes(text: string): Uint8Array {
  return decodeBase64(text, BASE64_DECODE, true)
}

/** base64url without padding (RFC 4648 §5), the alphabet keys and header tokens use. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes, BASE64URL, false)
}

/**
 * Strict unpadded base64url decoding (the edge tier's metadata field).
 * @throws {CodecError} on any other input.
 */
export function base64UrlToBytes(text: string): Uint8Array {
  return decodeBase64(text, BASE64URL_DECODE, false)
}

// ---------------------------------------------------------------------------------------------------------

const EMPTY = new Uint8Array(0)

async function decodeBinary(bytes: Uint8Array, owned: boolean): Promise<Stored> {
  if (bytes.byteLength < HEADER_BYTES) throw new CodecError(`truncated record (${bytes.byteLength} bytes)`)
  const version = bytes[0]
  if (version !== CODEC_VERSION && version !== CODEC_VERSION_1) throw new CodecError(`unknown format version ${version}`)
  const flags = bytes[1] ?? 0
  const known = version === CODEC_VERSION ? KNOWN_FLAGS : CodecFlag.Deflate
  if ((flags & ~known) !== 0) throw new CodecError(`unknown flags 0x${flags.toString(16)}`)
  let payload = bytes.subarray(HEADER_BYTES)
  if (flags & CodecFlag.Deflate) {
    try {
      payload = await transform(payload, new DecompressionStream('deflate-raw'))
    } catch (cause) {
      throw new CodecError('corrupt compressed payload', { cause })
    }
    owned = true
  }
  const stored = version === CODEC_VERSION_1 ? decodeV1Payload(payload) : flags & CodecFlag.Vary ? readVary(new Reader(payload)) : readEntry(new Reader(payload))
  // The body is a view of the input: copy it unless the input is ours alone.
  if (stored.kind === 'entry' && !owned) stored.body = stored.body.slice()
  return stored
}

/** Length of the byte form: one byte per byte below 0x80, two per byte above (their UTF-8). */
function byteFormLength(bytes: Uint8Array): number {
  let n = bytes.byteLength
  for (let i = 0; i < bytes.byteLength; i++) if (bytes[i]! > 0x7f) n++
  return n
}

const base64Length = (n: number): number => Math.ceil(n / 3) * 4

/** One character per byte (U+0000–U+00FF), built in slices so large values cannot overflow the stack. */
function bytesToChars(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.byteLength; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192))
  return out
}

function charsToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c > 0xff) throw new CodecError('invalid character in a Redis value')
    out[i] = c
  }
  return out
}

/** Whether deflate is worth trying at all: big enough and not an already-compressed representation. */
function worthCompressing(stored: Stored, payloadBytes: number): boolean {
  if (payloadBytes < COMPRESS_MIN_BYTES) return false
  if (stored.kind === 'vary') return true
  const encoding = entryHeader(stored, 'content-encoding')
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return false
  const contentType = entryHeader(stored, 'content-type')
  return contentType === undefined || !isPrecompressedType(contentType)
}

function isPrecompressedType(contentType: string): boolean {
  const media = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase()
  if (media.startsWith('image/')) return !COMPRESSIBLE_IMAGES.has(media)
  if (media.startsWith('video/') || media.startsWith('audio/')) return true
  if (media.endsWith('+zip') || media.endsWith('+gzip')) return true
  return PRECOMPRESSED_TYPES.has(media)
}

async function compressesWell(sample: Uint8Array): Promise<boolean> {
  const deflated = await transform(sample, new CompressionStream('deflate-raw'))
  return deflated.byteLength <= sample.byteLength * MAX_COMPRESSED_RATIO
}

/** Runs bytes through a (de)compression stream; write and read concurrently so backpressure cannot stall. */
async function transform(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const writer = stream.writable.getWriter()
  // (Cast: DOM typings reject views over a SharedArrayBuffer, which never reach here.)
  const written = writer.write(bytes as Uint8Array<ArrayBuffer>).then(() => writer.close())
  const [, out] = await Promise.all([written, new Response(stream.readable).arrayBuffer()])
  return new Uint8Array(out)
}

// Base64 (RFC 4648 §4) and base64url (§5), table-driven. ---------------------------------------------------

const PAD = 61 // '='
const INVALID = 0xff
const BASE64 = alphabet('+/')
const BASE64URL = alphabet('-_')
const BASE64_DECODE = reverse(BASE64)
const BASE64URL_DECODE = reverse(BASE64URL)
const asciiDecoder = new TextDecoder()

function alphabet(last2: string): Uint8Array {
  const chars = `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789${last2}`
  return Uint8Array.from(chars, (c) => c.charCodeAt(0))
}

function reverse(table: Uint8Array): Uint8Array {
  const out = new Uint8Array(256).fill(INVALID)
  table.forEach((code, index) => {
    out[code] = index
  })
  return out
}

function encodeBase64(bytes: Uint8Array, table: Uint8Array, pad: boolean): string {
  const n = bytes.byteLength
  const whole = n - (n % 3)
  const tail = n - whole
  const out = new Uint8Array((whole / 3) * 4 + (tail === 0 ? 0 : pad ? 4 : tail + 1))
  let o = 0
  for (let i = 0; i < whole; i += 3) {
    const t = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out[o++] = table[t >> 18]!
    out[o++] = table[(t >> 12) & 63]!
    out[o++] = table[(t >> 6) & 63]!
    out[o++] = table[t & 63]!
  }
  if (tail !== 0) {
    const t = (bytes[whole]! << 16) | (tail === 2 ? bytes[whole + 1]! << 8 : 0)
    out[o++] = table[t >> 18]!
    out[o++] = table[(t >> 12) & 63]!
    if (tail === 2) out[o++] = table[(t >> 6) & 63]!
    else if (pad) out[o++] = PAD
    if (pad) out[o++] = PAD
  }
  return asciiDecoder.decode(out)
}

function decodeBase64(text: string, table: Uint8Array, padded: boolean): Uint8Array {
  // Non-ASCII characters encode to bytes ≥ 0x80, which the table marks invalid.
  const src = utf8Encoder.encode(text)
  let end = src.byteLength
  if (padded) {
    if (end % 4 !== 0) throw new CodecError('invalid base64 length')
    if (end > 0 && src[end - 1] === PAD) end -= src[end - 2] === PAD ? 2 : 1
  }
  const tail = end % 4
  if (tail === 1) throw new CodecError('invalid base64 length')
  const whole = end - tail
  const out = new Uint8Array((whole / 4) * 3 + (tail === 0 ? 0 : tail - 1))
  let o = 0
  for (let i = 0; i < whole; i += 4) {
    const a = table[src[i]!]!
    const b = table[src[i + 1]!]!
    const c = table[src[i + 2]!]!
    const d = table[src[i + 3]!]!
    if ((a | b | c | d) & 0xc0) throw new CodecError('invalid base64 character')
    const t = (a << 18) | (b << 12) | (c << 6) | d
    out[o++] = t >> 16
    out[o++] = (t >> 8) & 0xff
    out[o++] = t & 0xff
  }
  if (tail !== 0) {
    const a = table[src[whole]!]!
    const b = table[src[whole + 1]!]!
    const c = tail === 3 ? table[src[whole + 2]!]! : 0
    if ((a | b | c) & 0xc0) throw new CodecError('invalid base64 character')
    const t = (a << 18) | (b << 12) | (c << 6)
    out[o++] = t >> 16
    if (tail === 3) out[o++] = (t >> 8) & 0xff
  }
  return out
}
