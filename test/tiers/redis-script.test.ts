import net from 'node:net'
import { Redis } from '@upstash/redis/cloudflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureRedis, type RedisHandle } from '../../scripts/lib/redis-process.ts'
import { startUpstashLocal, type UpstashLocal } from '../../scripts/upstash-local/server.ts'
import { isNoScript, RedisScript } from '../../src/tiers/redis-script.ts'

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** EVAL and EVALSHA calls as Redis itself counts them (`INFO commandstats`), failed ones included. */
async function scriptCalls(client: Redis): Promise<{ eval: number; evalsha: number }> {
  const info = String(await client.exec(['INFO', 'commandstats']))
  const calls = (name: string) => {
    const line = info.split(/\r?\n/).find((l) => l.startsWith(`cmdstat_${name}:`)) ?? ''
    return Number(/calls=(\d+)/.exec(line)?.[1] ?? 0)
  }
  return { eval: calls('eval'), evalsha: calls('evalsha') }
}

// A redis-server of its own: this suite flushes the script cache, which must not touch the shared one.
describe('RedisScript: EVAL once, then EVALSHA, through the official client and a real Redis', () => {
  let redis: RedisHandle
  let upstash: UpstashLocal
  let client: Redis
  beforeAll(async () => {
    redis = await ensureRedis('127.0.0.1', await freePort())
    expect(redis.started).toBe(true)
    upstash = await startUpstashLocal({ port: 0, token: 'script-test', redisHost: redis.host, redisPort: redis.port })
    client = new Redis({ url: upstash.url, token: 'script-test', retry: false, automaticDeserialization: false, enableTelemetry: false })
  })
  afterAll(async () => {
    await upstash?.close()
    await redis?.stop()
  })

  it('sends the text once, then only the digest, one request per call, and reloads after the cache is lost', async () => {
    const script = new RedisScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`)
    await client.exec(['CONFIG', 'RESETSTAT'])
    upstash.resetStats()

    expect(await script.run(client, ['counter'], ['2'])).toBe(2)
    expect(script.loaded).toBe(true)
    expect(await scriptCalls(client)).toEqual({ eval: 1, evalsha: 0 })
    expect(await script.run(client, ['counter'], ['3'])).toBe(5)
    expect(await script.run(client, ['counter'], ['4'])).toBe(9)
    expect(await scriptCalls(client)).toEqual({ eval: 1, evalsha: 2 })
    // One request per call (the INFO reads are two more).
    expect(upstash.stats().requests).toBe(3 + 2)

    // Redis forgets every script (restart, failover, SCRIPT FLUSH): EVALSHA gets NOSCRIPT, EVAL reloads.
    expect(await client.scriptFlush()).toBe('OK')
    upstash.resetStats()
    expect(await script.run(client, ['counter'], ['1'])).toBe(10)
    expect(upstash.stats().requests).toBe(2)
    expect(await script.run(client, ['counter'], ['1'])).toBe(11)
    expect(upstash.stats().requests).toBe(3)
    expect(await scriptCalls(client)).toEqual({ eval: 2, evalsha: 4 })
  })

  it('passes script errors through without retrying them as EVAL', async () => {
    const script = new RedisScript(`return redis.call('INCR', KEYS[1])`)
    await client.set('not-a-number', 'x')
    await expect(script.run(client, ['not-a-number'], [])).rejects.toThrow(/not an integer/)
    expect(script.loaded).toBe(false)
    await client.del('not-a-number')
    expect(await script.run(client, ['not-a-number'], [])).toBe(1)
    await client.set('not-a-number', 'x')
    const before = await scriptCalls(client)
    await expect(script.run(client, ['not-a-number'], [])).rejects.toThrow(/not an integer/)
    expect(await scriptCalls(client)).toEqual({ eval: before.eval, evalsha: before.evalsha + 1 })
  })

  it('recognises NOSCRIPT answers only', () => {
    expect(isNoScript(new Error('NOSCRIPT No matching script. Please use EVAL.'))).toBe(true)
    expect(isNoScript(new Error('ERR value is not an integer'))).toBe(false)
    expect(isNoScript('NOSCRIPT')).toBe(false)
  })
})
