import { Buffer } from 'node:buffer'
import { describe, expect, it } from 'vitest'
import { RespParser, RespProtocolError, encodeCommand, encodeReply } from '../../../scripts/upstash-local/resp.ts'
import type { RespReply } from '../../../scripts/upstash-local/resp.ts'

const bulk = (text: string | number[]): RespReply => ({
  kind: 'bulk',
  bytes: new Uint8Array(typeof text === 'string' ? Buffer.from(text) : text),
})

/** An EXEC-style reply mixing every RESP2 type, nested arrays, an embedded error and binary bytes. */
const KITCHEN_SINK: RespReply = {
  kind: 'array',
  items: [
    { kind: 'status', value: 'OK' },
    { kind: 'error', message: 'ERR value is not an integer or out of range' },
    { kind: 'integer', digits: '-42' },
    { kind: 'integer', digits: '18446744073709551615' },
    bulk('😀'),
    bulk([0xff, 0x00, 0x0d, 0x0a, 0x24]),
    bulk(''),
    { kind: 'null' },
    { kind: 'array', items: [] },
    { kind: 'array', items: [bulk('a'), { kind: 'array', items: [{ kind: 'integer', digits: '2' }, bulk('OK')] }] },
  ],
}

function parseAll(bytes: Uint8Array, chunkSizes: number[]): RespReply[] {
  const parser = new RespParser()
  const out: RespReply[] = []
  let pos = 0
  for (const size of chunkSizes) {
    out.push(...parser.push(bytes.subarray(pos, pos + size)))
    pos += size
  }
  out.push(...parser.push(bytes.subarray(pos)))
  expect(parser.idle).toBe(true)
  return out
}

describe('RESP2 encoder', () => {
  it('encodes a command as an array of bulk strings with byte lengths, not character lengths', () => {
    expect(encodeCommand(['SET', 'k', 'é']).toString('latin1')).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n')
  })

  it('sends byte arguments unchanged, including CR, LF and invalid UTF-8', () => {
    const encoded = encodeCommand(['SET', new Uint8Array([0xff, 0x0d, 0x0a])])
    expect([...encoded.subarray(-5)]).toEqual([0xff, 0x0d, 0x0a, 0x0d, 0x0a])
  })
})

describe('RESP2 parser', () => {
  it('distinguishes status, error, integer, bulk, null bulk and null array replies', () => {
    const wire = Buffer.from('+OK\r\n-ERR boom\r\n:7\r\n$3\r\nabc\r\n$-1\r\n*-1\r\n')
    expect(new RespParser().push(wire)).toEqual([
      { kind: 'status', value: 'OK' },
      { kind: 'error', message: 'ERR boom' },
      { kind: 'integer', digits: '7' },
      bulk('abc'),
      { kind: 'null' },
      { kind: 'null' },
    ])
  })

  it('keeps the exact digits of integers beyond 2^53', () => {
    expect(new RespParser().push(Buffer.from(':9007199254740993\r\n'))).toEqual([{ kind: 'integer', digits: '9007199254740993' }])
  })

  it('returns bulk strings as bytes so binary values survive', () => {
    const [reply] = new RespParser().push(Buffer.from([0x24, 0x32, 0x0d, 0x0a, 0xff, 0x00, 0x0d, 0x0a]))
    expect(reply).toEqual(bulk([0xff, 0x00]))
  })

  it('round-trips nested arrays with embedded errors (an EXEC reply) in one chunk', () => {
    expect(parseAll(encodeReply(KITCHEN_SINK), [])).toEqual([KITCHEN_SINK])
  })

  it('parses the same replies whatever byte the stream is split at', () => {
    const wire = Buffer.concat([encodeReply(KITCHEN_SINK), encodeReply({ kind: 'status', value: 'PONG' })])
    for (let split = 0; split <= wire.length; split++) {
      expect(parseAll(wire, [split])).toEqual([KITCHEN_SINK, { kind: 'status', value: 'PONG' }])
    }
  })

  it('parses a stream delivered one byte at a time', () => {
    const wire = encodeReply(KITCHEN_SINK)
    expect(parseAll(wire, Array.from({ length: wire.length }, () => 1))).toEqual([KITCHEN_SINK])
  })

  it('assembles a large bulk string from many chunks and returns nothing until it is complete', () => {
    const value = Buffer.alloc(1_000_000, 7)
    const wire = encodeReply({ kind: 'bulk', bytes: value })
    const parser = new RespParser()
    const results: RespReply[] = []
    for (let pos = 0; pos < wire.length; pos += 65_536) {
      const got = parser.push(wire.subarray(pos, pos + 65_536))
      if (pos + 65_536 < wire.length) expect(got).toEqual([])
      results.push(...got)
    }
    expect(results).toHaveLength(1)
    expect(Buffer.from((results[0] as { bytes: Uint8Array }).bytes).equals(value)).toBe(true)
  })

  it('rejects bytes that are not RESP2', () => {
    expect(() => new RespParser().push(Buffer.from('HTTP/1.1 200 OK\r\n'))).toThrow(RespProtocolError)
    expect(() => new RespParser().push(Buffer.from('$3\r\nabcXY'))).toThrow(RespProtocolError)
    expect(() => new RespParser().push(Buffer.from(':1.5\r\n'))).toThrow(RespProtocolError)
  })
})
