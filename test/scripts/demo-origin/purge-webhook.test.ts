import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { startDemoOrigin, type DemoOrigin } from '../../../scripts/demo-origin/server.ts'
import { computeSignature, SIGNATURE_HEADER } from '../../../src/purge/signature.ts'
import { request, sendJson } from './helpers.ts'

const SECRET = 'test-secret'

interface Received {
  body: unknown
  signatureValid: boolean
}

/** A stand-in for the worker's purge route: verifies the signature like the worker must, records calls. */
async function startReceiver(): Promise<{ server: Server; url: string; received: Received[]; status: { code: number } }> {
  const received: Received[] = []
  const status = { code: 200 }
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks).toString('utf8')
    const header = String(req.headers[SIGNATURE_HEADER.toLowerCase()] ?? '')
    const t = Number(/t=(\d+)/.exec(header)?.[1])
    const v1 = /v1=([0-9a-f]+)/.exec(header)?.[1]
    const fresh = Math.abs(Date.now() / 1000 - t) <= 300
    const signatureValid = fresh && v1 === (await computeSignature(SECRET, t, raw))
    received.push({ body: JSON.parse(raw), signatureValid })
    res.writeHead(signatureValid ? status.code : 401).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}/__tiercache/purge`, received, status }
}

describe('purge webhook after item writes', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>
  let origin: DemoOrigin
  const warn = vi.fn()

  beforeAll(async () => {
    receiver = await startReceiver()
    origin = await startDemoOrigin({ port: 0, purgeUrl: receiver.url, purgeSecret: SECRET, warn })
  })
  beforeEach(() => {
    receiver.received.length = 0
    receiver.status.code = 200
    warn.mockClear()
    origin.reset()
  })
  afterAll(async () => {
    await origin.close()
    await new Promise((resolve) => receiver.server.close(resolve))
  })

  it('sends a signed purge for the item URL and tag before answering the write', async () => {
    const res = await sendJson(`${origin.url}/items/2`, 'PUT', { body: 'changed' })
    expect(res.headers['x-purge-status']).toBe('200')
    expect(receiver.received).toHaveLength(1)
    const [call] = receiver.received
    expect(call?.signatureValid).toBe(true)
    expect(call?.body).toEqual({ urls: ['/items/2'], tags: ['item-2'], id: expect.stringMatching(/^[0-9a-f-]{36}$/) })
  })

  it('purges after PATCH, DELETE and POST, with a fresh id each time', async () => {
    await sendJson(`${origin.url}/items/1`, 'PATCH', { body: 'p' })
    await request(`${origin.url}/items/1`, { method: 'DELETE' })
    const created = await sendJson(`${origin.url}/items`, 'POST', { body: 'new' })
    const urls = receiver.received.map((r) => (r.body as { urls: string[] }).urls[0])
    expect(urls).toEqual(['/items/1', '/items/1', created.headers.location])
    const ids = new Set(receiver.received.map((r) => (r.body as { id: string }).id))
    expect(ids.size).toBe(3)
  })

  it('does not purge when a write changes nothing', async () => {
    await request(`${origin.url}/items/missing`, { method: 'DELETE' })
    await request(`${origin.url}/items/1`, { method: 'PUT', body: 'x', headers: { 'if-match': '"nope"' } })
    await request(`${origin.url}/items/1`)
    expect(receiver.received).toHaveLength(0)
  })

  it('reports a non-2xx webhook answer and still completes the write', async () => {
    receiver.status.code = 500
    const res = await sendJson(`${origin.url}/items/3`, 'PUT', { body: 'kept' })
    expect(res.status).toBe(200)
    expect(res.headers['x-purge-status']).toBe('500')
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('answered 500'))
    expect(origin.data.get('3')?.body).toBe('kept')
  })

  it('reports failed, without throwing, when the webhook is unreachable', async () => {
    const gone = await startReceiver()
    await new Promise((resolve) => gone.server.close(resolve))
    const lonely = await startDemoOrigin({ port: 0, purgeUrl: gone.url, purgeSecret: SECRET, warn })
    try {
      const res = await sendJson(`${lonely.url}/items/1`, 'PUT', { body: 'x' })
      expect(res.status).toBe(200)
      expect(res.headers['x-purge-status']).toBe('failed')
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('purge webhook failed'))
    } finally {
      await lonely.close()
    }
  })
})

describe('purge configuration', () => {
  it('starts calling the webhook once a target is set after start, and stops when cleared', async () => {
    const receiver = await startReceiver()
    const origin = await startDemoOrigin({ port: 0 })
    try {
      expect((await sendJson(`${origin.url}/items/1`, 'PUT', { body: 'a' })).headers['x-purge-status']).toBe('off')
      origin.setPurgeTarget({ url: receiver.url, secret: SECRET })
      expect((await sendJson(`${origin.url}/items/1`, 'PUT', { body: 'b' })).headers['x-purge-status']).toBe('200')
      expect(receiver.received[0]?.signatureValid).toBe(true)
      origin.setPurgeTarget(undefined)
      expect((await sendJson(`${origin.url}/items/1`, 'PUT', { body: 'c' })).headers['x-purge-status']).toBe('off')
      expect(() => origin.setPurgeTarget({ url: 'nope', secret: SECRET })).toThrow(/http\(s\)/)
    } finally {
      await origin.close()
      await new Promise((resolve) => receiver.server.close(resolve))
    }
  })

  it('refuses a purge URL without a secret, or a non-http URL', async () => {
    await expect(startDemoOrigin({ port: 0, purgeUrl: 'http://127.0.0.1:1/purge' })).rejects.toThrow(/together/)
    await expect(startDemoOrigin({ port: 0, purgeUrl: 'ftp://x/purge', purgeSecret: 's' })).rejects.toThrow(/http\(s\)/)
  })
})
