/** Reference `upstash-and-workers.md` §7.2 (S1–S23): single commands on `POST /`, at the wire level. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, deleteKeys, startTestServer, uniquePrefix } from './helpers.ts'
import type { UpstashLocal } from '../../../scripts/upstash-local/server.ts'

let server: UpstashLocal
const prefix = uniquePrefix()
const key = (name: string) => `${prefix}${name}`
const run = (body: unknown, base64 = false) => call(server, '/', { body, base64 })

beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await deleteKeys(server, prefix)
  await server.close()
})

describe('successful replies', () => {
  it('S1/S2: SET with EX answers OK, and TTL is a JSON number even with base64', async () => {
    expect(await run(['SET', key('s1'), 'v', 'EX', 60], true)).toMatchObject({ status: 200, json: { result: 'OK' } })
    const ttl = await run(['TTL', key('s1')], true)
    expect(ttl.text).toMatch(/^\{"result":(60|59)\}$/)
  })

  it('S3: a missing key answers {"result":null} with the result key present, with and without base64', async () => {
    expect((await run(['GET', key('missing')])).text).toBe('{"result":null}')
    expect((await run(['GET', key('missing')], true)).text).toBe('{"result":null}')
  })

  it('S4: GET returns the value base64-encoded with the header and plain without', async () => {
    await run(['SET', key('s4'), 'v'])
    expect((await run(['GET', key('s4')], true)).json).toEqual({ result: 'dg==' })
    expect((await run(['GET', key('s4')])).json).toEqual({ result: 'v' })
  })

  it('S10: INCR returns JSON numbers', async () => {
    expect((await run(['INCR', key('n')])).text).toBe('{"result":1}')
    expect((await run(['INCR', key('n')], true)).text).toBe('{"result":2}')
  })

  it('keeps the exact digits of integers beyond 2^53', async () => {
    await run(['SET', key('big'), '9007199254740992'])
    expect((await run(['INCR', key('big')])).text).toBe('{"result":9007199254740993}')
  })

  it('S11/S12: encodes status replies other than OK (PONG, string) with base64', async () => {
    expect((await run(['PING'], true)).json).toEqual({ result: 'UE9ORw==' })
    await run(['SET', key('s12'), 'v'])
    expect((await run(['TYPE', key('s12')], true)).json).toEqual({ result: 'c3RyaW5n' })
    expect((await run(['TYPE', key('s12')])).json).toEqual({ result: 'string' })
  })

  it('S13: encodes each string of an array and leaves nulls alone', async () => {
    await run(['MSET', key('a'), 'a', key('c'), 'c'])
    const answer = await run(['MGET', key('a'), key('missing'), key('c')], true)
    expect(answer.json).toEqual({ result: ['YQ==', null, 'Yw=='] })
  })

  it('S14: encodes strings at every depth, including OK inside arrays, and never integers', async () => {
    const nested = await run(['EVAL', "return {1,'a',{2,'OK'}}", 0], true)
    expect(nested.json).toEqual({ result: [1, 'YQ==', [2, 'T0s=']] })
    // A status OK inside an array must be encoded too: raw "OK" would decode to 8 in the client.
    const status = await run(['EVAL', "return {redis.status_reply('OK')}", 0], true)
    expect(status.json).toEqual({ result: ['T0s='] })
  })

  it('S15: an empty string is returned as an empty string', async () => {
    await run(['SET', key('empty'), ''])
    expect((await run(['GET', key('empty')], true)).json).toEqual({ result: '' })
  })

  it('S16: stores strings as UTF-8', async () => {
    await run(['SET', key('emoji'), '😀'])
    expect((await run(['GET', key('emoji')], true)).json).toEqual({ result: '8J+YgA==' })
    expect((await run(['GET', key('emoji')])).json).toEqual({ result: '😀' })
    expect((await run(['STRLEN', key('emoji')])).json).toEqual({ result: 4 })
  })

  it('S17: returns binary values byte-exact with base64 and with U+FFFD replacement without', async () => {
    await run(['BITFIELD', key('bin'), 'SET', 'u16', 0, 65280])
    expect((await run(['GET', key('bin')], true)).json).toEqual({ result: '/wA=' })
    expect((await run(['GET', key('bin')])).json).toEqual({ result: '\ufffd\u0000' })
  })

  it('keeps a leading byte-order mark instead of stripping it', async () => {
    await run(['SET', key('bom'), '\ufeffx'])
    expect((await run(['GET', key('bom')])).json).toEqual({ result: '\ufeffx' })
  })

  it('S18: a value that looks like base64 is encoded again', async () => {
    await run(['SET', key('b64'), 'VXBzdGFzaCBpcyByZWFsbHkgY29vbA'])
    const answer = await run(['GET', key('b64')], true)
    expect(Buffer.from((answer.json as { result: string }).result, 'base64').toString()).toBe('VXBzdGFzaCBpcyByZWFsbHkgY29vbA')
  })

  it('S19: JSON numbers and booleans become their decimal text', async () => {
    await run(['SET', key('num'), 1.5])
    await run(['SET', key('bool'), true])
    await run(['SET', key('false'), false])
    expect((await run(['GET', key('num')])).json).toEqual({ result: '1.5' })
    expect((await run(['GET', key('bool')])).json).toEqual({ result: 'true' })
    expect((await run(['GET', key('false')])).json).toEqual({ result: 'false' })
  })
})

describe('Redis error replies are 400 with only an error field', () => {
  it.each([
    ['S5', ['SET', 'k', 'v', 'EX', 0], "ERR invalid expire time in 'set' command"],
    ['S6', ['GET'], "ERR wrong number of arguments for 'get' command"],
    ['S7', ['FOO'], "ERR unknown command 'FOO', with args beginning with: "],
  ])('%s: %j', async (_row, body, error) => {
    const answer = await run(body)
    expect(answer.status).toBe(400)
    expect(answer.headers.get('content-type')).toBe('application/json')
    expect(answer.json).toEqual({ error })
  })

  it('S8: INCR on a non-integer string', async () => {
    await run(['SET', key('s8'), 'v'])
    expect(await run(['INCR', key('s8')])).toMatchObject({ status: 400, json: { error: 'ERR value is not an integer or out of range' } })
  })

  it('S9: a command against the wrong type', async () => {
    await run(['SET', key('s9'), 'v'])
    const answer = await run(['HGET', key('s9'), 'f'], true)
    expect(answer).toMatchObject({ status: 400, json: { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' } })
  })
})

describe('malformed requests are 400 JSON', () => {
  it.each([
    ['S20 object argument', ['SET', 'k', { a: 1 }]],
    ['null argument', ['SET', 'k', null]],
    ['nested array argument', ['SET', 'k', ['v']]],
    ['S21 object body', { cmd: 'GET' }],
    ['S21 empty array', []],
    ['S21 not JSON', 'not json'],
    ['a pipeline body on /', [['GET', 'a']]],
  ])('%s', async (_name, body) => {
    const answer = await run(body)
    expect(answer.status).toBe(400)
    expect(answer.json).toEqual({ error: expect.any(String) })
  })

  it('S21: an empty body', async () => {
    const answer = await call(server, '/', {})
    expect(answer.status).toBe(400)
    expect(answer.json).toEqual({ error: expect.stringMatching(/JSON/) })
  })
})

describe('S22: commands that would corrupt a pooled connection are refused', () => {
  it.each([
    [['MULTI']],
    [['EXEC']],
    [['DISCARD']],
    [['WATCH', 'k']],
    [['UNWATCH']],
    [['SELECT', 1]],
    [['AUTH', 'x']],
    [['HELLO', '3']],
    [['CLIENT', 'KILL', 'ID', '1']],
    [['SUBSCRIBE', 'c']],
    [['MONITOR']],
    [['QUIT']],
    [['BLPOP', 'k', 0]],
    [['XREAD', 'BLOCK', 0, 'STREAMS', 's', '$']],
  ])('%j', async (body) => {
    const answer = await run(body)
    expect(answer.status).toBe(400)
    expect(answer.json).toEqual({ error: expect.stringMatching(/^ERR Command is not available/) })
  })

  it('leaves later requests unaffected: no open MULTI, database 0, RESP2, still authenticated', async () => {
    await Promise.all([run(['MULTI']), run(['SELECT', 1]), run(['HELLO', '3'])])
    await run(['SET', key('s22'), 'v'])
    const answers = await Promise.all(Array.from({ length: 20 }, () => run(['HGETALL', key('s22-hash')])))
    for (const answer of answers) expect(answer.json).toEqual({ result: [] })
    expect((await run(['GET', key('s22')])).json).toEqual({ result: 'v' })
  })

  it('allows non-blocking XREAD', async () => {
    expect((await run(['XREAD', 'STREAMS', key('stream'), '0'])).json).toEqual({ result: null })
  })
})

describe('S23: a base URL with a path prefix', () => {
  it('serves the single-command endpoint at the prefix itself, without a trailing slash', async () => {
    const prefixed = await startTestServer({ basePath: '/upstash' })
    try {
      expect(prefixed.url).toMatch(/\/upstash$/)
      expect((await call(prefixed, '', { body: ['PING'] })).json).toEqual({ result: 'PONG' })
      expect((await call(prefixed, '/pipeline', { body: [['PING']] })).json).toEqual([{ result: 'PONG' }])
      expect((await call(prefixed, '/get/x', { method: 'GET', token: prefixed.token })).status).toBe(200)
      const outside = await fetch(prefixed.url.replace(/\/upstash$/, '/'), { method: 'POST', body: '["PING"]' })
      expect(outside.status).toBe(404)
    } finally {
      await prefixed.close()
    }
  })
})
