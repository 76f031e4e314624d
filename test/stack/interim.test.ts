import { describe, expect, it } from 'vitest'
import { finalAfterInterim } from '../../src/stack/interim.ts'

// workerd hands `103 Early Hints` back as the final status with the rest of the connection in the body;
// these bodies are what it delivers (checked against workerd by test/worker/origin-faults.test.ts).
const interim = (wire: string, pieces = 1): Response => {
  const bytes = new TextEncoder().encode(wire)
  const size = Math.ceil(bytes.byteLength / pieces)
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.byteLength; i += size) controller.enqueue(bytes.slice(i, i + size))
      controller.close()
    },
  })
  return new Response(body, { status: 200 })
}

describe('finalAfterInterim (RFC 9110 §15.2, RFC 9112 §4–§7)', () => {
  it('reads the final status, fields and a Content-Length body', async () => {
    const final = await finalAfterInterim(interim('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello'))
    expect(final?.status).toBe(200)
    expect(final?.headers.get('x-a')).toBe('1')
    expect(await final?.text()).toBe('hello')
  })

  it.each([1, 3, 7, 40])('decodes a chunked body delivered in %i pieces, dropping Transfer-Encoding', async (pieces) => {
    const wire = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n'
    const final = await finalAfterInterim(interim(wire, pieces))
    expect(final?.status).toBe(201)
    expect(final?.headers.has('transfer-encoding')).toBe(false)
    expect(await final?.text()).toBe('hello, world')
  })

  it('skips further interim responses (a 102, then the final 200)', async () => {
    const final = await finalAfterInterim(interim('HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))
    expect(final?.status).toBe(200)
    expect(await final?.text()).toBe('ok')
  })

  it('gives nothing when the connection closed after the interim response, or the bytes are not a response', async () => {
    expect(await finalAfterInterim(new Response(null))).toBeUndefined()
    expect(await finalAfterInterim(interim(''))).toBeUndefined()
    expect(await finalAfterInterim(interim('<html>not http</html>\r\n\r\n'))).toBeUndefined()
    expect(await finalAfterInterim(interim('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'))).toBeUndefined()
  })

  it('fails the body when a chunked body ends early (nothing partial can be stored)', async () => {
    const final = await finalAfterInterim(interim('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'))
    expect(final?.status).toBe(200)
    await expect(final!.text()).rejects.toThrow()
  })
})

describe('finalAfterInterim on a kept-alive connection', () => {
  it('ends the body at its Content-Length even when the connection stays open', async () => {
    const bytes = new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello')
    const body = new ReadableStream<Uint8Array>({ start: (controller) => controller.enqueue(bytes) }) // never closes
    const final = await finalAfterInterim(new Response(body))
    expect(await final?.text()).toBe('hello')
  })

  it('fails a body shorter than its Content-Length', async () => {
    const final = await finalAfterInterim(new Response('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello'))
    await expect(final!.text()).rejects.toThrow(/short/)
  })
})
