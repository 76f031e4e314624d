import { describe, expect, it } from 'vitest'
import {
  CodecFlag,
  base64ToBytes,
  bytesToBase64,
  decodeFromRedis,
  decodeMeta,
  decodeStored,
  encodeForRedis,
  encodeMeta,
  encodeStored,
  encodedSizes,
} from '../src/codec.ts'
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

/** Length of the uncompressed binary form: header, meta length, meta JSON, body. */
function plainLength(stored: Stored): number {
  if (stored.kind === 'vary') return 2 + 4 + utf8.encode(JSON.stringify(stored)).byteLength
  const { body, ...meta } = stored
  return 2 + 4 + utf8.encode(JSON.stringify(meta)).byteLength + body.byteLength
}

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
    it(`round-trips ${name} through the edge meta header`, async () => {
      const body = stored.kind === 'entry' ? stored.body : new Uint8Array(0)
      expect(decodeMeta(encodeMeta(stored), body)).toEqual(stored)
    })
  }

  it('writes version 1 in byte 0 and no flags for a small entry', async () => {
    const stored = entry('hello')
    const bytes = await encodeStored(stored)
    expect([bytes[0], bytes[1]]).toEqual([1, 0])
    expect(bytes.byteLength).toBe(plainLength(stored))
  })

  it('reads only records carrying the version it writes: the same bytes under another version byte are refused', async () => {
    const stored = entry('hello')
    const bytes = await encodeStored(stored)
    expect(await decodeStored(bytes)).toEqual(stored)
    for (const other of [bytes[0]! - 1, bytes[0]! + 1, 255]) {
      const relabelled = bytes.slice()
      relabelled[0] = other
      await expectCodecError(decodeStored(relabelled))
      await expectCodecError(decodeFromRedis(bytesToBase64(relabelled)))
    }
  })

  it('lays out the payload as u32 big-endian meta length, meta JSON, body', async () => {
    const stored = entry('BODY', [['content-type', 'text/plain']])
    const bytes = await encodeStored(stored)
    const { body: _body, ...meta } = stored
    const metaJson = JSON.stringify(meta)
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(2)).toBe(metaJson.length)
    expect(new TextDecoder().decode(bytes.subarray(6, 6 + metaJson.length))).toBe(metaJson)
    expect(new TextDecoder().decode(bytes.subarray(6 + metaJson.length))).toBe('BODY')
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
    expect(encodeMeta(stored)).toBe(encodeMeta(entry('x')))
  })
})

describe('compression', () => {
  it('compresses a large text entry and keeps it when it saves ≥ 10 %', async () => {
    const stored = entry(html(64 * 1024), [['content-type', 'text/html; charset=utf-8']])
    const bytes = await encodeStored(stored)
    expect(bytes[0]).toBe(1)
    expect(bytes[1]).toBe(CodecFlag.Deflate)
    expect(bytes.byteLength).toBeLessThan(plainLength(stored) * 0.1)
  })

  it('compresses entries without a content type and large vary indexes', async () => {
    const noType = entry('a'.repeat(4096))
    expect((await encodeStored(noType))[1]).toBe(CodecFlag.Deflate)
    const bigVary: VaryIndex = { ...vary, variants: Array.from({ length: 200 }, (_, i) => `gzip|en-${i}`) }
    const bytes = await encodeStored(bigVary)
    expect(bytes[1]).toBe(CodecFlag.Deflate)
    expect(await decodeStored(bytes)).toEqual(bigVary)
  })

  it('compresses at a 1024-byte payload but not at 1023', async () => {
    const base = entry('', [['content-type', 'text/plain']])
    const overhead = plainLength(base) - 2
    const at = entry('a'.repeat(1024 - overhead), [['content-type', 'text/plain']])
    const below = entry('a'.repeat(1023 - overhead), [['content-type', 'text/plain']])
    expect(plainLength(at) - 2).toBe(1024)
    expect((await encodeStored(at))[1]).toBe(CodecFlag.Deflate)
    expect(await encodeStored(below)).toHaveLength(plainLength(below))
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
      expect(bytes.byteLength).toBe(plainLength(stored))
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
    expect(bytes.byteLength).toBe(plainLength(stored))
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
    expect(bytes.byteLength).toBe(plainLength(stored))
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

  it('rejects unknown versions 0 and 2', async () => {
    for (const version of [0, 2]) {
      const bytes = await valid()
      bytes[0] = version
      await expectCodecError(decodeStored(bytes))
    }
  })

  it('rejects unknown flag bits', async () => {
    const bytes = await valid()
    bytes[1] = 0b10
    await expectCodecError(decodeStored(bytes))
  })

  it('rejects a payload shorter than the meta length', async () => {
    await expectCodecError(decodeStored(new Uint8Array([1, 0, 0, 0])))
    const bytes = await valid()
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
    await expectCodecError(decodeStored(new Uint8Array([1, CodecFlag.Deflate, 0xff, 0xff, 0xff, 0xff])))
    await expectCodecError(decodeStored(frame(1, CodecFlag.Deflate, utf8.encode('{}'))))
  })

  it('rejects Redis text that is not strict base64', async () => {
    const text = await encodeForRedis(entry('hello'))
    for (const bad of [text.slice(0, -1), `${text}\n`, `${text.slice(0, 4)}!${text.slice(5)}`, '', 'AQ==']) {
      await expectCodecError(decodeFromRedis(bad))
    }
  })

  it('rejects edge meta with an unknown version or garbage', () => {
    const tampered = Buffer.from(encodeMeta(vary), 'base64url')
    tampered[0] = 2
    expect(() => decodeMeta(tampered.toString('base64url'), new Uint8Array(0))).toThrow(CodecError)
    expect(() => decodeMeta('', new Uint8Array(0))).toThrow(CodecError)
    expect(() => decodeMeta('not base64url!', new Uint8Array(0))).toThrow(CodecError)
    expect(() => decodeMeta(Buffer.from('\u0001{"kind":"entry"}').toString('base64url'), new Uint8Array(0))).toThrow(CodecError)
  })

  it('refuses to encode numbers JSON cannot carry', async () => {
    await expectCodecError(encodeStored(entry('x', [], { lifetimeMs: Number.POSITIVE_INFINITY })))
    expect(() => encodeMeta(entry('x', [], { bornAt: Number.NaN }))).toThrow(CodecError)
  })
})

describe('Redis text and edge meta are header- and JSON-safe ASCII', () => {
  it('writes the Redis value as padded standard base64 that JSON carries without escapes', async () => {
    const text = await encodeForRedis(entry(allByteValues(4), [['x-emoji', '😀']]))
    expect(text).toMatch(/^[A-Za-z0-9+/]*={0,2}$/)
    expect(text.length % 4).toBe(0)
    expect(JSON.stringify(text)).toBe(`"${text}"`)
    expect(Buffer.from(base64ToBytes(text)).equals(Buffer.from(await encodeStored(entry(allByteValues(4), [['x-emoji', '😀']]))))).toBe(true)
  })

  it('writes edge meta as unpadded base64url starting with the version byte', () => {
    const meta = encodeMeta(entry('ignored', [['x-emoji', '😀']]))
    expect(meta).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(Buffer.from(meta, 'base64url')[0]).toBe(1)
  })
})

describe('encodedSizes', () => {
  it('reports body, binary and Redis bytes of an uncompressed entry', async () => {
    const stored = entry('x'.repeat(100), [['content-type', 'text/plain']])
    const sizes = await encodedSizes(stored)
    expect(sizes).toEqual({
      bodyBytes: 100,
      storedBytes: plainLength(stored),
      redisBytes: Math.ceil(plainLength(stored) / 3) * 4,
      compressed: false,
    })
    expect(sizes.redisBytes).toBe((await encodeForRedis(stored)).length)
  })

  it('reports a compressed entry from already-encoded bytes without re-encoding', async () => {
    const stored = entry(html(64 * 1024), [['content-type', 'text/html']])
    const bytes = await encodeStored(stored)
    const sizes = await encodedSizes(stored, bytes)
    expect(sizes.bodyBytes).toBe(stored.body.byteLength)
    expect(sizes.storedBytes).toBe(bytes.byteLength)
    expect(sizes.redisBytes).toBe((await encodeForRedis(stored)).length)
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
