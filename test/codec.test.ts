import { describe, expect, it } from 'vitest'
import {
  CodecFlag,
  base64ToBytes,
  bytesToBase64,
  decodeFromRedis,
  decodeStored,
  encodeForRedis,
  encodeStored,
  encodedSizes,
  redisTextBytes,
} from '../src/codec.ts'
import { decodeEdgeMeta, encodeEdgeMeta } from '../src/tiers/edge-form.ts'
import type { CacheEntry, Stored, VaryIndex } from '../src/entry.ts'
import { CodecError } from '../src/errors.ts'

const utf8 = new TextEncoder()

function entry(body: Uint8Array | string, headers: Array<[string, string]> = [], extra: Partial<CacheEntry> = {}): CacheEntry {
  return {
    kind: 'entry',
    status: 200,
    headers,
    body: typeof body === 'string' ? utf8.encode(body) : body,
    bornAt: 1_700_000_000_000,
    storedAt: 1_700_000_000_250,
    lifetimeMs: 60_000,
    swrMs: 30_000,
    sieMs: 86_400_000,
    flags: 5,
    tags: ['product:1', 'catalog'],
    purgeSeq: 42,
    ...extra,
  }
}

const vary: VaryIndex = {
  kind: 'vary',
  varyOn: ['accept-encoding', 'accept-language'],
  variants: ['gzip|en', 'br|de-DE'],
  expiresAt: 1_700_000_100_000,
}

/** Deterministic bytes (xorshift32), so sizes and failures reproduce. */
function randomBytes(length: number, seed = 1, modulo = 256): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = (x >>> 0) % modulo
  }
  return out
}

function allByteValues(times: number): Uint8Array {
  const out = new Uint8Array(256 * times)
  for (let i = 0; i < out.length; i++) out[i] = i % 256
  return out
}

/**
 * Length of the uncompressed binary form: the same entry without its body (small, never compressed) plus
 * the body, which the format appends as it is.
 */
async function plainLength(stored: CacheEntry): Promise<number> {
  return (await encodeStored({ ...stored, body: new Uint8Array(0) })).byteLength + stored.body.byteLength
}

/** A version 1 record (0.1.0, still read): `[1][flags][u32 meta length][meta JSON][body]`. */
function v1Frame(stored: Stored): Uint8Array {
  const { body, ...meta } = stored.kind === 'entry' ? stored : { ...stored, body: new Uint8Array(0) }
  const json = utf8.encode(JSON.stringify(meta))
  const out = new Uint8Array(6 + json.byteLength + body.byteLength)
  out[0] = 1
  new DataView(out.buffer).setUint32(2, json.byteLength)
  out.set(json, 6)
  out.set(body, 6 + json.byteLength)
  return out
}

/** An edge round trip: the metadata field and the stored fields as a stored response would carry them. */
function edgeRoundTrip(stored: Stored): Stored {
  const { meta, fields } = encodeEdgeMeta(stored)
  const decoded = decodeEdgeMeta(meta, new Headers(fields))
  return decoded.kind === 'vary' ? decoded : { ...decoded, body: stored.kind === 'entry' ? stored.body : new Uint8Array(0) }
}
const sortedHeaders = (stored: Stored): Stored =>
  stored.kind === 'vary' ? stored : { ...stored, headers: [...stored.headers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) }

const html = (bytes: number): string =>
  '<!doctype html><ul>' + '<li class="item">Product name, price and a short description</li>'.repeat(bytes / 64) + '</ul>'

async function expectCodecError(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(CodecError)
  await promise.catch((error: CodecError) => expect(error.code).toBe('E_CODEC'))
}

describe('encodeStored / decodeStored round-trips', () => {
  const cases: Array<[string, Stored]> = [
    ['a small text entry', entry('hello, world', [['content-type', 'text/plain; charset=utf-8']])],
    ['a JSON entry with non-ASCII', entry(JSON.stringify({ name: 'Zoë', price: 9.5, tags: ['€', '日本'] }), [['content-type', 'application/json'], ['etag', '"v1"']])],
    ['every byte value in the body', entry(allByteValues(16), [['content-type', 'application/octet-stream']])],
    ['an empty body', entry(new Uint8Array(0), [['etag', '"empty"']], { status: 204, tags: [] })],
    ['non-ASCII header values and tags', entry('x', [['content-disposition', "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"], ['x-note', 'naïve ☃']], { tags: ['ü', ''] })],
    ['a vary index', vary],
    ['an empty vary index', { kind: 'vary', varyOn: [], variants: [], expiresAt: 0 }],
  ]

  for (const [name, stored] of cases) {
    it(`round-trips ${name} through the binary form`, async () => {
      expect(await decodeStored(await encodeStored(stored))).toEqual(stored)
    })
    it(`round-trips ${name} through the Redis text`, async () => {
      expect(await decodeFromRedis(await encodeForRedis(stored))).toEqual(stored)
    })
    it(`round-trips ${name} through the edge form (fields as header fields, the rest in the metadata field)`, async () => {
      // A stored response's header fields come back in the order Headers iterates them (sorted by name).
      expect(sortedHeaders(edgeRoundTrip(stored))).toEqual(sortedHeaders(stored))
    })
    it(`still reads ${name} written by format version 1 (JSON metadata, base64 in Redis)`, async () => {
      expect(await decodeStored(v1Frame(stored))).toEqual(stored)
      expect(await decodeFromRedis(bytesToBase64(v1Frame(stored)))).toEqual(stored)
    })
  }

  it('round-trips numbers that are not whole milliseconds, negative offsets and large purge positions exactly', async () => {
    const odd = entry('x', [], { bornAt: 1_700_000_000_000.5, storedAt: 1_699_999_999_000, lifetimeMs: 0.1, swrMs: 2 ** 52, purgeSeq: Number.MAX_SAFE_INTEGER, sieMs: -5 })
    expect(await decodeStored(await encodeStored(odd))).toEqual(odd)
    expect(sortedHeaders(edgeRoundTrip(odd))).toEqual(odd)
  })

  it('round-trips every static-table field and dates that do or do not format back to themselves', async () => {
    const headers: Array<[string, string]> = [
      ['content-type', 'text/html; charset=utf-8'],
      ['content-type', 'text/html;charset=UTF-8'],
      ['date', 'Wed, 02 Dec 2026 07:26:39 GMT'],
      ['last-modified', 'Wednesday, 02-Dec-26 07:26:39 GMT'],
      ['expires', '0'],
      ['x-custom', 'v'],
      ['vary', 'Accept-Encoding'],
    ]
    const stored = entry('x', headers)
    expect(await decodeStored(await encodeStored(stored))).toEqual(stored)
  })

  it('writes version 2 in byte 0 and no flags for a small entry, and no JSON anywhere', async () => {
    const stored = entry('hello', [['content-type', 'text/plain; charset=utf-8'], ['etag', '"v1"']])
    const bytes = await encodeStored(stored)
    expect([bytes[0], bytes[1]]).toEqual([2, 0])
    expect(Buffer.from(bytes).toString('latin1')).not.toMatch(/[{}"]kind|bornAt|content-type/)
    expect(bytes.byteLength).toBe(await plainLength(stored))
  })

  it('keeps a small entry within body + 128 bytes in Redis (issue 11), with a typical origin response', async () => {
    const headers: Array<[string, string]> = [
      ['cache-control', 'max-age=3600'],
      ['content-type', 'text/plain; charset=utf-8'],
      ['date', new Date(1_764_660_000_000).toUTCString()],
      ['etag', '"bench-k17-3f2a9c"'],
      ['last-modified', new Date(1_764_650_000_000).toUTCString()],
    ]
    const body = 'etag resource bench-k17 at 2026-12-02T07:26:39.000Z\n'
    const stored = entry(body, headers, { bornAt: 1_764_660_000_123, storedAt: 1_764_660_000_130, lifetimeMs: 3_600_000, swrMs: 0, sieMs: 0, flags: 0, tags: [], purgeSeq: 1234 })
    const text = await encodeForRedis(stored)
    expect(redisTextBytes(text)).toBeLessThanOrEqual(body.length + 128)
    expect(await decodeFromRedis(text)).toEqual(stored)
  })

  it('reads only versions 1 and 2: the same bytes under another version byte are refused', async () => {
    const stored = entry('hello')
    const bytes = await encodeStored(stored)
    expect(await decodeStored(bytes)).toEqual(stored)
    for (const other of [0, 3, 255]) {
      const relabelled = bytes.slice()
      relabelled[0] = other
      await expectCodecError(decodeStored(relabelled))
      await expectCodecError(decodeFromRedis(bytesToBase64(relabelled)))
    }
  })

  it('lays out the payload as numbers, fields, tags, then the body as it is', async () => {
    const stored = entry('BODY', [['content-type', 'text/plain']], { tags: [] })
    const bytes = await encodeStored(stored)
    expect(new TextDecoder().decode(bytes.subarray(bytes.byteLength - 4))).toBe('BODY')
    // status 200 as a varint, then bornAt: zigzag ×2 of 1_700_000_000_000 in 7 bytes.
    expect([...bytes.subarray(2, 4)]).toEqual([200, 1])
  })

  it('round-trips a 5 MiB random body through Redis text', async () => {
    const stored = entry(randomBytes(5 * 1024 * 1024, 7), [['content-type', 'application/octet-stream']])
    const text = await encodeForRedis(stored)
    const decoded = await decodeFromRedis(text)
    expect(decoded.kind).toBe('entry')
    expect((decoded as CacheEntry).body.byteLength).toBe(5 * 1024 * 1024)
    expect(Buffer.from((decoded as CacheEntry).body).equals(Buffer.from(stored.body))).toBe(true)
  })

  it('round-trips a 4 MiB compressible body, compressed', async () => {
    const stored = entry(html(4 * 1024 * 1024), [['content-type', 'text/html']])
    const bytes = await encodeStored(stored)
    expect(bytes[1]).toBe(CodecFlag.Deflate)
    expect(bytes.byteLength).toBeLessThan(stored.body.byteLength / 50)
    const decoded = (await decodeStored(bytes)) as CacheEntry
    expect(Buffer.from(decoded.body).equals(Buffer.from(stored.body))).toBe(true)
    expect({ ...decoded, body: null }).toEqual({ ...stored, body: null })
  })

  it('returns a body that does not alias the caller’s buffer', async () => {
    const bytes = await encodeStored(entry('abc'))
    const decoded = (await decodeStored(bytes)) as CacheEntry
    bytes.fill(0)
    expect(new TextDecoder().decode(decoded.body)).toBe('abc')
  })

  it('stores only the contract’s fields, not stray properties', async () => {
    const stored = { ...entry('x'), extra: 'leak' } as CacheEntry
    const decoded = await decodeStored(await encodeStored(stored))
    expect(decoded).not.toHaveProperty('extra')
    expect(encodeEdgeMeta(stored).meta).toBe(encodeEdgeMeta(entry('x')).meta)
  })
})

describe('compression', () => {
  it('compresses a large text entry and keeps it when it saves ≥ 10 %', async () => {
    const stored = entry(html(64 * 1024), [['content-type', 'text/html; charset=utf-8']])
    const bytes = await encodeStored(stored)
    expect(bytes[0]).toBe(2)
    expect(bytes[1]).toBe(CodecFlag.Deflate)
    expect(bytes.byteLength).toBeLessThan((await plainLength(stored)) * 0.1)
  })

  it('compresses entries without a content type and large vary indexes', async () => {
    const noType = entry('a'.repeat(4096))
    expect((await encodeStored(noType))[1]).toBe(CodecFlag.Deflate)
    const bigVary: VaryIndex = { ...vary, variants: Array.from({ length: 200 }, (_, i) => `gzip|en-${i}`) }
    const bytes = await encodeStored(bigVary)
    expect(bytes[1]).toBe(CodecFlag.Deflate | CodecFlag.Vary)
    expect(await decodeStored(bytes)).toEqual(bigVary)
  })

  it('compresses at a 1024-byte payload but not at 1023', async () => {
    const base = entry('', [['content-type', 'text/plain']])
    const overhead = (await plainLength(base)) - 2
    const at = entry('a'.repeat(1024 - overhead), [['content-type', 'text/plain']])
    const below = entry('a'.repeat(1023 - overhead), [['content-type', 'text/plain']])
    expect((await plainLength(at)) - 2).toBe(1024)
    expect((await encodeStored(at))[1]).toBe(CodecFlag.Deflate)
    expect(await encodeStored(below)).toHaveLength(await plainLength(below))
    expect((await encodeStored(below))[1]).toBe(0)
  })

  const skipped: Array<[string, Array<[string, string]>]> = [
    ['content-encoding: gzip', [['content-type', 'text/html'], ['content-encoding', 'gzip']]],
    ['content-encoding: br', [['content-encoding', 'br']]],
    ['image/png', [['content-type', 'image/png']]],
    ['image/webp', [['content-type', 'IMAGE/WEBP']]],
    ['video/mp4', [['content-type', 'video/mp4']]],
    ['audio/mpeg', [['content-type', 'audio/mpeg']]],
    ['font/woff2', [['content-type', 'font/woff2']]],
    ['application/zip', [['content-type', 'application/zip']]],
    ['application/gzip', [['content-type', 'application/gzip']]],
    ['application/epub+zip', [['content-type', 'application/epub+zip; x=1']]],
  ]
  for (const [name, headers] of skipped) {
    it(`does not try to compress ${name}, however compressible the bytes`, async () => {
      const stored = entry(html(16 * 1024), headers)
      const bytes = await encodeStored(stored)
      expect(bytes[1]).toBe(0)
      expect(bytes.byteLength).toBe(await plainLength(stored))
    })
  }

  it('compresses image/svg+xml and content-encoding: identity', async () => {
    expect((await encodeStored(entry(html(16 * 1024), [['content-type', 'image/svg+xml']])))[1]).toBe(CodecFlag.Deflate)
    expect((await encodeStored(entry(html(16 * 1024), [['content-encoding', 'identity']])))[1]).toBe(CodecFlag.Deflate)
  })

  it('stores incompressible bytes uncompressed', async () => {
    const stored = entry(randomBytes(64 * 1024, 3), [['content-type', 'application/octet-stream']])
    const bytes = await encodeStored(stored)
    expect(bytes[1]).toBe(0)
    expect(bytes.byteLength).toBe(await plainLength(stored))
  })

  it('drops compression that saves less than 10 %', async () => {
    // 192 symbols ≈ 7.58 bits a byte: deflate wins a few percent, not ten.
    const body = randomBytes(64 * 1024, 11, 192)
    const stored = entry(body, [['content-type', 'application/octet-stream']])
    const rawDeflated = await new Response(
      new Blob([body]).stream().pipeThrough(new CompressionStream('deflate-raw')),
    ).arrayBuffer()
    expect(rawDeflated.byteLength).toBeLessThan(body.byteLength)
    expect(rawDeflated.byteLength).toBeGreaterThan(body.byteLength * 0.9)
    const bytes = await encodeStored(stored)
    expect(bytes[1]).toBe(0)
    expect(bytes.byteLength).toBe(await plainLength(stored))
  })

  it('probes large bodies: an incompressible first 32 KiB skips compression of the rest', async () => {
    const body = new Uint8Array(512 * 1024)
    body.set(randomBytes(32 * 1024, 5))
    const stored = entry(body, [['content-type', 'application/octet-stream']])
    expect((await encodeStored(stored))[1]).toBe(0)
    body.fill(0, 0, 32 * 1024)
    expect((await encodeStored(stored))[1]).toBe(CodecFlag.Deflate)
  })
})

describe('undecodable input throws CodecError (a miss for callers)', () => {
  const valid = async (): Promise<Uint8Array> => encodeStored(entry('hello', [['content-type', 'text/plain']]))
  const compressed = async (): Promise<Uint8Array> => encodeStored(entry(html(16 * 1024)))
  const frame = (version: number, flags: number, meta: Uint8Array, body = new Uint8Array(0)): Uint8Array => {
    const out = new Uint8Array(6 + meta.byteLength + body.byteLength)
    out[0] = version
    out[1] = flags
    new DataView(out.buffer).setUint32(2, meta.byteLength)
    out.set(meta, 6)
    out.set(body, 6 + meta.byteLength)
    return out
  }

  it('rejects empty and one-byte input', async () => {
    await expectCodecError(decodeStored(new Uint8Array(0)))
    await expectCodecError(decodeStored(new Uint8Array([1])))
  })

  it('rejects unknown versions 0 and 3', async () => {
    for (const version of [0, 3]) {
      const bytes = await valid()
      bytes[0] = version
      await expectCodecError(decodeStored(bytes))
    }
  })

  it('rejects unknown flag bits (and, in version 1, the version 2 vary bit)', async () => {
    const bytes = await valid()
    bytes[1] = 0b100
    await expectCodecError(decodeStored(bytes))
    const v1 = v1Frame(entry('hello'))
    v1[1] = CodecFlag.Vary
    await expectCodecError(decodeStored(v1))
  })

  it('rejects a truncated record, an unknown field code, a varint that never ends and invalid UTF-8', async () => {
    await expectCodecError(decodeStored(new Uint8Array([1, 0, 0, 0])))
    await expectCodecError(decodeStored(new Uint8Array([2, 0])))
    const noBody = await encodeStored(entry('', [['x-a', 'b']], { tags: [] }))
    for (let cut = 2; cut < noBody.byteLength; cut++) await expectCodecError(decodeStored(noBody.subarray(0, cut)))
    await expectCodecError(decodeStored(new Uint8Array([2, 0, 200, 1, 0, 0, 0, 0, 0, 0, 0, 1, 250, 1])))
    await expectCodecError(decodeStored(new Uint8Array([2, 0, ...new Array(12).fill(0xff)])))
    await expectCodecError(decodeStored(new Uint8Array([2, 0, 200, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0xff, 1, 0x61])))
    // A status outside 100–999.
    await expectCodecError(decodeStored(new Uint8Array([2, 0, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0])))
  })

  it('rejects a payload shorter than the meta length (version 1)', async () => {
    const bytes = v1Frame(entry('hello', [['content-type', 'text/plain']]))
    const metaLength = new DataView(bytes.buffer).getUint32(2)
    await expectCodecError(decodeStored(bytes.subarray(0, 6 + metaLength - 1)))
  })

  it('rejects meta that is not UTF-8 JSON', async () => {
    await expectCodecError(decodeStored(frame(1, 0, utf8.encode('{"kind":"entry"'))))
    await expectCodecError(decodeStored(frame(1, 0, new Uint8Array([0x7b, 0xff, 0x7d]))))
  })

  it('rejects JSON of the wrong shape', async () => {
    const { body: _body, ...meta } = entry('x')
    const shapes: unknown[] = [
      null,
      [],
      'entry',
      { ...meta, kind: 'other' },
      { ...meta, status: '200' },
      { ...meta, status: 42 },
      { ...meta, headers: [['a']] },
      { ...meta, headers: [['a', 1]] },
      { ...meta, bornAt: null },
      { ...meta, flags: 1.5 },
      { ...meta, tags: [1] },
      { ...vary, variants: 'a' },
      { ...vary, expiresAt: '1' },
    ]
    for (const shape of shapes) {
      await expectCodecError(decodeStored(frame(1, 0, utf8.encode(JSON.stringify(shape)))))
    }
  })

  it('rejects a vary index followed by body bytes', async () => {
    await expectCodecError(decodeStored(frame(1, 0, utf8.encode(JSON.stringify(vary)), new Uint8Array([1]))))
  })

  it('rejects a corrupt or truncated compressed payload', async () => {
    const bytes = await compressed()
    expect(bytes[1]).toBe(CodecFlag.Deflate)
    await expectCodecError(decodeStored(bytes.subarray(0, bytes.byteLength - 10)))
    await expectCodecError(decodeStored(new Uint8Array([2, CodecFlag.Deflate, 0xff, 0xff, 0xff, 0xff])))
    await expectCodecError(decodeStored(frame(1, CodecFlag.Deflate, utf8.encode('{}'))))
  })

  it('rejects Redis text that is neither the byte form nor strict base64', async () => {
    const text = bytesToBase64(await encodeStored(entry(randomBytes(64, 9))))
    for (const bad of [text.slice(0, -1), `${text}\n`, `${text.slice(0, 4)}!${text.slice(5)}`, '', 'AQ==', '\u0002\u0000\u0100']) {
      await expectCodecError(decodeFromRedis(bad))
    }
  })

  it('rejects edge meta with an unknown version, unknown flags or garbage', () => {
    const tampered = Buffer.from(encodeEdgeMeta(vary).meta, 'base64url')
    tampered[0] = 1
    const fields = new Headers()
    expect(() => decodeEdgeMeta(tampered.toString('base64url'), fields)).toThrow(CodecError)
    tampered[0] = 2
    tampered[1] = 0x80
    expect(() => decodeEdgeMeta(tampered.toString('base64url'), fields)).toThrow(CodecError)
    expect(() => decodeEdgeMeta('', fields)).toThrow(CodecError)
    expect(() => decodeEdgeMeta('not base64url!', fields)).toThrow(CodecError)
    expect(() => decodeEdgeMeta(Buffer.from('\u0001{"kind":"entry"}').toString('base64url'), fields)).toThrow(CodecError)
    const trailing = Buffer.concat([Buffer.from(encodeEdgeMeta(entry('x')).meta, 'base64url'), Buffer.from([0])])
    expect(() => decodeEdgeMeta(trailing.toString('base64url'), fields)).toThrow(CodecError)
  })

  it('refuses to encode numbers that cannot round-trip, a status outside 100–999 and negative flags', async () => {
    await expectCodecError(encodeStored(entry('x', [], { lifetimeMs: Number.POSITIVE_INFINITY })))
    await expectCodecError(encodeStored(entry('x', [], { status: 1000 })))
    await expectCodecError(encodeStored(entry('x', [], { flags: -1 })))
    expect(() => encodeEdgeMeta(entry('x', [], { bornAt: Number.NaN }))).toThrow(CodecError)
  })
})

describe('Redis text and edge meta', () => {
  it('writes a mostly-text value one character per byte (U+0000–U+00FF), starting with the version byte', async () => {
    const stored = entry('hello, world', [['content-type', 'text/plain'], ['x-emoji', '😀']])
    const bytes = await encodeStored(stored)
    const text = await encodeForRedis(stored)
    expect(text.charCodeAt(0)).toBe(2)
    expect(Buffer.from(text, 'latin1').equals(Buffer.from(bytes))).toBe(true)
    // Stored as its UTF-8: one byte per byte below 0x80, two above.
    expect(redisTextBytes(text)).toBe(Buffer.byteLength(text, 'utf8'))
    expect(JSON.parse(JSON.stringify(text))).toBe(text)
  })

  it('writes a value that would grow more than base64 does as padded standard base64', async () => {
    const stored = entry(randomBytes(4096, 13), [['content-type', 'application/octet-stream']])
    const text = await encodeForRedis(stored)
    expect(text).toMatch(/^[A-Za-z0-9+/]*={0,2}$/)
    expect(text.length % 4).toBe(0)
    expect(Buffer.from(base64ToBytes(text)).equals(Buffer.from(await encodeStored(stored)))).toBe(true)
    expect(redisTextBytes(text)).toBe(text.length)
  })

  it('writes edge meta as unpadded base64url starting with the version byte', () => {
    const { meta } = encodeEdgeMeta(entry('ignored', [['x-emoji', '😀']]))
    expect(meta).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(Buffer.from(meta, 'base64url')[0]).toBe(2)
  })

  it('keeps the entry\'s fields as header fields and only the reserved ones in the metadata', () => {
    const stored = entry('x', [['content-type', 'text/plain'], ['cache-control', 'max-age=60'], ['etag', '"a"'], ['vary', 'accept-language'], ['cache-tag', 'a,b']])
    const { fields } = encodeEdgeMeta(stored)
    expect(fields).toEqual([['content-type', 'text/plain'], ['etag', '"a"'], ['accept-ranges', 'bytes']])
    const decoded = decodeEdgeMeta(encodeEdgeMeta(stored).meta, new Headers(fields))
    expect(decoded.kind === 'entry' && decoded.reserved).toEqual([['cache-control', 'max-age=60'], ['vary', 'accept-language'], ['cache-tag', 'a,b']])
  })
})

describe('encodedSizes', () => {
  it('reports body, binary and Redis bytes of an uncompressed entry', async () => {
    const stored = entry('x'.repeat(100), [['content-type', 'text/plain']])
    const sizes = await encodedSizes(stored)
    expect(sizes).toEqual({
      bodyBytes: 100,
      storedBytes: await plainLength(stored),
      redisBytes: redisTextBytes(await encodeForRedis(stored)),
      compressed: false,
    })
  })

  it('reports a compressed entry from already-encoded bytes without re-encoding', async () => {
    const stored = entry(html(64 * 1024), [['content-type', 'text/html']])
    const bytes = await encodeStored(stored)
    const sizes = await encodedSizes(stored, bytes)
    expect(sizes.bodyBytes).toBe(stored.body.byteLength)
    expect(sizes.storedBytes).toBe(bytes.byteLength)
    expect(sizes.redisBytes).toBe(redisTextBytes(await encodeForRedis(stored)))
    expect(sizes.compressed).toBe(true)
  })

  it('reports 0 body bytes for a vary index', async () => {
    expect((await encodedSizes(vary)).bodyBytes).toBe(0)
  })
})

describe('bytesToBase64 / base64ToBytes', () => {
  // RFC 4648 §10 test vectors: lengths 0..6 cover every length mod 3 twice.
  const vectors: Array<[string, string]> = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ]
  for (const [plain, encoded] of vectors) {
    it(`encodes "${plain}" as "${encoded}" and back`, () => {
      expect(bytesToBase64(utf8.encode(plain))).toBe(encoded)
      expect(new TextDecoder().decode(base64ToBytes(encoded))).toBe(plain)
    })
  }

  it('uses + and / for bytes 0xfb 0xff 0xbf', () => {
    expect(bytesToBase64(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe('+/+/')
    expect([...base64ToBytes('+/+/')]).toEqual([0xfb, 0xff, 0xbf])
  })

  it('matches Node’s encoder for every byte value at every length mod 3', () => {
    for (const length of [254, 255, 256, 257]) {
      const bytes = allByteValues(2).subarray(0, length)
      const expected = Buffer.from(bytes).toString('base64')
      expect(bytesToBase64(bytes)).toBe(expected)
      expect([...base64ToBytes(expected)]).toEqual([...bytes])
    }
  })

  it('encodes a subarray view, not its whole buffer', () => {
    const view = utf8.encode('xxfooxx').subarray(2, 5)
    expect(bytesToBase64(view)).toBe('Zm9v')
  })

  it('handles 16 MiB without overflowing the stack', () => {
    const bytes = randomBytes(16 * 1024 * 1024, 9)
    const text = bytesToBase64(bytes)
    expect(text).toBe(Buffer.from(bytes).toString('base64'))
    expect(Buffer.from(base64ToBytes(text)).equals(Buffer.from(bytes))).toBe(true)
  })

  it('rejects non-canonical input: bad length, missing padding, inner padding, whitespace, non-ASCII', () => {
    for (const bad of ['Zg=', 'Zg', 'Z', 'Z===', '====', 'Zg==Zg==', 'Zm9v\n', ' Zm9v', 'Zm9-', 'Zm9_', 'Zm9é', 'Zmé', 'Zm😀']) {
      expect(() => base64ToBytes(bad), bad).toThrow(CodecError)
    }
  })
})
