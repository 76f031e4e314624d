/**
 * @module Payload endpoints: large and binary bodies to prove the tiers are byte-exact and respect their size
 * limits (design §2 binary-safe envelope, §4.4 per-tier maximum), and `/echo` to show what reached the
 * origin (stripped headers, forwarded bodies).
 *
 * `/large` and `/bytes/:n` bodies are fully deterministic (the serial is only in `X-Origin-Serial`), so a
 * test can compare them byte for byte with {@link largeBody} and {@link seededBytes}.
 */
import { mulberry32Uint } from '../../lib/mulberry32.ts'
import { flattenHeaders, intParam, jsonReply, problem, type Route } from '../http.ts'

/** Largest body `/large` and `/bytes` will build: 64 MiB, beyond any tier limit worth testing. */
const MAX_BYTES = 64 * 1024 * 1024

const LINE = 'tiercache demo origin large body: deterministic filler text for size tests.\n'

/** The exact body of `/large?kb=<kb>`: `kb` KiB of repeating ASCII text. */
export function largeBody(kb: number): Uint8Array {
  const size = kb * 1024
  const line = new TextEncoder().encode(LINE)
  const out = new Uint8Array(size)
  for (let offset = 0; offset < size; offset += line.length) out.set(line.subarray(0, size - offset), offset)
  return out
}


/**
 * The exact body of `/bytes/<n>?seed=<seed>`: the first 256 bytes are every byte value 0x00..0xFF (so NULs,
 * invalid UTF-8 and high bytes are always present once n ≥ 256), the rest seeded pseudo-random bytes.
 */
export function seededBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  const next = mulberry32Uint(seed)
  for (let i = 0; i < n; i++) out[i] = i < 256 ? i : next() & 0xff
  return out
}

/** The payload routes. */
export function payloadRoutes(): Route[] {
  return [
    {
      methods: ['GET'],
      pattern: '/large',
      handle: (req) => {
        const kb = intParam(req.query.get('kb'), 0, MAX_BYTES / 1024, 256)
        if (kb === undefined) return problem(400, `kb must be a whole number 0..${MAX_BYTES / 1024}`)
        return {
          status: 200,
          headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'max-age=60' },
          body: largeBody(kb),
        }
      },
    },
    {
      methods: ['GET'],
      pattern: '/bytes/:n',
      handle: (req) => {
        const n = intParam(req.params['n'], 0, MAX_BYTES)
        const seed = intParam(req.query.get('seed'), 0, 0xffffffff, 1)
        if (n === undefined || seed === undefined) return problem(400, `n must be 0..${MAX_BYTES}, seed 0..2^32-1`)
        return {
          status: 200,
          headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'max-age=60' },
          body: seededBytes(n, seed),
        }
      },
    },
    {
      // Honours one byte range (RFC 9110 §14.2): a 206 with Content-Range, so a cache can store partial
      // content; several ranges, or none, get the whole body.
      methods: ['GET'],
      pattern: '/ranged/:n',
      handle: (req) => {
        const n = intParam(req.params['n'], 1, MAX_BYTES)
        const maxAge = intParam(req.query.get('max-age'), 0, 86_400, 60)
        const swr = intParam(req.query.get('swr'), 0, 86_400, 0)
        if (n === undefined || maxAge === undefined || swr === undefined) return problem(400, `n must be 1..${MAX_BYTES}; max-age, swr 0..86400`)
        const body = seededBytes(n, 7)
        const cacheControl = `max-age=${maxAge}${swr > 0 ? `, stale-while-revalidate=${swr}` : ''}`
        const headers = { 'Content-Type': 'application/octet-stream', 'Cache-Control': cacheControl, ETag: `"ranged-${n}"`, 'Accept-Ranges': 'bytes' }
        const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers['range'] ?? ''))
        if (!range || (range[1] === '' && range[2] === '')) return { status: 200, headers, body }
        const start = range[1] === '' ? Math.max(0, n - Number(range[2])) : Number(range[1])
        const end = range[1] === '' || range[2] === '' ? n - 1 : Math.min(Number(range[2]), n - 1)
        if (start >= n || start > end) return { status: 416, headers: { 'Content-Range': `bytes */${n}` } }
        return { status: 206, headers: { ...headers, 'Content-Range': `bytes ${start}-${end}/${n}` }, body: body.subarray(start, end + 1) }
      },
    },
    {
      // Never stored (no-store), so every call shows exactly what the proxy sent upstream.
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      pattern: '/echo',
      handle: (req) =>
        jsonReply(
          {
            method: req.method,
            url: req.url,
            path: req.path,
            query: Object.fromEntries(req.query),
            headers: flattenHeaders(req.headers),
            body: new TextDecoder().decode(req.body),
            serial: req.serial,
          },
          { 'Cache-Control': 'no-store' }
        ),
    },
  ]
}
