/**
 * @module Body streams: the few ways tiercache cuts, joins and bounds a body as it passes through, without
 * holding more of it than it must. Web streams only (they run in workerd and in Node's tests alike).
 */

/** One array from several, copied once (a single chunk is returned as it is). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const size = chunks.reduce((n, chunk) => n + chunk.byteLength, 0)
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

/** The whole body again, from the bytes already read and the reader holding the rest. */
export function resumed(prefix: readonly Uint8Array[], rest: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  const pending = prefix.filter((chunk) => chunk.byteLength > 0)
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buffered = pending.shift()
      if (buffered) return controller.enqueue(buffered)
      const { done, value } = await rest.read()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    cancel(reason) {
      return rest.cancel(reason)
    },
  })
}

/** The first `length` bytes of `stream` (the rest is left unread); fails if the stream ends before them. */
export function firstBytes(stream: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const reader = stream.getReader()
  let remaining = length
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (remaining === 0) {
        controller.close()
        void reader.cancel().catch(() => {})
        return
      }
      const { done, value } = await reader.read()
      if (done) return controller.error(new Error(`body ended ${remaining} bytes short of its length`))
      const piece = value.byteLength > remaining ? value.subarray(0, remaining) : value
      remaining -= piece.byteLength
      controller.enqueue(piece)
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
}

/** Bytes `start`–`end` (inclusive) of `stream`; the rest is cancelled once the range has gone by. */
export function sliceStream(stream: ReadableStream<Uint8Array>, start: number, end: number): ReadableStream<Uint8Array> {
  const reader = stream.getReader()
  let offset = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return controller.close()
        const from = offset
        offset += value.byteLength
        if (offset <= start) continue
        controller.enqueue(value.subarray(Math.max(0, start - from), Math.min(value.byteLength, end + 1 - from)))
        if (offset > end) {
          controller.close()
          await reader.cancel()
        }
        return
      }
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
}

/** Passes bytes through until more than `max` have gone by, then errors (so a write of them fails). */
export const limitBytes = (max: number): TransformStream<Uint8Array, Uint8Array> => {
  let seen = 0
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength
      if (seen > max) controller.error(new Error(`body larger than the limit of ${max} bytes`))
      else controller.enqueue(chunk)
    },
  })
}
