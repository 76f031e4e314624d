/**
 * @module How many bytes a `ServerResponse.end(chunk, encoding)` call sends as the body, and whether that
 * disagrees with a `Content-Length` the handler set. Pure, for the close-on-length-mismatch preload.
 */
import { Buffer } from 'node:buffer'

/** Byte length of an `end()`/`write()` chunk, or `undefined` when it is not a string or bytes. */
export function chunkLength(chunk: unknown, encoding?: unknown): number | undefined {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
  if (chunk instanceof Uint8Array) return chunk.byteLength
  return undefined
}

/**
 * True when a declared `Content-Length` and the body actually sent differ: the bytes after the declared
 * length would be read by the client as the start of the next response on the same connection.
 */
export function lengthMismatch(declared: unknown, sent: number | undefined): boolean {
  if (declared === undefined || sent === undefined) return false
  const value = Array.isArray(declared) ? declared[0] : declared
  const length = Number(value)
  return Number.isInteger(length) && length !== sent
}
