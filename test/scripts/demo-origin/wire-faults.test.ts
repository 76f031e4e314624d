import { describe, expect, it } from 'vitest'
import { parseFaultPatch } from '../../../scripts/demo-origin/faults.ts'
import { startDemoOrigin } from '../../../scripts/demo-origin/server.ts'
import {
  EARLY_HINTS_LINK,
  ENDLESS_DECLARED_BYTES,
  GARBAGE_STATUS_LINE,
  WIRE_FAULT_MODES,
} from '../../../scripts/demo-origin/wire-faults.ts'
import { rawRequest, request, sendJson, useOrigin } from './helpers.ts'

const origin = useOrigin()

/** Splits raw bytes at the first blank line: the header section and what followed it. */
function split(raw: string): { head: string; rest: string } {
  const end = raw.indexOf('\r\n\r\n')
  if (end < 0) throw new Error(`no complete header section in ${JSON.stringify(raw)}`)
  return { head: raw.slice(0, end + 2), rest: raw.slice(end + 4) }
}

/** A header's value in a raw header section (first occurrence). */
function field(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
  return line?.slice(line.indexOf(':') + 1).trim()
}

/** The body `/public/:id` sends for serial `n`. */
const publicBody = (id: string, serial: string | undefined) => `public resource ${id}\nserial ${serial}\n`

/** Settles to 'pending' if `promise` has not settled by the next macrotask. */
const state = (promise: Promise<unknown>) =>
  Promise.race([promise.then(() => 'settled', () => 'settled'), new Promise((r) => setImmediate(() => r('pending')))])

describe('wire faults: the route answers, the wire breaks', () => {
  it('status-999 sends the route reply under status 999, then closes cleanly', async () => {
    origin().setFault({ mode: 'status-999' })
    const conn = rawRequest(origin().url, '/public/w1')
    expect(await conn.closed).toBe('fin')
    const { head, rest } = split(conn.text())
    expect(head.startsWith('HTTP/1.1 999 Unknown\r\n')).toBe(true)
    expect(field(head, 'cache-control')).toBe('public, max-age=60')
    expect(field(head, 'connection')).toBe('close')
    expect(rest).toBe(publicBody('w1', field(head, 'x-origin-serial')))
    expect(field(head, 'content-length')).toBe(String(rest.length))
    expect(origin().stats()).toMatchObject({ requests: 1, byPath: { '/public/w1': 1 } })
  })

  it('garbage-status sends a status line whose code is not three digits', async () => {
    origin().setFault({ mode: 'garbage-status' })
    const conn = rawRequest(origin().url, '/sie')
    expect(await conn.closed).toBe('fin')
    const { head, rest } = split(conn.text())
    expect(head.startsWith(`${GARBAGE_STATUS_LINE}\r\n`)).toBe(true)
    expect(GARBAGE_STATUS_LINE).toBe('HTTP/1.1 2xx Garbage')
    expect(field(head, 'cache-control')).toBe('max-age=1, stale-if-error=60')
    expect(rest).toMatch(/^stale-if-error for 60 s after 1 s\nserial \d+\n$/)
    expect(origin().stats().requests).toBe(1)
  })

  it('early-hints sends 103 with a Link, then the normal 200 on the same connection', async () => {
    origin().setFault({ mode: 'early-hints' })
    const conn = rawRequest(origin().url, '/public/w2')
    const raw = await conn.until((t) => /\r\n\r\n[\s\S]*\r\n\r\npublic resource w2\nserial \d+\n$/.test(t))
    const interim = split(raw)
    expect(interim.head).toBe(`HTTP/1.1 103 Early Hints\r\nLink: ${EARLY_HINTS_LINK}\r\n`)
    const final = split(interim.rest)
    expect(final.head.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true)
    expect(field(final.head, 'cache-control')).toBe('public, max-age=60')
    expect(final.rest).toBe(publicBody('w2', field(final.head, 'x-origin-serial')))
    conn.destroy()
    // A client that knows 1xx (undici) skips the interim answer and gets the 200.
    const res = await fetch(`${origin().url}/public/w2`)
    expect(res.status).toBe(200)
    expect(await res.text()).toMatch(/^public resource w2\n/)
  })

  it('early-hints-close sends only the 103, then closes cleanly', async () => {
    origin().setFault({ mode: 'early-hints-close' })
    const conn = rawRequest(origin().url, '/public/w3')
    expect(await conn.closed).toBe('fin')
    expect(conn.text()).toBe(`HTTP/1.1 103 Early Hints\r\nLink: ${EARLY_HINTS_LINK}\r\n\r\n`)
    expect(origin().stats().requests).toBe(1)
  })

  it('short-body declares the body length, sends no body byte, and closes cleanly', async () => {
    origin().setFault({ mode: 'short-body' })
    const conn = rawRequest(origin().url, '/public/w4')
    expect(await conn.closed).toBe('fin')
    const { head, rest } = split(conn.text())
    expect(head.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true)
    expect(rest).toBe('')
    expect(Number(field(head, 'content-length'))).toBe(publicBody('w4', field(head, 'x-origin-serial')).length)
    expect(field(head, 'cache-control')).toBe('public, max-age=60')
  })

  it('short-body declares 100 bytes when the route body is empty', async () => {
    origin().setFault({ mode: 'short-body' })
    const conn = rawRequest(origin().url, '/large?kb=0')
    expect(await conn.closed).toBe('fin')
    const { head, rest } = split(conn.text())
    expect(field(head, 'content-length')).toBe('100')
    expect(rest).toBe('')
  })

  it('reset-mid-body declares the length, sends the first half, then resets', async () => {
    origin().setFault({ mode: 'reset-mid-body' })
    const conn = rawRequest(origin().url, '/public/w5')
    expect(await conn.closed).toBe('reset')
    const { head, rest } = split(conn.text())
    const full = publicBody('w5', field(head, 'x-origin-serial'))
    expect(field(head, 'content-length')).toBe(String(full.length))
    expect(rest).toBe(full.slice(0, Math.ceil(full.length / 2)))
  })

  it('reset-mid-chunked sends the first half as one chunk, never the last chunk, then resets', async () => {
    origin().setFault({ mode: 'reset-mid-chunked' })
    const conn = rawRequest(origin().url, '/public/w6')
    expect(await conn.closed).toBe('reset')
    const { head, rest } = split(conn.text())
    expect(field(head, 'transfer-encoding')).toBe('chunked')
    expect(field(head, 'content-length')).toBeUndefined()
    const full = publicBody('w6', field(head, 'x-origin-serial'))
    const half = full.slice(0, Math.ceil(full.length / 2))
    expect(rest).toBe(`${half.length.toString(16)}\r\n${half}\r\n`)
  })

  it('chunked sends the whole reply in 64 KiB chunks and the last chunk, no Content-Length, then closes', async () => {
    origin().setFault({ mode: 'chunked' })
    const conn = rawRequest(origin().url, '/bytes/150000')
    expect(await conn.closed).toBe('fin')
    const { head, rest } = split(conn.text())
    expect(field(head, 'transfer-encoding')).toBe('chunked')
    expect(field(head, 'content-length')).toBeUndefined()
    // 150,000 bytes: two 65,536-byte chunks and one of 18,928, then the last chunk.
    const sizes = [...rest.matchAll(/(?:^|\r\n)([0-9a-f]+)\r\n/g)].map((m) => parseInt(m[1]!, 16))
    expect(sizes.slice(0, 3)).toEqual([65_536, 65_536, 18_928])
    expect(rest.endsWith('\r\n0\r\n\r\n')).toBe(true)
  })

  it('endless-body declares a length it never reaches and keeps sending filler until the client leaves', async () => {
    origin().setFault({ mode: 'endless-body' })
    const conn = rawRequest(origin().url, '/public/w7')
    const raw = await conn.until((t) => t.includes('tick 3\n'))
    const { head, rest } = split(raw)
    expect(field(head, 'content-length')).toBe(String(ENDLESS_DECLARED_BYTES))
    expect(rest.startsWith(publicBody('w7', field(head, 'x-origin-serial')))).toBe(true)
    expect(rest).toContain('endless body, tick 1\nendless body, tick 2\n')
    expect(rest.length).toBeLessThan(ENDLESS_DECLARED_BYTES)
    conn.destroy()
  })

  it('endless-chunked sends well-formed chunks, never the last one', async () => {
    origin().setFault({ mode: 'endless-chunked' })
    const conn = rawRequest(origin().url, '/sie')
    const raw = await conn.until((t) => t.includes('tick 2\n\r\n'))
    const { head, rest } = split(raw)
    expect(field(head, 'transfer-encoding')).toBe('chunked')
    const tick1 = 'endless body, tick 1\n'
    expect(rest).toContain(`\r\n${tick1.length.toString(16)}\r\n${tick1}\r\n`)
    expect(rest).not.toContain('\r\n0\r\n\r\n')
    conn.destroy()
  })

  it('body faults on HEAD send the GET header section and close, with no body', async () => {
    for (const mode of ['short-body', 'reset-mid-body', 'endless-body'] as const) {
      origin().setFault({ mode })
      const conn = rawRequest(origin().url, '/public/w8', { method: 'HEAD' })
      expect(await conn.closed, mode).toBe('fin')
      const { head, rest } = split(conn.text())
      expect(head.startsWith('HTTP/1.1 200 OK\r\n'), mode).toBe(true)
      expect(rest, mode).toBe('')
    }
  })

  it('headers-never holds the request even when the fault changes, until the client leaves', async () => {
    origin().setFault({ mode: 'headers-never' })
    const conn = rawRequest(origin().url, '/public/w9')
    await expect.poll(() => origin().stats().requests).toBe(1)
    origin().setFault({ mode: 'ok' })
    expect(await state(conn.closed)).toBe('pending')
    expect(conn.text()).toBe('')
    conn.destroy()
    expect(await conn.closed).toBe('fin')
  })

  it('headers-never requests are dropped when the origin closes', async () => {
    const own = await startDemoOrigin({ port: 0 })
    own.setFault({ mode: 'headers-never' })
    const conn = rawRequest(own.url, '/public/1')
    await expect.poll(() => own.stats().requests).toBe(1)
    await own.close()
    await conn.closed
    expect(conn.text()).toBe('')
  })

  it('drip sends the header section and the first half, then the rest only when released', async () => {
    origin().setFault({ mode: 'drip' })
    const res = await fetch(`${origin().url}/public/w10`)
    expect(res.status).toBe(200)
    const full = publicBody('w10', res.headers.get('x-origin-serial') ?? undefined)
    expect(res.headers.get('content-length')).toBe(String(full.length))
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let received = ''
    while (received.length < Math.ceil(full.length / 2)) received += decoder.decode((await reader.read()).value)
    expect(received).toBe(full.slice(0, Math.ceil(full.length / 2)))
    expect(origin().dripping()).toBe(1)
    const next = reader.read()
    expect(await state(next)).toBe('pending')
    expect(origin().releaseDrip()).toBe(1)
    let chunk = await next
    while (!chunk.done) {
      received += decoder.decode(chunk.value)
      chunk = await reader.read()
    }
    expect(received).toBe(full)
    expect(origin().dripping()).toBe(0)
  })

  it('drip is held and released over HTTP too, and forgets a client that left', async () => {
    origin().setFault({ mode: 'drip' })
    const conn = rawRequest(origin().url, '/no-store')
    await conn.until((t) => t.includes('\r\n\r\n'))
    expect(JSON.parse((await request(`${origin().url}/__origin/drip`)).text)).toEqual({ held: 1 })
    conn.destroy()
    await expect.poll(() => origin().dripping()).toBe(0)
    const held = rawRequest(origin().url, '/no-store')
    await held.until((t) => t.includes('\r\n\r\n'))
    const released = await request(`${origin().url}/__origin/drip/release`, { method: 'POST' })
    expect(JSON.parse(released.text)).toEqual({ released: 1 })
    const raw = await held.until((t) => t.endsWith('serial ' + field(split(t).head, 'x-origin-serial') + '\n'))
    expect(split(raw).rest).toMatch(/^never stored\nserial \d+\n$/)
    held.destroy()
  })

  it('a reset releases held drips', async () => {
    origin().setFault({ mode: 'drip' })
    const res = await fetch(`${origin().url}/public/w11`)
    await expect.poll(() => origin().dripping()).toBe(1)
    origin().reset()
    expect(await res.text()).toMatch(/^public resource w11\nserial \d+\n$/)
  })

  it('counts every faulted request', async () => {
    for (const mode of WIRE_FAULT_MODES) {
      if (mode === 'drip' || mode.startsWith('endless')) continue
      origin().setFault({ mode })
      // `Connection: close`, so `early-hints` (a normal exchange after the 103) ends without keep-alive.
      await rawRequest(origin().url, `/public/${mode}`, { headers: { connection: 'close' } }).closed
    }
    expect(origin().stats().requests).toBe(WIRE_FAULT_MODES.length - 3)
  })

  it('accepts every new mode in a patch, over HTTP too, and still rejects unknown ones', async () => {
    for (const mode of [...WIRE_FAULT_MODES, 'headers-never']) expect(parseFaultPatch({ mode })).toEqual({ mode })
    expect(parseFaultPatch({ mode: 'status-998' })).toMatch(/^mode must be one of ok, error, timeout, headers-never, reset, status-999, /)
    const res = await sendJson(`${origin().url}/__origin/fault`, 'POST', { mode: 'reset-mid-chunked' })
    expect(JSON.parse(res.text)).toMatchObject({ mode: 'reset-mid-chunked' })
    expect(origin().fault().mode).toBe('reset-mid-chunked')
  })

  it('leaves control routes alone during a wire fault', async () => {
    origin().setFault({ mode: 'garbage-status' })
    const res = await request(`${origin().url}/__origin/stats`)
    expect(res.status).toBe(200)
  })
})
