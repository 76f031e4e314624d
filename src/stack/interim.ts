/**
 * @module Recovering the final response when the runtime hands an interim one back as final.
 *
 * RFC 9110 §15.2: a 1xx is interim, and "a client MUST be able to parse one or more 1xx responses received
 * prior to a final response". workerd's `fetch` does not: given `103 Early Hints` (or `102 Processing`)
 * before the real answer, it resolves with status 103 and puts the rest of the connection — the final
 * response's status line, header section and body, as sent on the wire — into the body stream. This reads
 * that stream as HTTP/1.1 (RFC 9112 §4, §5, §6: status line, fields, then a body delimited by chunked
 * transfer coding, Content-Length, or the end of the connection), skipping any further 1xx, and gives back
 * the final response. When it cannot (the connection closed after the 1xx, or the bytes are not a
 * response) the caller answers 502 as for any unusable origin answer.
 */

import { concatBytes, firstBytes, resumed } from '../body-stream.ts'

/** Largest header section read while looking for the final status line. */
const MAX_HEAD_BYTES = 64 * 1024
const decoder = new TextDecoder('latin1')

/** The final response embedded in an interim one's body, or undefined when there is none. */
export async function finalAfterInterim(interim: Response): Promise<Response | undefined> {
  if (!interim.body) return undefined
  const reader = interim.body.getReader()
  let buffer: Uint8Array = new Uint8Array(0)
  for (;;) {
    const end = headEnd(buffer)
    if (end >= 0) {
      const head = parseHead(decoder.decode(buffer.subarray(0, end)))
      if (!head) break
      buffer = buffer.subarray(end + 4)
      if (head.status < 200) continue
      const headers = head.headers
      const chunked = /(^|,)\s*chunked\s*$/i.test(headers.get('transfer-encoding') ?? '')
      headers.delete('transfer-encoding')
      const length = headers.get('content-length')
      const raw = resumed([buffer], reader)
      // Framing (RFC 9112 §6.3): chunked, else Content-Length (the connection may stay open after it),
      // else the end of the connection.
      const body = chunked ? raw.pipeThrough(dechunk()) : length !== null && /^\d+$/.test(length) ? firstBytes(raw, Number(length)) : raw
      const nullBody = head.status === 204 || head.status === 205 || head.status === 304
      if (nullBody) void body.cancel().catch(() => {})
      return new Response(nullBody ? null : body, { status: head.status, statusText: head.reason, headers })
    }
    if (buffer.byteLength > MAX_HEAD_BYTES) break
    const { done, value } = await reader.read()
    if (done) break
    buffer = concatBytes([buffer, value])
  }
  void reader.cancel().catch(() => {})
  return undefined
}

/** Index of the CRLF CRLF that ends a header section, or −1. */
function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.byteLength; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i
  }
  return -1
}

/** A status line and field lines (RFC 9112 §4, §5), or undefined when they are not well formed. */
function parseHead(text: string): { status: number; reason: string; headers: Headers } | undefined {
  const [statusLine = '', ...lines] = text.split('\r\n')
  const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine)
  if (!match) return undefined
  const headers = new Headers()
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0) return undefined
    try {
      headers.append(line.slice(0, colon), line.slice(colon + 1).trim())
    } catch {
      return undefined
    }
  }
  return { status: Number(match[1]), reason: match[2] ?? '', headers }
}

/** Decodes the chunked transfer coding (RFC 9112 §7.1); trailers are dropped. */
function dechunk(): TransformStream<Uint8Array, Uint8Array> {
  let pending: Uint8Array = new Uint8Array(0)
  let state: 'size' | 'data' | 'crlf' | 'done' = 'size'
  let remaining = 0
  return new TransformStream({
    transform(chunk, controller) {
      pending = concatBytes([pending, chunk])
      for (;;) {
        if (state === 'size') {
          const eol = indexOfCrlf(pending)
          if (eol < 0) return
          const size = Number.parseInt(decoder.decode(pending.subarray(0, eol)).split(';')[0] ?? '', 16)
          if (!Number.isFinite(size) || size < 0) throw new Error('malformed chunk size')
          pending = pending.subarray(eol + 2)
          if (size === 0) state = 'done'
          else [state, remaining] = ['data', size]
        } else if (state === 'data') {
          if (pending.byteLength === 0) return
          const take = Math.min(remaining, pending.byteLength)
          controller.enqueue(pending.slice(0, take))
          pending = pending.subarray(take)
          remaining -= take
          if (remaining === 0) state = 'crlf'
        } else if (state === 'crlf') {
          if (pending.byteLength < 2) return
          pending = pending.subarray(2)
          state = 'size'
        } else {
          return
        }
      }
    },
    flush() {
      if (state !== 'done') throw new Error('chunked body ended early')
    },
  })
}

function indexOfCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.byteLength; i++) if (bytes[i] === 13 && bytes[i + 1] === 10) return i
  return -1
}
