/**
 * @module Reading a request body up to a size limit (design.md §4 rule 5: 413 for an oversized purge).
 *
 * A body that declares a larger `Content-Length` is refused without being touched: the runtime discards
 * an unread body by itself. A chunked body can only be measured by reading it, and once it is partly
 * read it must not be abandoned: cancelling it — or just no longer reading it — makes workerd drop the
 * connection. Measured under `wrangler dev` (scripts/dev.ts) with a 70 KB chunked POST: with
 * `reader.cancel()`, or with reading stopped at the limit, the client gets its 413, then wrangler's
 * proxy reports "Network connection lost" and `wrangler dev` exits; draining the rest, 70 KB or 30 MB,
 * keeps it serving. In production a dropped connection loses the 413 for a client still sending (the
 * "TCP reset problem" of RFC 9112 §9.6, which servers avoid by reading what the client still sends).
 *
 * So the rest of an oversized chunked body is read and thrown away, up to {@link DRAIN_LIMIT_BYTES}
 * past the limit: draining costs a little CPU per chunk and no memory, and the bound lets honest senders
 * that overshoot read their 413 while an endless body cannot keep the worker reading. Past the bound
 * reading stops (still without a cancel) and the connection is dropped — for such a body that is what we
 * want in production, though under `wrangler dev` it still ends the session (its proxy's behaviour).
 */

import { concatBytes } from '../body-stream.ts'

/** Most bytes of an oversized chunked body read (and thrown away) past the limit before the 413: 8 MiB. */
export const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024

/**
 * The body as UTF-8 text when it is at most `limit` bytes; undefined when it is larger (declared by
 * `Content-Length`, or found while reading a chunked body).
 */
export async function readBoundedText(request: Pick<Request, 'headers' | 'body'>, limit: number, drainBeyond = DRAIN_LIMIT_BYTES): Promise<string | undefined> {
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (declared > limit) return undefined
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await drain(reader, size, limit + drainBeyond)
      return undefined
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(concatBytes(chunks))
}

/** Reads and discards until the body ends or more than `upTo` bytes have been read in all. Never cancels. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number, upTo: number): Promise<void> {
  let size = alreadyRead
  while (size <= upTo) {
    const { done, value } = await reader.read()
    if (done) return
    size += value.byteLength
  }
}
