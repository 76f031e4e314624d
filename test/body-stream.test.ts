import { describe, expect, it } from 'vitest'
import { concatBytes, firstBytes, limitBytes, resumed, sliceStream } from '../src/body-stream.ts'

const stream = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk))
      controller.close()
    },
  })
const text = (body: ReadableStream<Uint8Array>) => new Response(body).text()

describe('body streams', () => {
  it('concatBytes joins chunks, and hands a single chunk back as it is', () => {
    const one = new Uint8Array([1, 2])
    expect(concatBytes([one])).toBe(one)
    expect([...concatBytes([one, new Uint8Array([3]), new Uint8Array(0)])]).toEqual([1, 2, 3])
  })

  it('resumed gives the bytes already read, then the rest', async () => {
    const reader = stream('cd', 'ef').getReader()
    expect(await text(resumed([new TextEncoder().encode('ab'), new Uint8Array(0)], reader))).toBe('abcdef')
  })

  it('firstBytes stops at its length, and fails when the body is shorter', async () => {
    expect(await text(firstBytes(stream('hello', ' world'), 7))).toBe('hello w')
    await expect(text(firstBytes(stream('hi'), 3))).rejects.toThrow(/short/)
  })

  it.each([
    [0, 3, 'abcd'],
    [2, 6, 'cdefg'],
    [5, 5, 'f'],
    [8, 9, 'ij'],
  ])('sliceStream(%i, %i) across chunk boundaries', async (start, end, expected) => {
    expect(await text(sliceStream(stream('abc', 'def', 'ghij'), start, end))).toBe(expected)
  })

  it('limitBytes passes up to its limit and errors past it', async () => {
    expect(await text(stream('abc', 'de').pipeThrough(limitBytes(5)))).toBe('abcde')
    await expect(text(stream('abc', 'def').pipeThrough(limitBytes(5)))).rejects.toThrow(/limit of 5/)
  })
})
