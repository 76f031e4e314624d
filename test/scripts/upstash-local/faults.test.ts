/**
 * Injected faults (latency, error, down, hang), the client-side timeout of reference
 * `upstash-and-workers.md` §7.6 E12, and Redis itself going away and coming back (§7.5 H9).
 * The shared redis-server is never stopped: H9 uses a port nobody listens on and a throwaway
 * redis-server started (and killed by PID) here.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import net from 'node:net'
import { Redis, errors } from '@upstash/redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { READ_ONLY_TOKEN, call, freePort, startTestServer } from './helpers.ts'
import type { UpstashLocal } from '../../../scripts/upstash-local/server.ts'

let server: UpstashLocal

beforeAll(async () => {
  server = await startTestServer()
})
afterEach(() => server.setFault({}))
afterAll(async () => {
  await server.close()
})

const ping = (target = server) => call(target, '/', { body: ['PING'] })
const timed = async <T>(work: Promise<T>): Promise<{ value: T; ms: number }> => {
  const start = performance.now()
  const value = await work
  return { value, ms: performance.now() - start }
}
/** Settles with 'pending' if `promise` has not settled within `ms`. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise.then(() => 'settled' as const, () => 'settled' as const), new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))])

describe('injected faults', () => {
  it('latencyMs delays each API request by at least that long', async () => {
    server.setFault({ latencyMs: 150 })
    const { value, ms } = await timed(ping())
    expect(value.json).toEqual({ result: 'PONG' })
    expect(ms).toBeGreaterThanOrEqual(145)
  })

  it('error mode answers 500 JSON, which the client reports as UpstashError', async () => {
    server.setFault({ mode: 'error' })
    const answer = await ping()
    expect(answer.status).toBe(500)
    expect(answer.json).toEqual({ error: expect.stringMatching(/^ERR /) })
    const redis = new Redis({ url: server.url, token: server.token, retry: false })
    await expect(redis.get('x')).rejects.toBeInstanceOf(errors.UpstashError)
  })

  it('down mode resets the connection without an answer, and service resumes when cleared', async () => {
    server.setFault({ mode: 'down' })
    await expect(ping()).rejects.toThrow(TypeError)
    const redis = new Redis({ url: server.url, token: server.token, retry: false })
    await expect(redis.get('x')).rejects.toThrow(/fetch failed/)
    server.setFault({ mode: 'ok' })
    expect((await ping()).status).toBe(200)
  })

  it('hang mode holds requests until the fault is cleared, then answers them', async () => {
    server.setFault({ mode: 'hang' })
    const pending = ping()
    expect(await within(pending, 200)).toBe('pending')
    server.setFault({})
    expect((await pending).json).toEqual({ result: 'PONG' })
  })

  it('close() ends hung requests instead of waiting for them', async () => {
    const doomed = await startTestServer()
    doomed.setFault({ mode: 'hang' })
    const pending = ping(doomed)
    expect(await within(pending, 100)).toBe('pending')
    const { ms } = await timed(doomed.close())
    expect(ms).toBeLessThan(1000)
    await expect(pending).rejects.toThrow()
  })

  it('leaves the control endpoints working and uncounted whatever the fault', async () => {
    server.resetStats()
    for (const mode of ['down', 'hang', 'error'] as const) {
      server.setFault({ mode, latencyMs: 5_000 })
      const response = await fetch(`${server.url}/__control/stats`)
      expect(await response.json()).toEqual({ requests: 0, commands: 0, byPath: {} })
    }
  })

  it('E12: a client with signal: () => AbortSignal.timeout(50) rejects with TimeoutError, and the next fast call succeeds', async () => {
    const key = 'upstash-local-test:e12'
    // Setup through a client without a deadline, so a slow machine cannot fail the set instead.
    await new Redis({ url: server.url, token: server.token }).set(key, 'v', { ex: 60 })
    // The signal function runs per call, so the deadline can be widened for the last call: a 50 ms deadline
    // is too tight to prove "the next call succeeds" on a loaded 2-core machine.
    let deadlineMs = 50
    const redis = new Redis({ url: server.url, token: server.token, signal: () => AbortSignal.timeout(deadlineMs) })
    server.setFault({ latencyMs: 2_000 })
    const { ms } = await timed(expect(redis.get(key)).rejects.toMatchObject({ name: 'TimeoutError' }))
    expect(ms).toBeLessThan(1_500)
    server.setFault({ mode: 'hang' })
    await expect(redis.get(key)).rejects.toMatchObject({ name: 'TimeoutError' })
    server.setFault({})
    deadlineMs = 5_000
    expect(await redis.get(key)).toBe('v')
    await redis.del(key)
  })
})

describe('H9: Redis unavailable', () => {
  it('answers a prompt 500 JSON when nothing listens on the Redis port', async () => {
    const orphan = await startTestServer({ redisPort: await freePort() })
    try {
      const { value, ms } = await timed(ping(orphan))
      expect(value.status).toBe(500)
      expect(value.json).toEqual({ error: expect.stringMatching(/^ERR upstash-local: Redis unavailable/) })
      expect(ms).toBeLessThan(1500)
    } finally {
      await orphan.close()
    }
  })

  it('answers 500 within the connect timeout when the Redis host does not answer', async () => {
    // 10.255.255.1 is unroutable: the connect either times out or fails at once, never hangs.
    const orphan = await startTestServer({ redisHost: '10.255.255.1', connectTimeoutMs: 300 })
    try {
      const { value, ms } = await timed(ping(orphan))
      expect(value.status).toBe(500)
      expect(ms).toBeLessThan(1500)
    } finally {
      await orphan.close()
    }
  })

  describe('with a throwaway redis-server that is killed and restarted', () => {
    let port: number
    let redis: ChildProcess | undefined
    let local: UpstashLocal

    beforeAll(async () => {
      port = await freePort()
      redis = await startRedis(port)
      local = await startTestServer({ redisPort: port })
    })
    afterAll(async () => {
      await local.close()
      await stopRedis(redis)
    })

    it('serves, answers a prompt 500 while Redis is down, and recovers for both tokens once it is back', async () => {
      const readOnlyPing = () => call(local, '/', { body: ['GET', 'x'], token: READ_ONLY_TOKEN })
      expect((await ping(local)).json).toEqual({ result: 'PONG' })
      expect((await readOnlyPing()).status).toBe(200)

      await stopRedis(redis)
      const { value, ms } = await timed(Promise.all([ping(local), readOnlyPing()]))
      expect(value.map((a) => a.status)).toEqual([500, 500])
      expect(value[0]?.headers.get('content-type')).toBe('application/json')
      expect(ms).toBeLessThan(1500)

      // A fresh redis-server has forgotten the read-only ACL user; the server recreates it.
      redis = await startRedis(port)
      expect((await ping(local)).json).toEqual({ result: 'PONG' })
      expect((await readOnlyPing()).json).toEqual({ result: null })
      expect((await call(local, '/', { body: ['SET', 'x', 'v'], token: READ_ONLY_TOKEN })).status).toBe(400)
    })
  })
})

/** Starts `redis-server` on `port` as a child of this process and waits until it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: 'ignore',
  })
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => (socket.destroy(), resolve(true)))
      socket.once('error', () => resolve(false))
    })
    if (up) return child
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`redis-server did not start on port ${port}`)
}

/** Kills the child started by {@link startRedis} (by its PID) and waits for it to exit. */
async function stopRedis(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}
