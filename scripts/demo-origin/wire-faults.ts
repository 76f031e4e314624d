/**
 * @module Wire faults: the route answers as usual, then its reply goes out broken at the socket level, the
 * way real origins and middleboxes misbehave (a status no client can represent, interim 1xx answers, bodies
 * shorter than declared, connections reset mid-body, bodies that never end). They let any path, `/sie` and
 * `/public/:id` included, be made to misbehave, so the cache's handling of a broken answer (502/504, nothing
 * partial stored, leases released, stale-if-error) is tested with that path's real cache headers.
 *
 * What the runtime makes of these bytes was measured against workerd 1.20260730 (`fetch` from a worker):
 * - `999 Unknown` reaches the worker as status 999; `new Response(body, { status: 999 })` then throws a
 *   RangeError (only 200..599 may be constructed).
 * - `2xx Garbage` reaches it as status **2** (the parser takes the leading digits, statusText `xx Garbage`).
 *   A status line with no digits or no space makes `fetch` reject ("internal error") instead.
 * - `103 Early Hints` then a `200` reaches it as status **103**, with the `200`'s status line and header
 *   section inside the body stream; `103` then a close gives status 103 and an empty body.
 * - a body shorter than its `Content-Length`, a reset mid-body and a chunked body without its last chunk
 *   all reject the body read with "Network connection lost."
 *
 * Everything is written with raw bytes except `early-hints` and `drip`, which node's API expresses
 * (`writeEarlyHints`, `write` + a later `end`). Raw replies carry `Connection: close` and end the
 * connection, so no later request can share a socket with broken framing.
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { HeaderMap } from './http.ts'

/**
 * The wire-fault modes. Body faults need a body: for HEAD and for statuses without content (204, 205, 304)
 * they send the reply's header section and close the connection.
 *
 * - `status-999`: the reply with its status replaced by `999 Unknown`.
 * - `garbage-status`: the reply under the status line `HTTP/1.1 2xx Garbage` (a client sees status 2).
 * - `early-hints`: `103 Early Hints` (with a `Link` field), then the normal reply.
 * - `early-hints-close`: `103 Early Hints`, then the connection closes (FIN), no final response.
 * - `short-body`: the reply's header section, its `Content-Length` (100 when the body is empty), then a FIN
 *   with no body bytes.
 * - `reset-mid-body`: `Content-Length`, the first half of the body, then (50 ms later) a TCP reset.
 * - `reset-mid-chunked`: `Transfer-Encoding: chunked`, the first half as one chunk, then a TCP reset.
 * - `endless-body`: `Content-Length: 1048576`, the body, then a filler line every 100 ms until the client
 *   leaves (the declared length is never reached).
 * - `endless-chunked`: chunked, the body as the first chunk, then a filler chunk every 100 ms until the
 *   client leaves (the last chunk never comes).
 * - `drip`: the normal reply (same status, headers and `Content-Length`), sent as its header section and the
 *   first half of the body; the rest waits until {@link DripValve.release} (`POST /__origin/drip/release`).
 *   Proves a cache streams what it does not store: the client can hold the first bytes while the origin
 *   still holds the rest.
 * - `chunked`: not a fault but a framing — the normal reply with `Transfer-Encoding: chunked` (64 KiB
 *   chunks) instead of `Content-Length`, so a cache cannot know the body's length before it has read it.
 */
export const WIRE_FAULT_MODES = [
  'status-999',
  'garbage-status',
  'early-hints',
  'early-hints-close',
  'short-body',
  'reset-mid-body',
  'reset-mid-chunked',
  'endless-body',
  'endless-chunked',
  'drip',
  'chunked',
] as const
export type WireFaultMode = (typeof WIRE_FAULT_MODES)[number]

/**
 * Pause between the half body and the reset of the `reset-mid-*` modes. Reset straight after the write
 * and a Linux client often sees a clean end instead of ECONNRESET (measured: node's `resetAndDestroy` from
 * the write callback, 0 resets in 10; after 10 ms, 20 in 20).
 */
export const RESET_AFTER_MS = 50
/** Size of each chunk the `chunked` mode sends. */
export const CHUNKED_PIECE_BYTES = 64 * 1024
/** Interval between filler chunks of the endless modes. */
export const ENDLESS_TICK_MS = 100
/** What `endless-body` declares: far more than it will send in any test's lifetime (≈ 3 h of ticks). */
export const ENDLESS_DECLARED_BYTES = 1024 * 1024
/** What `short-body` declares when the reply's own body is empty. */
export const SHORT_BODY_EMPTY_DECLARED = 100
/** The `Link` field of the interim `103` (RFC 8297). */
export const EARLY_HINTS_LINK = '</demo-origin.css>; rel=preload; as=style'
/** Status line of `garbage-status`. */
export const GARBAGE_STATUS_LINE = 'HTTP/1.1 2xx Garbage'

/** Statuses sent without content (RFC 9110 §15.3.5, §15.3.6, §15.4.5). */
const NO_CONTENT = new Set([204, 205, 304])

export const isWireFault = (mode: string): mode is WireFaultMode => (WIRE_FAULT_MODES as readonly string[]).includes(mode)

/** A reply ready for the wire: final status, every header (serial and `Date` included), body bytes. */
export interface WireReply {
  status: number
  headers: HeaderMap
  body: Uint8Array
}

/** Responses a `drip` fault holds, and the release that lets their bodies finish. */
export class DripValve {
  readonly #held = new Set<() => void>()

  /** Responses currently holding the rest of their body. */
  get held(): number {
    return this.#held.size
  }

  /** Sends the rest of every held body; returns how many were released. */
  release(): number {
    const held = [...this.#held]
    for (const open of held) open()
    return held.length
  }

  /** Resolves on the next {@link release}, or when `signal` aborts (the client left). */
  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#held.delete(done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      if (signal.aborted) return resolve()
      this.#held.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }
}

/** How one wire fault is written: the request it answers and where to wait. */
export interface WireContext {
  method: string
  /** Aborted when the client leaves or the server closes; ends the endless modes and a held drip. */
  signal: AbortSignal
  drip: DripValve
}

const CRLF = '\r\n'

/** A header section (status line, fields, blank line) as bytes; `Connection: close` always added. */
export function headSection(statusLine: string, headers: HeaderMap, framing: Record<string, string>): Buffer {
  const lines = [statusLine]
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') continue
    for (const v of typeof value === 'string' ? [value] : value) lines.push(`${name}: ${v}`)
  }
  for (const [name, value] of Object.entries({ ...framing, Connection: 'close' })) lines.push(`${name}: ${value}`)
  return Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1')
}

/** One chunk of a chunked body (RFC 9112 §7.1). */
const chunk = (bytes: Uint8Array): Buffer => Buffer.concat([Buffer.from(`${bytes.byteLength.toString(16)}${CRLF}`), bytes, Buffer.from(CRLF)])

const reasonOf = (status: number): string => (status === 200 ? 'OK' : 'Demo')

/**
 * Writes `reply` broken the way `mode` says. Resolves once the fault has done all it will do (the
 * connection ended, or for the endless modes and a drip, the client left or the body was released).
 */
export async function writeWireFault(res: ServerResponse, mode: WireFaultMode, reply: WireReply, ctx: WireContext): Promise<void> {
  const socket = res.socket as Socket | null
  if (!socket || socket.destroyed) return
  const hasContent = ctx.method !== 'HEAD' && !NO_CONTENT.has(reply.status)
  const body = hasContent ? reply.body : new Uint8Array(0)
  const half = body.subarray(0, Math.ceil(body.byteLength / 2))
  // HEAD declares the GET body's length (RFC 9110 §9.3.2); statuses without content declare none.
  const length: Record<string, string> = NO_CONTENT.has(reply.status) ? {} : { 'Content-Length': String(reply.body.byteLength) }
  const statusLine = `HTTP/1.1 ${reply.status} ${reasonOf(reply.status)}`

  switch (mode) {
    case 'status-999':
      return endWith(socket, headSection('HTTP/1.1 999 Unknown', reply.headers, length), body)
    case 'garbage-status':
      return endWith(socket, headSection(GARBAGE_STATUS_LINE, reply.headers, length), body)
    case 'early-hints':
      res.writeEarlyHints({ link: EARLY_HINTS_LINK })
      return sendNormally(res, reply, hasContent)
    case 'early-hints-close':
      res.writeEarlyHints({ link: EARLY_HINTS_LINK }, () => socket.end())
      return
    case 'short-body': {
      if (!hasContent) return endWith(socket, headSection(statusLine, reply.headers, length))
      const declared = reply.body.byteLength === 0 ? SHORT_BODY_EMPTY_DECLARED : reply.body.byteLength
      return endWith(socket, headSection(statusLine, reply.headers, { 'Content-Length': String(declared) }))
    }
    case 'reset-mid-body':
      if (!hasContent) return endWith(socket, headSection(statusLine, reply.headers, length))
      socket.write(Buffer.concat([headSection(statusLine, reply.headers, length), half]))
      return resetSoon(socket)
    case 'reset-mid-chunked':
      if (!hasContent) return endWith(socket, headSection(statusLine, reply.headers, length))
      socket.write(Buffer.concat([headSection(statusLine, reply.headers, { 'Transfer-Encoding': 'chunked' }), chunk(half)]))
      return resetSoon(socket)
    case 'endless-body':
    case 'endless-chunked': {
      const chunked = mode === 'endless-chunked'
      const framing: Record<string, string> = chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(ENDLESS_DECLARED_BYTES) }
      if (!hasContent) return endWith(socket, headSection(statusLine, reply.headers, framing))
      const frame = (bytes: Uint8Array) => (chunked ? chunk(bytes) : bytes)
      socket.write(Buffer.concat([headSection(statusLine, reply.headers, framing), frame(body)]))
      return tick(socket, ctx.signal, (n) => frame(Buffer.from(`endless body, tick ${n}\n`)))
    }
    case 'chunked': {
      const framing = { 'Transfer-Encoding': 'chunked' }
      if (!hasContent) return endWith(socket, headSection(statusLine, reply.headers, NO_CONTENT.has(reply.status) ? {} : framing))
      const pieces: Buffer[] = [headSection(statusLine, reply.headers, framing)]
      for (let at = 0; at < body.byteLength; at += CHUNKED_PIECE_BYTES) pieces.push(chunk(body.subarray(at, at + CHUNKED_PIECE_BYTES)))
      pieces.push(Buffer.from(`0${CRLF}${CRLF}`))
      return endWith(socket, Buffer.concat(pieces))
    }
    case 'drip':
      if (!hasContent) return sendNormally(res, reply, false)
      writeHead(res, reply.status, { ...reply.headers, 'Content-Length': String(body.byteLength) })
      res.write(half)
      await ctx.drip.wait(ctx.signal)
      if (!res.destroyed) res.end(body.subarray(half.byteLength))
      return
  }
}

/** Writes the bytes and half-closes (FIN), leaving the client to notice what is missing. */
function endWith(socket: Socket, ...parts: Uint8Array[]): void {
  socket.end(Buffer.concat(parts))
}

/** The reply through node's API, as the server sends any other answer. */
function sendNormally(res: ServerResponse, reply: WireReply, hasContent: boolean): void {
  writeHead(res, reply.status, NO_CONTENT.has(reply.status) ? reply.headers : { ...reply.headers, 'Content-Length': String(reply.body.byteLength) })
  res.end(hasContent ? reply.body : undefined)
}

function writeHead(res: ServerResponse, status: number, headers: HeaderMap): void {
  res.statusCode = status
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, typeof value === 'string' ? value : [...value])
}

/** Resets the connection (TCP RST) {@link RESET_AFTER_MS} after the last write. */
function resetSoon(socket: Socket): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(() => {
      if (!socket.destroyed) socket.resetAndDestroy()
      resolve()
    }, RESET_AFTER_MS)
  )
}

/** Writes `next(n)` every {@link ENDLESS_TICK_MS} until the client leaves. */
function tick(socket: Socket, signal: AbortSignal, next: (n: number) => Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    let n = 0
    const timer = setInterval(() => {
      if (socket.destroyed || signal.aborted) return stop()
      socket.write(next(++n))
    }, ENDLESS_TICK_MS)
    const stop = () => {
      clearInterval(timer)
      signal.removeEventListener('abort', stop)
      resolve()
    }
    signal.addEventListener('abort', stop, { once: true })
    socket.once('close', stop)
  })
}
