/**
 * Reference `upstash-and-workers.md` §7.5 (H1–H8, H10): headers, sync token, methods, paths, size
 * limit and the path form; plus the request statistics and the HTTP control endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { READ_ONLY_TOKEN, call, deleteKeys, startTestServer, uniquePrefix } from './helpers.ts'
import type { UpstashLocal } from '../../../scripts/upstash-local/server.ts'

let server: UpstashLocal
const prefix = uniquePrefix()
const key = (name: string) => `${prefix}${name}`

beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await deleteKeys(server, prefix)
  await server.close()
})

describe('headers', () => {
  it('H1: ignores telemetry, retry, empty sync-token and caching headers', async () => {
    const answer = await call(server, '/', {
      body: ['PING'],
      headers: {
        'upstash-telemetry-runtime': 'node@v22',
        'upstash-telemetry-platform': 'cloudflare',
        'upstash-telemetry-sdk': '@upstash/redis@v1.39.0',
        'upstash-telemetry-retry': '1',
        'upstash-sync-token': '',
        'upstash-unknown-future-header': 'x',
        'cache-control': 'no-cache',
        pragma: 'no-cache',
      },
    })
    expect(answer).toMatchObject({ status: 200, json: { result: 'PONG' } })
  })

  it('H2: every 2xx carries upstash-sync-token, which changes after each write and not after reads', async () => {
    const token = async (path: string, body: unknown) => {
      const answer = await call(server, path, { body })
      expect(answer.status).toBe(200)
      const value = answer.headers.get('upstash-sync-token')
      expect(value).toEqual(expect.any(String))
      return value
    }
    const start = await token('/', ['GET', key('h2')])
    const afterSet = await token('/', ['SET', key('h2'), 'v'])
    const afterRead = await token('/pipeline', [['GET', key('h2')], ['TTL', key('h2')]])
    const afterPipeline = await token('/pipeline', [['SET', key('h2a'), '1'], ['SET', key('h2b'), '2']])
    const afterEval = await token('/', ['EVAL', "return redis.call('SET', KEYS[1], 'x')", 1, key('h2c')])
    const afterMulti = await token('/multi-exec', [['INCR', key('h2d')]])
    expect(afterSet).not.toBe(start)
    expect(afterRead).toBe(afterSet)
    expect(new Set([afterSet, afterPipeline, afterEval, afterMulti]).size).toBe(4)
  })

  it('H3: answers JSON with a JSON content type on success and on every kind of error', async () => {
    const answers = await Promise.all([
      call(server, '/', { body: ['PING'] }),
      call(server, '/', { body: ['GET'] }),
      call(server, '/', { body: 'nope' }),
      call(server, '/', { body: ['PING'], token: 'wrong' }),
      call(server, '/nope', { body: ['PING'] }),
      call(server, '/', { method: 'DELETE' }),
    ])
    expect(answers.map((a) => a.status)).toEqual([200, 400, 400, 401, 404, 405])
    for (const answer of answers) {
      expect(answer.headers.get('content-type')).toBe('application/json')
      expect(answer.json).toEqual(expect.any(Object))
    }
  })

  it('H4: any Upstash-Encoding other than base64 means plain strings', async () => {
    await call(server, '/', { body: ['SET', key('h4'), 'v'] })
    for (const encoding of ['none', 'base32', '']) {
      const answer = await call(server, '/', { body: ['GET', key('h4')], headers: { 'upstash-encoding': encoding } })
      expect(answer.json).toEqual({ result: 'v' })
    }
    const upper = await call(server, '/', { body: ['GET', key('h4')], headers: { 'upstash-encoding': 'BASE64' } })
    expect(upper.json).toEqual({ result: 'dg==' })
  })

  it('H5: Upstash-Response-Format json is served; resp2, resp2 with base64 and other values are 400 JSON', async () => {
    const format = (value: string, base64 = false) =>
      call(server, '/', { body: ['PING'], base64, headers: { 'upstash-response-format': value } })
    expect((await format('json')).json).toEqual({ result: 'PONG' })
    for (const answer of [await format('resp2'), await format('resp2', true), await format('xml')]) {
      expect(answer.status).toBe(400)
      expect(answer.json).toEqual({ error: expect.any(String) })
    }
  })

  it('H5: /multi-exec ignores Upstash-Response-Format and always answers JSON', async () => {
    const answer = await call(server, '/multi-exec', { body: [['PING']], headers: { 'upstash-response-format': 'resp2' } })
    expect(answer.json).toEqual([{ result: 'PONG' }])
  })
})

describe('methods, paths and limits', () => {
  it('H6: DELETE / and PATCH /pipeline are 405 JSON', async () => {
    for (const [path, method] of [['/', 'DELETE'], ['/pipeline', 'PATCH']] as const) {
      const answer = await call(server, path, { method, body: ['PING'] })
      expect(answer.status).toBe(405)
      expect(answer.json).toEqual({ error: expect.any(String) })
    }
  })

  it('accepts PUT as well as POST on the JSON endpoints', async () => {
    expect((await call(server, '/', { method: 'PUT', body: ['PING'] })).json).toEqual({ result: 'PONG' })
  })

  it('H7: an unknown path is 404 JSON', async () => {
    const answer = await call(server, '/nope', { body: ['PING'] })
    expect(answer.status).toBe(404)
    expect(answer.json).toEqual({ error: expect.any(String) })
  })

  it('answers the Server-Sent Events paths with 404 JSON', async () => {
    for (const path of ['/subscribe/chat', '/monitor']) expect((await call(server, path, { body: [] })).status).toBe(404)
  })

  it('H8: a body over the 10 MiB default is 400 "ERR max request size exceeded"', async () => {
    const huge = JSON.stringify(['SET', key('h8'), 'x'.repeat(10 * 1024 * 1024)])
    const answer = await call(server, '/', { body: huge })
    expect(answer).toMatchObject({ status: 400, json: { error: 'ERR max request size exceeded' } })
    expect((await call(server, '/', { body: ['EXISTS', key('h8')] })).json).toEqual({ result: 0 })
  })

  it('H8: honours a configured maxBodyBytes, and a body just under it is fine', async () => {
    const small = await startTestServer({ maxBodyBytes: 64 })
    try {
      const fits = JSON.stringify(['ECHO', 'x'.repeat(64 - 11)])
      expect(fits).toHaveLength(64)
      expect((await call(small, '/', { body: fits })).status).toBe(200)
      expect((await call(small, '/pipeline', { body: [['ECHO', 'x'.repeat(64)]] })).json).toEqual({ error: 'ERR max request size exceeded' })
    } finally {
      await small.close()
    }
  })
})

describe('H10: the path form', () => {
  const path = (url: string, method = 'GET', body?: string) =>
    fetch(`${server.url}${url}`, { method, headers: { authorization: `Bearer ${server.token}` }, ...(body === undefined ? {} : { body }) }).then(
      async (response) => ({ status: response.status, json: await response.json() }),
    )

  it('runs GET /set/foo/bar and GET /get/foo', async () => {
    expect((await path(`/set/${key('foo')}/bar`)).json).toEqual({ result: 'OK' })
    expect((await path(`/get/${key('foo')}`)).json).toEqual({ result: 'bar' })
  })

  it('appends a POST body as the last argument and query parameters after it', async () => {
    expect((await path(`/set/${key('foo2')}?EX=100`, 'POST', 'hello')).json).toEqual({ result: 'OK' })
    expect((await path(`/get/${key('foo2')}`)).json).toEqual({ result: 'hello' })
    const ttl = (await path(`/ttl/${key('foo2')}`)).json as { result: number }
    expect(ttl.result).toBeGreaterThan(98)
  })

  it('keeps a binary POST body byte-exact', async () => {
    const response = await fetch(`${server.url}/set/${key('bin')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
      body: new Uint8Array([0xff, 0x00, 0x80]),
    })
    expect(response.status).toBe(200)
    const answer = await call(server, '/', { body: ['GET', key('bin')], base64: true })
    expect(answer.json).toEqual({ result: Buffer.from([0xff, 0x00, 0x80]).toString('base64') })
  })

  it('percent-decodes path segments and takes flag-only query parameters as single arguments', async () => {
    expect((await path(`/set/${encodeURIComponent(key('a/b c'))}/v%2F1?NX`)).json).toEqual({ result: 'OK' })
    expect((await path(`/set/${encodeURIComponent(key('a/b c'))}/v2?NX`)).json).toEqual({ result: null })
    expect((await path(`/get/${encodeURIComponent(key('a/b c'))}`)).json).toEqual({ result: 'v/1' })
  })

  it('accepts ?_token= without passing it on as an argument', async () => {
    const response = await fetch(`${server.url}/echo/hi?_token=${encodeURIComponent(server.token)}`)
    expect(await response.json()).toEqual({ result: 'hi' })
  })

  it('refuses connection-state commands in the path form too', async () => {
    expect((await path('/select/1')).status).toBe(400)
  })
})

describe('statistics and the HTTP control endpoint', () => {
  it('counts API requests and their commands per endpoint, but not control requests', async () => {
    server.resetStats()
    await call(server, '/', { body: ['PING'] })
    await call(server, '/pipeline', { body: [['PING'], ['PING'], ['PING']] })
    await call(server, '/multi-exec', { body: [['PING'], ['PING']] })
    await call(server, '/ping', { method: 'GET' })
    await fetch(`${server.url}/__control/stats`)
    expect(server.stats()).toEqual({ requests: 4, commands: 7, byPath: { '/': 1, '/pipeline': 1, '/multi-exec': 1, '/ping': 1 } })
    const overHttp = await fetch(`${server.url}/__control/stats`)
    expect(overHttp.headers.get('content-type')).toBe('application/json')
    expect(await overHttp.json()).toEqual(server.stats())
  })

  it('resets the counters with POST /__control/reset', async () => {
    await call(server, '/', { body: ['PING'] })
    expect((await fetch(`${server.url}/__control/reset`, { method: 'POST' })).status).toBe(200)
    expect(server.stats()).toEqual({ requests: 0, commands: 0, byPath: {} })
  })

  it('sets and clears a fault with POST /__control/fault and reports it with GET', async () => {
    const setFault = (fault: unknown) => fetch(`${server.url}/__control/fault`, { method: 'POST', body: JSON.stringify(fault) })
    expect((await setFault({ mode: 'error' })).status).toBe(200)
    expect(await (await fetch(`${server.url}/__control/fault`)).json()).toEqual({ mode: 'error' })
    expect((await call(server, '/', { body: ['PING'] })).status).toBe(500)
    await setFault({})
    expect((await call(server, '/', { body: ['PING'] })).status).toBe(200)
  })

  it('rejects an invalid fault with 400 JSON and keeps the current one', async () => {
    for (const body of [{ mode: 'explode' }, { latencyMs: -1 }, { latency: 5 }, 'nope']) {
      const response = await fetch(`${server.url}/__control/fault`, { method: 'POST', body: JSON.stringify(body) })
      expect(response.status).toBe(400)
      expect(await response.json()).toEqual({ error: expect.any(String) })
    }
    expect((await call(server, '/', { body: ['PING'] })).status).toBe(200)
  })
})

describe('database selection', () => {
  it('runs every request, for both tokens, in the configured database', async () => {
    const db1 = await startTestServer({ db: 1 })
    try {
      await call(db1, '/', { body: ['SET', key('db1'), 'one'] })
      expect((await call(db1, '/', { body: ['GET', key('db1')], token: READ_ONLY_TOKEN })).json).toEqual({ result: 'one' })
      expect((await call(db1, '/multi-exec', { body: [['GET', key('db1')]] })).json).toEqual([{ result: 'one' }])
      expect((await call(server, '/', { body: ['EXISTS', key('db1')] })).json).toEqual({ result: 0 })
    } finally {
      await deleteKeys(db1, prefix)
      await db1.close()
    }
  })
})
