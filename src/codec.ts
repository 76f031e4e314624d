/**
 * @module The one codec for the stored envelope ({@link Stored}). Every tier that leaves the isolate goes
 * through here, so the wire format has one definition and one version:
 *
 * - **Binary** ({@link encodeStored}): `[version u8][flags u8][payload]`, where payload is
 *   `[metaLength u32 BE][meta JSON UTF-8][body bytes]`, deflate-raw compressed when {@link CodecFlag.Deflate}
 *   is set. Meta holds every field except `body` (for a {@link VaryIndex}, everything).
 * - **Redis** ({@link encodeForRedis}): standard base64 of the binary. Upstash REST values travel inside JSON
 *   strings, which cannot carry raw bytes, and the client's own base64 response decoding runs `TextDecoder`
 *   over the result, which would corrupt binary; so the value is ASCII text we decode ourselves.
 * - **Edge** ({@link encodeMeta}): the Cache API stores a `Response`, so the body stays the body and the meta
 *   travels in one header as unpadded base64url of `[version u8][meta JSON UTF-8]`.
 *
 * Anything that cannot be decoded (unknown version, unknown flags, truncated or corrupt bytes, meta of the
 * wrong shape) throws {@link CodecError}; callers treat it as a miss.
 *
 * Compression is applied only where it pays: see {@link COMPRESS_MIN_BYTES}, {@link MAX_COMPRESSED_RATIO}
 * and `worthCompressing` below.
 */
import type { CacheEntry, Stored, VaryIndex } from './entry.ts'
import { entryHeader } from './entry.ts'
import { CodecError } from './errors.ts'

/** Format version written in byte 0 (binary) and in the first decoded byte of the edge meta header. */
export const CODEC_VERSION = 1

/** Bits of byte 1 of the binary form. Unknown bits make the record undecodable (a future format). */
export const CodecFlag = {
  /** The payload is deflate-raw (RFC 1951) compressed. */
  Deflate: 1,
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
  /** Length of the Redis value ({@link encodeForRedis}): base64 of the binary. */
  redisBytes: number
  /** Whether the payload was stored deflate-compressed. */
  compressed: boolean
}

const HEADER_BYTES = 2
const LENGTH_BYTES = 4
const KNOWN_FLAGS = CodecFlag.Deflate
/** Above this payload size a sample is compressed first, so incompressible blobs cost ~32 KiB of deflate. */
const PROBE_MIN_BYTES = 256 * 1024
const PROBE_BYTES = 32 * 1024

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

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
 * @throws {CodecError} if the record has fields JSON cannot round-trip (e.g. a non-finite number).
 */
export async function encodeStored(stored: Stored): Promise<Uint8Array> {
  const meta = utf8Encoder.encode(JSON.stringify(checkedMeta(stored)))
  const body = stored.kind === 'entry' ? stored.body : EMPTY
  const out = new Uint8Array(HEADER_BYTES + LENGTH_BYTES + meta.byteLength + body.byteLength)
  out[0] = CODEC_VERSION
  out[1] = 0
  new DataView(out.buffer).setUint32(HEADER_BYTES, meta.byteLength)
  out.set(meta, HEADER_BYTES + LENGTH_BYTES)
  out.set(body, HEADER_BYTES + LENGTH_BYTES + meta.byteLength)

  const payload = out.subarray(HEADER_BYTES)
  if (!worthCompressing(stored, payload.byteLength)) return out
  if (payload.byteLength >= PROBE_MIN_BYTES && !(await compressesWell(body.subarray(0, PROBE_BYTES)))) return out
  const deflated = await transform(payload, new CompressionStream('deflate-raw'))
  if (deflated.byteLength > payload.byteLength * MAX_COMPRESSED_RATIO) return out
  const compressed = new Uint8Array(HEADER_BYTES + deflated.byteLength)
  compressed[0] = CODEC_VERSION
  compressed[1] = CodecFlag.Deflate
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
 * Encodes a record as the Redis value: ASCII base64 of {@link encodeStored}. The Upstash client must run
 * with `responseEncoding: false` and `automaticDeserialization: false` so the text comes back untouched.
 * @see reference/upstash-and-workers.md §1.5 (why the client's own base64 decoding corrupts binary)
 */
export async function encodeForRedis(stored: Stored): Promise<string> {
  return bytesToBase64(await encodeStored(stored))
}

/**
 * Decodes a Redis value written by {@link encodeForRedis}.
 * @throws {CodecError} if the text is not base64 or the bytes do not decode.
 */
export async function decodeFromRedis(text: string): Promise<Stored> {
  // The decoded buffer is ours alone, so the body may share it (no second multi-MB copy on a Redis hit).
  return decodeBinary(base64ToBytes(text), true)
}

/**
 * Encodes everything but the body for the edge tier, as one header-safe token (unpadded base64url of
 * `[version][meta JSON]`). The body travels as the cached `Response` body; the version byte makes entries
 * written by an older deploy decode as a miss instead of as garbage.
 * @throws {CodecError} if the record has fields JSON cannot round-trip.
 */
export function encodeMeta(stored: Stored): string {
  const json = utf8Encoder.encode(JSON.stringify(checkedMeta(stored)))
  const bytes = new Uint8Array(1 + json.byteLength)
  bytes[0] = CODEC_VERSION
  bytes.set(json, 1)
  return encodeBase64(bytes, BASE64URL, false)
}

/**
 * Rebuilds a record from the edge tier's meta header and the cached response body.
 * @throws {CodecError} on a malformed token, an unknown version, meta of the wrong shape, or a body on a
 * {@link VaryIndex}.
 */
export function decodeMeta(text: string, body: Uint8Array): Stored {
  const bytes = decodeBase64(text, BASE64URL_DECODE, false)
  if (bytes.byteLength < 1) throw new CodecError('truncated meta')
  if (bytes[0] !== CODEC_VERSION) throw new CodecError(`unknown format version ${bytes[0]}`)
  return toStored(parseMeta(bytes.subarray(1)), body)
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
    redisBytes: Math.ceil(bytes.byteLength / 3) * 4,
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

// ---------------------------------------------------------------------------------------------------------

const EMPTY = new Uint8Array(0)

async function decodeBinary(bytes: Uint8Array, owned: boolean): Promise<Stored> {
  if (bytes.byteLength < HEADER_BYTES) throw new CodecError(`truncated record (${bytes.byteLength} bytes)`)
  if (bytes[0] !== CODEC_VERSION) throw new CodecError(`unknown format version ${bytes[0]}`)
  const flags = bytes[1] ?? 0
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new CodecError(`unknown flags 0x${flags.toString(16)}`)
  let payload = bytes.subarray(HEADER_BYTES)
  if (flags & CodecFlag.Deflate) {
    try {
      payload = await transform(payload, new DecompressionStream('deflate-raw'))
    } catch (cause) {
      throw new CodecError('corrupt compressed payload', { cause })
    }
    owned = true
  }
  if (payload.byteLength < LENGTH_BYTES) throw new CodecError('truncated payload')
  const metaLength = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0)
  const bodyStart = LENGTH_BYTES + metaLength
  if (bodyStart > payload.byteLength) throw new CodecError('truncated meta')
  const meta = parseMeta(payload.subarray(LENGTH_BYTES, bodyStart))
  const body = owned ? payload.subarray(bodyStart) : payload.slice(bodyStart)
  return toStored(meta, body)
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

type EntryMeta = Omit<CacheEntry, 'body'>

/** The JSON-able part of a record, with only the contract's fields (never `body`, never stray props). */
function checkedMeta(stored: Stored): EntryMeta | VaryIndex {
  const meta: EntryMeta | VaryIndex =
    stored.kind === 'vary'
      ? { kind: 'vary', varyOn: stored.varyOn, variants: stored.variants, expiresAt: stored.expiresAt }
      : {
          kind: 'entry',
          status: stored.status,
          headers: stored.headers,
          bornAt: stored.bornAt,
          storedAt: stored.storedAt,
          lifetimeMs: stored.lifetimeMs,
          swrMs: stored.swrMs,
          sieMs: stored.sieMs,
          flags: stored.flags,
          tags: stored.tags,
          purgeSeq: stored.purgeSeq,
        }
  // Validate on the way in too: a record that would not decode (NaN, Infinity → null) must fail at the fill.
  const problem = metaProblem(meta)
  if (problem !== undefined) throw new CodecError(`cannot encode: ${problem}`)
  return meta
}

function parseMeta(bytes: Uint8Array): unknown {
  try {
    // (Cast: DOM typings reject views over a SharedArrayBuffer, which never reach here.)
    return JSON.parse(utf8Decoder.decode(bytes as Uint8Array<ArrayBuffer>))
  } catch (cause) {
    throw new CodecError('corrupt meta', { cause })
  }
}

/** Builds the typed record from parsed meta, copying only known fields. */
function toStored(meta: unknown, body: Uint8Array): Stored {
  const problem = metaProblem(meta)
  if (problem !== undefined) throw new CodecError(`invalid meta: ${problem}`)
  const m = meta as EntryMeta | VaryIndex
  if (m.kind === 'vary') {
    if (body.byteLength !== 0) throw new CodecError('invalid meta: vary index with a body')
    return { kind: 'vary', varyOn: m.varyOn, variants: m.variants, expiresAt: m.expiresAt }
  }
  return {
    kind: 'entry',
    status: m.status,
    headers: m.headers,
    body,
    bornAt: m.bornAt,
    storedAt: m.storedAt,
    lifetimeMs: m.lifetimeMs,
    swrMs: m.swrMs,
    sieMs: m.sieMs,
    flags: m.flags,
    tags: m.tags,
    purgeSeq: m.purgeSeq,
  }
}

const ENTRY_NUMBERS = ['bornAt', 'storedAt', 'lifetimeMs', 'swrMs', 'sieMs', 'purgeSeq'] as const

/** Why `meta` is not a valid record, or undefined when it is. */
function metaProblem(meta: unknown): string | undefined {
  if (typeof meta !== 'object' || meta === null) return 'not an object'
  const m = meta as Record<string, unknown>
  if (m.kind === 'vary') {
    if (!isStringArray(m.varyOn)) return 'varyOn'
    if (!isStringArray(m.variants)) return 'variants'
    if (!Number.isFinite(m.expiresAt)) return 'expiresAt'
    return undefined
  }
  if (m.kind !== 'entry') return `kind ${String(m.kind)}`
  if (!Number.isInteger(m.status) || (m.status as number) < 100 || (m.status as number) > 999) return 'status'
  const headers = m.headers
  if (
    !Array.isArray(headers) ||
    !headers.every(
      (h: unknown) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string',
    )
  ) {
    return 'headers'
  }
  for (const name of ENTRY_NUMBERS) if (!Number.isFinite(m[name])) return name
  if (!Number.isInteger(m.flags)) return 'flags'
  if (!isStringArray(m.tags)) return 'tags'
  return undefined
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string')

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
