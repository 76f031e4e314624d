/**
 * @module
 * RESP2, the wire protocol of `redis-server`: an encoder for commands (and, for tests and tooling,
 * for replies) and an incremental, binary-safe reply parser.
 *
 * Why RESP2 and not RESP3: the Upstash REST API answers with RESP2 semantics (flat hash arrays,
 * doubles as strings), which is exactly what `@upstash/redis` expects, so the local server never
 * sends `HELLO 3` (reference `upstash-and-workers.md` §1.4 and §6.1).
 *
 * Why bytes: bulk strings are kept as `Uint8Array` so `Upstash-Encoding: base64` can return binary
 * values unchanged (§1.5, §6.5). Integers keep Redis's exact digits so values beyond 2^53 survive (§6.5).
 */
import { Buffer } from 'node:buffer'

/** One RESP2 reply. `null` covers both the null bulk string (`$-1`) and the null array (`*-1`). */
export type RespReply =
  | { readonly kind: 'status'; readonly value: string }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'integer'; readonly digits: string }
  | { readonly kind: 'bulk'; readonly bytes: Uint8Array }
  | { readonly kind: 'null' }
  | { readonly kind: 'array'; readonly items: readonly RespReply[] }

/** A command argument: text is sent as UTF-8, bytes are sent unchanged. */
export type RespArg = string | Uint8Array

/** Thrown when the byte stream is not valid RESP2; the connection that produced it must be dropped. */
export class RespProtocolError extends Error {
  override readonly name = 'RespProtocolError'
}

const CRLF = Buffer.from('\r\n')

/**
 * Encodes one command as a RESP2 array of bulk strings, the only request form Redis accepts from clients.
 * @example encodeCommand(['SET', 'k', 'v']) // "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
 */
export function encodeCommand(args: readonly RespArg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength)
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF)
  }
  return Buffer.concat(parts)
}

/** Encodes a reply as Redis would send it. Used by tests (round trips) and a fake Redis. */
export function encodeReply(reply: RespReply): Buffer {
  switch (reply.kind) {
    case 'status':
      return Buffer.from(`+${reply.value}\r\n`)
    case 'error':
      return Buffer.from(`-${reply.message}\r\n`)
    case 'integer':
      return Buffer.from(`:${reply.digits}\r\n`)
    case 'null':
      return Buffer.from('$-1\r\n')
    case 'bulk':
      return Buffer.concat([Buffer.from(`$${reply.bytes.byteLength}\r\n`), reply.bytes, CRLF])
    case 'array':
      return Buffer.concat([Buffer.from(`*${reply.items.length}\r\n`), ...reply.items.map(encodeReply)])
  }
}

/** An array whose header has been read but whose items have not all arrived yet. */
type OpenArray = { readonly items: RespReply[]; remaining: number }

const INCOMPLETE = Symbol('incomplete')

/**
 * Incremental RESP2 reply parser. Feed it socket chunks of any size with `push`; it returns every
 * reply completed so far, in order.
 *
 * It keeps an explicit stack of open arrays, so bytes are consumed as soon as an element is complete,
 * and it remembers how many bytes a partial bulk string still needs, so a 10 MB value arriving in
 * 64 KB chunks is copied once rather than once per chunk.
 */
export class RespParser {
  #chunks: Buffer[] = []
  #buffered = 0
  /** Do not try to parse again until at least this many bytes are buffered. */
  #needed = 0
  readonly #stack: OpenArray[] = []

  /** Adds bytes and returns the replies they complete. Throws {@link RespProtocolError} on garbage. */
  push(chunk: Uint8Array): RespReply[] {
    if (chunk.byteLength === 0) return []
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    this.#buffered += chunk.byteLength
    if (this.#buffered < this.#needed) return []
    const buf = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#buffered)
    const done: RespReply[] = []
    let pos = 0
    this.#needed = 0
    for (;;) {
      const step = this.#element(buf, pos)
      if (step === INCOMPLETE) break
      pos = step.next
      const completed = this.#settle(step.reply)
      if (completed !== undefined) done.push(completed)
    }
    const rest = buf.subarray(pos)
    this.#chunks = rest.length > 0 ? [rest] : []
    this.#buffered = rest.length
    return done
  }

  /** True when no partial reply is buffered, i.e. the stream is at a reply boundary. */
  get idle(): boolean {
    return this.#buffered === 0 && this.#stack.length === 0
  }

  /** Places a finished element into its enclosing array; returns it if it completes a top-level reply. */
  #settle(reply: RespReply | OpenArray): RespReply | undefined {
    let current: RespReply | OpenArray = reply
    for (;;) {
      if (!('kind' in current)) {
        if (current.remaining > 0) {
          this.#stack.push(current)
          return undefined
        }
        current = { kind: 'array', items: current.items }
      }
      const parent = this.#stack.at(-1)
      if (parent === undefined) return current
      parent.items.push(current)
      parent.remaining -= 1
      if (parent.remaining > 0) return undefined
      this.#stack.pop()
      current = { kind: 'array', items: parent.items }
    }
  }

  /** Reads one element header (and a bulk body) at `pos`. Arrays come back open, to be filled later. */
  #element(buf: Buffer, pos: number): typeof INCOMPLETE | { reply: RespReply | OpenArray; next: number } {
    const eol = buf.indexOf(CRLF, pos)
    if (eol === -1) return INCOMPLETE
    const type = buf[pos]
    const line = buf.toString('utf8', pos + 1, eol)
    const next = eol + 2
    switch (type) {
      case 0x2b: // '+'
        return { reply: { kind: 'status', value: line }, next }
      case 0x2d: // '-'
        return { reply: { kind: 'error', message: line }, next }
      case 0x3a: // ':'
        if (!/^-?\d+$/.test(line)) throw new RespProtocolError(`invalid integer reply ${JSON.stringify(line)}`)
        return { reply: { kind: 'integer', digits: line }, next }
      case 0x24: {
        // '$' bulk string: length, CRLF, bytes, CRLF
        const length = parseLength(line)
        if (length === -1) return { reply: { kind: 'null' }, next }
        const end = next + length
        if (buf.length < end + 2) {
          this.#needed = end + 2 - pos
          return INCOMPLETE
        }
        if (buf[end] !== 0x0d || buf[end + 1] !== 0x0a) throw new RespProtocolError('bulk string not terminated by CRLF')
        return { reply: { kind: 'bulk', bytes: new Uint8Array(buf.subarray(next, end)) }, next: end + 2 }
      }
      case 0x2a: {
        // '*' array: count, then that many elements
        const count = parseLength(line)
        if (count === -1) return { reply: { kind: 'null' }, next }
        return { reply: { items: [], remaining: count }, next }
      }
      default:
        throw new RespProtocolError(`unexpected RESP type byte 0x${(type ?? 0).toString(16)}`)
    }
  }
}

function parseLength(text: string): number {
  if (!/^(-1|\d+)$/.test(text)) throw new RespProtocolError(`invalid length ${JSON.stringify(text)}`)
  return Number(text)
}
