/**
 * @module
 * Renders RESP2 replies as the JSON Upstash returns, writing JSON text directly so that integers keep
 * the exact digits Redis sent, even past 2^53 (reference `upstash-and-workers.md` §6.5).
 *
 * Encoding rules (§1.5): with `Upstash-Encoding: base64` every bulk and status string is base64 at
 * every depth, except a status `OK` that is the whole result. `OK` inside an array must be encoded
 * (`"T0s="`): the client decodes array elements unconditionally, and `atob("OK")` is `"8"`.
 * Integers and `null` are never encoded. Without the header, bytes are decoded as UTF-8 with U+FFFD
 * for invalid sequences.
 */
import { Buffer } from 'node:buffer'
import type { RespReply } from './resp.ts'

// ignoreBOM keeps a leading U+FEFF in the value instead of silently dropping it.
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })

/**
 * The body for one command: `{"result":…}` on success (the key is always present, even for `null`,
 * or the client throws "Request did not return a result"), `{"error":"…"}` for an error reply and
 * nothing else alongside it (§1.4).
 */
export function itemJson(reply: RespReply, base64: boolean): string {
  if (reply.kind === 'error') return JSON.stringify({ error: reply.message })
  return `{"result":${valueJson(reply, base64, true)}}`
}

/** A pipeline or transaction body: one `{"result"}` / `{"error"}` object per command, in order (§1.9). */
export function itemsJson(replies: readonly RespReply[], base64: boolean): string {
  return `[${replies.map((reply) => itemJson(reply, base64)).join(',')}]`
}

/** The JSON value of a reply. `topLevel` is true only for the whole result of one command. */
export function valueJson(reply: RespReply, base64: boolean, topLevel = false): string {
  switch (reply.kind) {
    case 'null':
      return 'null'
    case 'integer':
      return reply.digits
    case 'bulk':
      return JSON.stringify(base64 ? Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength).toString('base64') : utf8.decode(reply.bytes))
    case 'status':
      if (!base64 || (topLevel && reply.value === 'OK')) return JSON.stringify(reply.value)
      return JSON.stringify(Buffer.from(reply.value, 'utf8').toString('base64'))
    case 'error':
      // Only reachable inside arrays (e.g. a Lua table holding an error). JSON has no error value, so
      // the message is returned as a string, encoded like any other string.
      return valueJson({ kind: 'status', value: reply.message }, base64)
    case 'array':
      return `[${reply.items.map((item) => valueJson(item, base64)).join(',')}]`
  }
}
