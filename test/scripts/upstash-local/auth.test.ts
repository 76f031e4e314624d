/** Reference `upstash-and-workers.md` §7.1 (A1–A6): tokens, `?_token=`, and the read-only token. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { READ_ONLY_TOKEN, call, deleteKeys, startTestServer, uniquePrefix } from './helpers.ts'
import type { UpstashLocal } from '../../../scripts/upstash-local/server.ts'

const WRONGPASS = { error: 'WRONGPASS invalid or missing auth token' }

let server: UpstashLocal
const prefix = uniquePrefix()

beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await deleteKeys(server, prefix)
  await server.close()
})

describe('standard token', () => {
  it('A1: rejects a request without a token with 401 and a JSON error', async () => {
    const answer = await call(server, '/', { body: ['PING'], token: null })
    expect(answer.status).toBe(401)
    expect(answer.headers.get('content-type')).toBe('application/json')
    expect(answer.json).toEqual(WRONGPASS)
  })

  it('A2: rejects a wrong bearer token with 401', async () => {
    const answer = await call(server, '/', { body: ['PING'], token: 'wrong' })
    expect(answer.status).toBe(401)
    expect(answer.json).toEqual(WRONGPASS)
  })

  it('A3: rejects a whole pipeline with one 401 object, not per-item errors', async () => {
    const answer = await call(server, '/pipeline', { body: [['get', 'a'], ['get', 'b']], token: 'wrong' })
    expect(answer.status).toBe(401)
    expect(answer.json).toEqual(WRONGPASS)
  })

  it('rejects a wrong token on /multi-exec and on the path form too', async () => {
    expect((await call(server, '/multi-exec', { body: [['PING']], token: 'wrong' })).status).toBe(401)
    expect((await call(server, '/ping', { method: 'GET', token: 'wrong' })).status).toBe(401)
  })

  it('A4: accepts the token in the ?_token= query parameter', async () => {
    const answer = await call(server, `/?_token=${encodeURIComponent(server.token)}`, { body: ['PING'], token: null })
    expect(answer.status).toBe(200)
    expect(answer.json).toEqual({ result: 'PONG' })
  })

  it('accepts a correct ?_token= even when the header carries a wrong one', async () => {
    const answer = await call(server, `/?_token=${encodeURIComponent(server.token)}`, { body: ['PING'], token: 'wrong' })
    expect(answer.status).toBe(200)
  })

  it('does not let the read-only token pass as the standard token for writes', async () => {
    const answer = await call(server, '/', { body: ['SET', `${prefix}ro-write`, 'v'], token: READ_ONLY_TOKEN })
    expect(answer.status).toBe(400)
  })
})

describe('read-only token', () => {
  it('A5: may read', async () => {
    await call(server, '/', { body: ['SET', `${prefix}k`, 'v'] })
    const answer = await call(server, '/', { body: ['GET', `${prefix}k`], token: READ_ONLY_TOKEN })
    expect(answer.status).toBe(200)
    expect(answer.json).toEqual({ result: 'v' })
  })

  it('A6: is refused writes with a Redis NOPERM error, and the key is untouched', async () => {
    const answer = await call(server, '/', { body: ['SET', `${prefix}k2`, 'v'], token: READ_ONLY_TOKEN })
    expect(answer.status).toBe(400)
    expect(answer.json).toEqual({ error: expect.stringMatching(/^NOPERM this user has no permissions to run the 'set' command/) })
    expect((await call(server, '/', { body: ['EXISTS', `${prefix}k2`] })).json).toEqual({ result: 0 })
  })

  it('A6: is refused the expensive reads KEYS and SCAN', async () => {
    for (const body of [['KEYS', `${prefix}*`], ['SCAN', '0']]) {
      const answer = await call(server, '/', { body, token: READ_ONLY_TOKEN })
      expect(answer.status).toBe(400)
      expect(answer.json).toEqual({ error: expect.stringMatching(/^NOPERM/) })
    }
  })

  it('may PING, run read pipelines, and gets per-item NOPERM for writes in a pipeline', async () => {
    const answer = await call(server, '/pipeline', {
      body: [['PING'], ['GET', `${prefix}k`], ['DEL', `${prefix}k`]],
      token: READ_ONLY_TOKEN,
    })
    expect(answer.status).toBe(200)
    expect(answer.json).toEqual([{ result: 'PONG' }, { result: 'v' }, { error: expect.stringMatching(/^NOPERM/) }])
  })

  it('may run a read-only transaction, and a transaction containing a write is discarded whole', async () => {
    const reads = await call(server, '/multi-exec', { body: [['GET', `${prefix}k`]], token: READ_ONLY_TOKEN })
    expect(reads.json).toEqual([{ result: 'v' }])
    const mixed = await call(server, '/multi-exec', {
      body: [['GET', `${prefix}k`], ['SET', `${prefix}k`, 'changed']],
      token: READ_ONLY_TOKEN,
    })
    expect(mixed.status).toBe(400)
    expect(mixed.json).toEqual({ error: expect.stringMatching(/^NOPERM/) })
    expect((await call(server, '/', { body: ['GET', `${prefix}k`] })).json).toEqual({ result: 'v' })
  })

  it('is rejected with 401 by a server configured without a read-only token', async () => {
    const plain = await startTestServer({ readOnlyToken: undefined })
    try {
      expect((await call(plain, '/', { body: ['PING'], token: READ_ONLY_TOKEN })).status).toBe(401)
    } finally {
      await plain.close()
    }
  })
})
