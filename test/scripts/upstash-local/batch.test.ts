/** Reference `upstash-and-workers.md` §7.3 (P1–P7, `/pipeline`) and §7.4 (M1–M5, `/multi-exec`). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, deleteKeys, startTestServer, uniquePrefix } from './helpers.ts'
import type { UpstashLocal } from '../../../scripts/upstash-local/server.ts'

let server: UpstashLocal
const prefix = uniquePrefix()
const key = (name: string) => `${prefix}${name}`
const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value'

beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await deleteKeys(server, prefix)
  await server.close()
})

describe('/pipeline', () => {
  const pipeline = (body: unknown, base64 = true) => call(server, '/pipeline', { body, base64 })

  it('P1: answers 200 with one item per command; success items carry only result, errors only error', async () => {
    const answer = await pipeline([['SET', key('p1'), '1'], ['INCR', key('p1')], ['HGET', key('p1'), 'f']])
    expect(answer.status).toBe(200)
    expect(answer.text).toBe(`[{"result":"OK"},{"result":2},{"error":"${WRONGTYPE}"}]`)
  })

  it('P2: runs commands in order, so later commands see earlier writes', async () => {
    const answer = await pipeline([['SET', key('p2'), 'x'], ['GET', key('p2')], ['APPEND', key('p2'), 'y'], ['GET', key('p2')]])
    expect(answer.json).toEqual([{ result: 'OK' }, { result: 'eA==' }, { result: 2 }, { result: 'eHk=' }])
  })

  it('P3: an unknown command fails only its own item', async () => {
    const answer = await pipeline([['FOO'], ['PING']])
    expect(answer.status).toBe(200)
    expect(answer.json).toEqual([{ error: "ERR unknown command 'FOO', with args beginning with: " }, { result: 'UE9ORw==' }])
    expect((await pipeline([['FOO'], ['PING']], false)).json).toEqual([expect.objectContaining({ error: expect.any(String) }), { result: 'PONG' }])
  })

  it('refused commands fail only their own item and the rest still run in order', async () => {
    const answer = await pipeline([['SET', key('r'), '1'], ['MULTI'], ['INCR', key('r')], ['SELECT', 2], ['GET', key('r')]], false)
    expect(answer.json).toEqual([
      { result: 'OK' },
      { error: expect.stringMatching(/^ERR Command is not available: 'multi'/) },
      { result: 2 },
      { error: expect.stringMatching(/^ERR Command is not available: 'select'/) },
      { result: '2' },
    ])
  })

  it('P4: accepts the one-command shape of an auto-pipelined redis.get', async () => {
    expect((await pipeline([['get', key('missing')]])).json).toEqual([{ result: null }])
  })

  it.each([
    ['P5 a single command instead of a list', ['GET', 'a']],
    ['an empty list', []],
    ['an empty command', [[]]],
    ['an object', { commands: [] }],
    ['an object argument', [['SET', 'k', { a: 1 }]]],
  ])('%s is 400 JSON', async (_name, body) => {
    const answer = await pipeline(body)
    expect(answer.status).toBe(400)
    expect(answer.json).toEqual({ error: expect.any(String) })
  })

  it('P6: runs 1,000 commands in one request, in order', async () => {
    const body = Array.from({ length: 1000 }, () => ['INCR', key('p6')])
    const answer = await pipeline(body)
    expect(answer.status).toBe(200)
    expect(answer.json).toEqual(Array.from({ length: 1000 }, (_, i) => ({ result: i + 1 })))
  })

  it('P7: an EVALSHA of an unknown script is an error item without a result key', async () => {
    await pipeline([['SET', key('p7'), 'v']])
    const answer = await pipeline([['EVALSHA', 'deadbeef', 0], ['GET', key('p7')]])
    expect(answer.text).toBe('[{"error":"NOSCRIPT No matching script. Please use EVAL."},{"result":"dg=="}]')
  })
})

describe('/multi-exec', () => {
  const multi = (body: unknown, base64 = true) => call(server, '/multi-exec', { body, base64 })

  it('M1: runs the commands atomically and returns one item per command', async () => {
    const answer = await multi([['SET', key('t'), '1'], ['GET', key('t')], ['DEL', key('t')]])
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('[{"result":"OK"},{"result":"MQ=="},{"result":1}]')
  })

  it('M2: a run-time error fails only its item and the others are applied', async () => {
    await call(server, '/', { body: ['SET', key('s'), 'v'] })
    const answer = await multi([['SET', key('t'), '1'], ['INCR', key('s')], ['GET', key('t')]])
    expect(answer.status).toBe(200)
    expect(answer.json).toEqual([{ result: 'OK' }, { error: 'ERR value is not an integer or out of range' }, { result: 'MQ==' }])
  })

  it('M3: a queue-time error discards the whole transaction with one 400 object', async () => {
    const answer = await multi([['SET', key('t2'), '1'], ['SET', key('x')]])
    expect(answer.status).toBe(400)
    expect(answer.json).toEqual({ error: "ERR wrong number of arguments for 'set' command" })
    expect((await call(server, '/', { body: ['GET', key('t2')] })).json).toEqual({ result: null })
  })

  // Small pools force requests to share connections one after another, which is where SRH #25 bit.
  it.each([1, 2, 16])('M4: concurrent transactions never nest or interleave with concurrent single commands (pool of %i)', async (maxConnections) => {
    const target = await startTestServer({ maxConnections })
    const counter = key(`m4-counter-${maxConnections}`)
    const send = (path: string, body: unknown) => call(target, path, { body, base64: true })
    try {
      const transactions = Array.from({ length: 20 }, (_, i) =>
        send('/multi-exec', [['SET', key(`m4-${i}`), 'v'], ['GET', key(`m4-${i}`)], ['INCR', counter], ['INCR', counter]]),
      )
      const singles = Array.from({ length: 20 }, (_, i) => send(i % 2 === 0 ? '/' : '/pipeline', i % 2 === 0 ? ['INCR', counter] : [['INCR', counter]]))
      const answers = await Promise.all(transactions)
      for (const single of await Promise.all(singles)) expect(single.status).toBe(200)
      for (const answer of answers) {
        expect(answer.status).toBe(200)
        const [set, get, first, second] = answer.json as [unknown, unknown, { result: number }, { result: number }]
        expect([set, get]).toEqual([{ result: 'OK' }, { result: 'dg==' }])
        // Atomic: nothing else incremented the counter between the two INCRs of one transaction.
        expect(second.result).toBe(first.result + 1)
      }
      expect(answers.map((a) => a.text).join()).not.toMatch(/nested/)
      expect((await call(target, '/', { body: ['GET', counter] })).json).toEqual({ result: '60' })
      // The connections are clean afterwards: a plain command is not QUEUED into a leftover MULTI.
      expect((await call(target, '/', { body: ['PING'] })).json).toEqual({ result: 'PONG' })
    } finally {
      await target.close()
    }
  })

  it.each([[[['WATCH', 'k']]], [[['MULTI']]], [[['SET', 'k', 'v'], ['EXEC']]], [[['SELECT', 1]]]])(
    'M5: %j is refused with 400 and nothing is applied',
    async (body) => {
      const applied = key('m5')
      const answer = await multi([['SET', applied, '1'], ...body])
      expect(answer.status).toBe(400)
      expect(answer.json).toEqual({ error: expect.stringMatching(/^ERR Command is not available/) })
      expect((await call(server, '/', { body: ['EXISTS', applied] })).json).toEqual({ result: 0 })
    },
  )

  it('stays clean after refusals: the next transaction on the same pool works', async () => {
    await Promise.all([multi([['MULTI']]), multi([['WATCH', 'k']]), multi([['SET', key('y')]])])
    expect((await multi([['PING'], ['ECHO', 'hi']], false)).json).toEqual([{ result: 'PONG' }, { result: 'hi' }])
  })

  it('rejects an empty transaction with 400', async () => {
    expect((await multi([])).status).toBe(400)
  })
})
