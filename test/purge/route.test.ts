/**
 * The webhook route's own logic, in process: the checks before the fan-out and the id a purge is
 * deduplicated under. The fan-out here only records what it was asked; test/worker/purge.test.ts runs the
 * real one in workerd against Redis.
 */
import { createHash } from 'node:crypto'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { handlePurge } from '../../src/purge/route.ts'
import { computeSignature } from '../../src/purge/signature.ts'
import type { PurgeFanout, PurgeReceipt } from '../../src/purge/fanout.ts'
import type { PurgeScope } from '../../src/coherence/purge-log.ts'

const SECRET = 'current-secret-0123456789'
const PREVIOUS = 'previous-secret-0123456789'
const NOW_S = 1_800_000_000
const MAX_BYTES = 256

function route() {
  const calls: Array<{ scope: PurgeScope; id: string }> = []
  const fanout: Pick<PurgeFanout, 'purge'> = {
    purge: async (scope, id) => {
      calls.push({ scope, id })
      return { id } as PurgeReceipt
    },
  }
  const app = new Hono()
  app.post('/purge', (c) => handlePurge(c, fanout, { secrets: [SECRET, PREVIOUS], maxBytes: MAX_BYTES, ignoreQueryParams: [], now: () => NOW_S * 1000 }))
  const send = (body: BodyInit, signature: string | undefined, headers: Record<string, string> = {}) =>
    app.request('http://tiercache.test/purge', {
      method: 'POST',
      body,
      headers: {
        ...(signature === undefined ? {} : { 'tiercache-signature': signature }),
        // Node's Request declares no Content-Length of its own; a string body is sent with one here.
        ...(typeof body === 'string' ? { 'content-length': String(new TextEncoder().encode(body).byteLength) } : {}),
        ...headers,
      },
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit)
  return { calls, send }
}

/** The replay id worked out here with node:crypto, not with the code under test. */
const expectedReplayId = (timestamp: number, body: string) => `sig-${createHash('sha256').update(`${timestamp}.${body}`).digest('hex')}`
const v1 = (secret: string, body: string, t = NOW_S) => computeSignature(secret, t, body)
const random = () => createHash('sha256').update(String(Math.random())).digest('hex')

describe('purge route: the replay id', () => {
  const body = '{"tags":["product-1"]}'

  it('is the hash of timestamp and body when the body has no id', async () => {
    const { calls, send } = route()
    const res = await send(body, `t=${NOW_S},v1=${await v1(SECRET, body)}`)
    expect(res.status).toBe(200)
    expect(calls.map((c) => c.id)).toEqual([expectedReplayId(NOW_S, body)])
  })

  it('is the same however the valid signature is dressed up: extra unverified v1 values, either secret', async () => {
    const { calls, send } = route()
    const real = await v1(SECRET, body)
    for (const header of [
      `t=${NOW_S},v1=${real}`,
      `t=${NOW_S},v1=${random()},v1=${real}`,
      `t=${NOW_S},v1=${random()},v1=${random()},v1=${real}`,
      `t=${NOW_S},v1=${await v1(PREVIOUS, body)}`,
      `t=${NOW_S},v1=${real},v1=${await v1(PREVIOUS, body)}`,
    ]) {
      expect((await send(body, header)).status).toBe(200)
    }
    expect(new Set(calls.map((c) => c.id))).toEqual(new Set([expectedReplayId(NOW_S, body)]))
  })

  it('is the body\'s own id when it has one', async () => {
    const { calls, send } = route()
    const withId = '{"tags":["product-1"],"id":"write-42"}'
    await send(withId, `t=${NOW_S},v1=${random()},v1=${await v1(SECRET, withId)}`)
    expect(calls.map((c) => c.id)).toEqual(['write-42'])
  })
})

describe('purge route: refusals before the fan-out', () => {
  const body = '{"tags":["product-1"]}'

  it('answers 401 with no detail to a header with more than 4 v1 values, even when one is valid', async () => {
    const { calls, send } = route()
    const real = await v1(SECRET, body)
    const four = `t=${NOW_S},v1=${random()},v1=${random()},v1=${random()},v1=${real}`
    expect((await send(body, four)).status).toBe(200)
    const res = await send(body, `t=${NOW_S},v1=${random()},v1=${random()},v1=${random()},v1=${random()},v1=${real}`)
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: 'unauthorized' })
    expect(calls).toHaveLength(1)
  })

  it('answers 401 to a signature header over 4 KiB', async () => {
    const { calls, send } = route()
    const header = `t=${NOW_S},v1=${await v1(SECRET, body)},x=`
    const res = await send(body, header + 'p'.repeat(4097 - header.length))
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: 'unauthorized' })
    expect(calls).toHaveLength(0)
  })

  it('accepts a body of exactly maxBytes and answers 413 to one byte more, with or without Content-Length', async () => {
    const { calls, send } = route()
    // JSON allows trailing whitespace, so padding keeps the body valid at any length.
    const atLimit = body.padEnd(MAX_BYTES, ' ')
    const over = body.padEnd(MAX_BYTES + 1, ' ')
    const chunked = (text: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          const bytes = new TextEncoder().encode(text)
          controller.enqueue(bytes.subarray(0, 100))
          controller.enqueue(bytes.subarray(100))
          controller.close()
        },
      })
    expect((await send(atLimit, `t=${NOW_S},v1=${await v1(SECRET, atLimit)}`)).status).toBe(200)
    expect((await send(chunked(atLimit), `t=${NOW_S},v1=${await v1(SECRET, atLimit)}`)).status).toBe(200)
    const refused = await send(over, `t=${NOW_S},v1=${await v1(SECRET, over)}`)
    expect(refused.status).toBe(413)
    expect(await refused.json()).toEqual({ error: `body larger than ${MAX_BYTES} bytes` })
    expect((await send(chunked(over), `t=${NOW_S},v1=${await v1(SECRET, over)}`)).status).toBe(413)
    expect(calls).toHaveLength(2)
  })
})
