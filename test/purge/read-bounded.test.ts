import { describe, expect, it } from 'vitest'
import { readBoundedText } from '../../src/purge/read-bounded.ts'

/** A chunked body (no Content-Length) made of `chunks`, recording how far it was read and whether it was cancelled. */
function streamed(chunks: Uint8Array[], headers: Record<string, string> = {}) {
  const seen = { pulled: 0, cancelled: false }
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[seen.pulled]
      if (next === undefined) return controller.close()
      seen.pulled++
      controller.enqueue(next)
    },
    cancel() {
      seen.cancelled = true
    },
  }, { highWaterMark: 0 })
  const request = new Request('http://tiercache.test/__tiercache/purge', { method: 'POST', body: stream, headers, duplex: 'half' } as RequestInit)
  return { request, seen }
}

const bytes = (n: number, fill = 0x61) => new Uint8Array(n).fill(fill)
/** A request with `text` as its body and its Content-Length declared (Node's Request does not add one). */
const declared = (text: string) =>
  new Request('http://t/', { method: 'POST', body: text, headers: { 'content-length': String(new TextEncoder().encode(text).byteLength) } })

describe('readBoundedText', () => {
  it('returns a body of exactly the limit and refuses one byte more (Content-Length)', async () => {
    expect(await readBoundedText(declared('a'.repeat(100)), 100)).toBe('a'.repeat(100))
    expect(await readBoundedText(declared('a'.repeat(101)), 100)).toBeUndefined()
  })

  it('counts bytes, not characters', async () => {
    expect(await readBoundedText(declared('é'.repeat(50)), 100)).toBe('é'.repeat(50))
    expect(await readBoundedText(declared(`${'é'.repeat(50)}a`), 100)).toBeUndefined()
    expect(await readBoundedText(streamed([new TextEncoder().encode(`${'é'.repeat(50)}a`)]).request, 100)).toBeUndefined()
  })

  it('refuses a declared Content-Length over the limit without reading a byte', async () => {
    const { request, seen } = streamed([bytes(64), bytes(64)], { 'content-length': '128' })
    expect(await readBoundedText(request, 100)).toBeUndefined()
    expect(seen).toEqual({ pulled: 0, cancelled: false })
  })

  it('returns a chunked body of exactly the limit and refuses one byte more', async () => {
    expect(await readBoundedText(streamed([bytes(60), bytes(40)]).request, 100)).toBe('a'.repeat(100))
    expect(await readBoundedText(streamed([bytes(60), bytes(40), bytes(1)]).request, 100)).toBeUndefined()
  })

  it('reads an empty body as ""', async () => {
    expect(await readBoundedText(new Request('http://t/', { method: 'POST' }), 100)).toBe('')
  })

  it('never cancels an oversized chunked body: it drains it to the end', async () => {
    const { request, seen } = streamed(Array.from({ length: 10 }, () => bytes(64)))
    expect(await readBoundedText(request, 100)).toBeUndefined()
    expect(seen).toEqual({ pulled: 10, cancelled: false })
  })

  it('stops draining once it has read the drain allowance past the limit, still without cancelling', async () => {
    const { request, seen } = streamed(Array.from({ length: 100 }, () => bytes(64)))
    // Over the 100-byte limit at the 2nd chunk; the drain stops once more than 100 + 640 bytes were read.
    expect(await readBoundedText(request, 100, 640)).toBeUndefined()
    expect(seen).toEqual({ pulled: 12, cancelled: false })
  })
})
