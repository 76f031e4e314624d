/**
 * @module Reading format version 1 (0.1.0): `[1][flags][payload]`, payload `[metaLength u32 BE][meta JSON
 * UTF-8][body]`, deflate-raw compressed when flag bit 0 is set, kept in Redis as standard base64. Only read,
 * never written: Redis values written before the upgrade stay readable until they expire, so a deploy does
 * not turn the worldwide tier cold at once (docs/design-notes.md "Stored envelope").
 */
import type { CacheEntry, Stored, VaryIndex } from '../entry.ts'
import { CodecError } from '../errors.ts'

const LENGTH_BYTES = 4
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Decodes a version 1 payload (after the two header bytes, already inflated); `body` may share `payload`. */
export function decodeV1Payload(payload: Uint8Array): Stored {
  if (payload.byteLength < LENGTH_BYTES) throw new CodecError('truncated payload')
  const metaLength = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0)
  const bodyStart = LENGTH_BYTES + metaLength
  if (bodyStart > payload.byteLength) throw new CodecError('truncated meta')
  let meta: unknown
  try {
    // (Cast: DOM typings reject views over a SharedArrayBuffer, which never reach here.)
    meta = JSON.parse(utf8Decoder.decode(payload.subarray(LENGTH_BYTES, bodyStart) as Uint8Array<ArrayBuffer>))
  } catch (cause) {
    throw new CodecError('corrupt meta', { cause })
  }
  return toStored(meta, payload.subarray(bodyStart))
}

type EntryMeta = Omit<CacheEntry, 'body'>

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
export function metaProblem(meta: unknown): string | undefined {
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
    !headers.every((h: unknown) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string')
  ) {
    return 'headers'
  }
  for (const name of ENTRY_NUMBERS) if (!Number.isFinite(m[name])) return name
  if (!Number.isInteger(m.flags) || (m.flags as number) < 0) return 'flags'
  if (!isStringArray(m.tags)) return 'tags'
  return undefined
}

const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string')
