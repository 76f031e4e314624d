/**
 * Reference `upstash-and-workers.md` §7.6 (E1–E11): the official `@upstash/redis@1.39.0` client,
 * unchanged, through both its default (Node) entry and its Cloudflare entry.
 */
import { randomBytes } from 'node:crypto'
import { Redis as NodeRedis, errors } from '@upstash/redis'
import type { RedisConfigNodejs } from '@upstash/redis'
import { Redis as CloudflareRedis } from '@upstash/redis/cloudflare'
import type { RedisConfigCloudflare } from '@upstash/redis/cloudflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteKeys, startTestServer, uniquePrefix } from './helpers.ts'
import type { UpstashLocal } from '../../../scripts/upstash-local/server.ts'

/** The options both entries accept. */
type Config = RedisConfigNodejs & RedisConfigCloudflare
type Client = NodeRedis | CloudflareRedis

let server: UpstashLocal
const prefix = uniquePrefix()

beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await deleteKeys(server, prefix)
  await server.close()
})

describe.each([
  ['@upstash/redis', (config: Config): Client => new NodeRedis(config)],
  ['@upstash/redis/cloudflare', (config: Config): Client => new CloudflareRedis(config)],
])('%s', (entry, create) => {
  const key = (name: string) => `${prefix}${entry}:${name}`
  // retry:false so a failure shows at once instead of after ~4 s of backoff (§2.6).
  const client = (config: Partial<Config> = {}) => create({ url: server.url, token: server.token, retry: false, ...config })

  it('E1: get of a missing key resolves to null via an auto-pipelined request', async () => {
    server.resetStats()
    expect(await client().get(key('missing'))).toBeNull()
    expect(server.stats().byPath).toEqual({ '/pipeline': 1 })
  })

  it('E2: set of an object with ex, then get, round-trips the object', async () => {
    const redis = client()
    expect(await redis.set(key('obj'), { a: 1 }, { ex: 60 })).toBe('OK')
    expect(await redis.get(key('obj'))).toEqual({ a: 1 })
    expect(await redis.ttl(key('obj'))).toBeGreaterThan(58)
  })

  it('E3: concurrent reads share one /pipeline request; ping is PONG and mget has nulls', async () => {
    const redis = client()
    await redis.set(key('a'), 'x')
    server.resetStats()
    const [a, pong, values] = await Promise.all([redis.get(key('a')), redis.ping(), redis.mget(key('a'), key('b'), key('c'))])
    expect([a, pong, values]).toEqual(['x', 'PONG', ['x', null, null]])
    expect(server.stats()).toEqual({ requests: 1, commands: 3, byPath: { '/pipeline': 1 } })
  })

  it('E4: the strings "OK" and 8 come back as themselves, not decoded twice', async () => {
    const redis = client()
    await redis.set(key('ok'), 'OK')
    await redis.set(key('eight'), 8)
    expect(await redis.get(key('ok'))).toBe('OK')
    expect(await redis.get(key('eight'))).toBe(8)
    expect(await redis.mget(key('ok'), key('eight'))).toEqual(['OK', 8])
  })

  it('E5: an emoji round-trips', async () => {
    const redis = client()
    await redis.set(key('emoji'), '😀')
    expect(await redis.get(key('emoji'))).toBe('😀')
  })

  it('E6: multi().set().get().exec() runs as one /multi-exec', async () => {
    server.resetStats()
    expect(await client().multi().set(key('m'), 1).get(key('m')).exec()).toEqual(['OK', 1])
    expect(server.stats().byPath).toEqual({ '/multi-exec': 1 })
  })

  it('M3 via the client: a transaction discarded at queue time rejects with UpstashError', async () => {
    const redis = client()
    const discarded = redis.multi().set(key('t2'), 1).hset(key('t2-hash'), {}).exec()
    await expect(discarded).rejects.toBeInstanceOf(errors.UpstashError)
    expect(await redis.get(key('t2'))).toBeNull()
  })

  it('E7: exec({ keepErrors: true }) reports a NOSCRIPT item without a result and the others without an error', async () => {
    const results = await client()
      .pipeline()
      .set(key('foo'), '1')
      .evalsha('wrong-sha1', [], [])
      .get(key('foo'))
      .exec({ keepErrors: true })
    expect(results).toHaveLength(3)
    expect(results[1]).toEqual({ error: 'NOSCRIPT No matching script. Please use EVAL.', result: undefined })
    expect(results[0]).toMatchObject({ result: 'OK', error: undefined })
    expect(results[2]).toMatchObject({ result: 1, error: undefined })
  })

  it('E8: a bad token rejects with UpstashError naming the auth failure', async () => {
    const rejected = client({ token: 'bad' }).get(key('x'))
    await expect(rejected).rejects.toBeInstanceOf(errors.UpstashError)
    await expect(rejected).rejects.toThrow(/WRONGPASS invalid or missing auth token/)
  })

  it('E9: a command against the wrong type rejects with UpstashError containing WRONGTYPE', async () => {
    const redis = client()
    await redis.set(key('str'), 'v')
    await expect(redis.hget(key('str'), 'f')).rejects.toThrow(errors.UpstashError)
    await expect(redis.hget(key('str'), 'f')).rejects.toThrow(/WRONGTYPE/)
    await expect(client({ enableAutoPipelining: false }).hget(key('str'), 'f')).rejects.toThrow(/^WRONGTYPE/)
  })

  it('E10: readYourWritesSyncToken changes after a write', async () => {
    const redis = client()
    await redis.get(key('missing'))
    const before = redis.readYourWritesSyncToken
    await redis.set(key('rw'), 'v')
    expect(before).toEqual(expect.any(String))
    expect(redis.readYourWritesSyncToken).not.toBe(before)
  })

  it('E11: without auto-pipelining or base64, an emoji and 256 byte-derived characters round-trip', async () => {
    const redis = client({ enableAutoPipelining: false, responseEncoding: false, automaticDeserialization: false })
    const bytes = String.fromCharCode(...randomBytes(256), ...Array.from({ length: 256 }, (_, i) => i))
    for (const value of ['😀', bytes]) {
      expect(await redis.set(key('e11'), value)).toBe('OK')
      expect(await redis.get(key('e11'))).toBe(value)
    }
  })

  it('round-trips the same byte-derived text with base64 and auto-pipelining on', async () => {
    const redis = client({ automaticDeserialization: false })
    const bytes = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))
    await redis.set(key('b64'), bytes)
    expect(await redis.get(key('b64'))).toBe(bytes)
  })

  it('decodes hashes, sets, sorted-set scores and status replies', async () => {
    const redis = client()
    await redis.hset(key('h'), { f: 'v', n: 2 })
    expect(await redis.hgetall(key('h'))).toEqual({ f: 'v', n: 2 })
    await redis.zadd(key('z'), { score: 1.5, member: 'm' })
    expect(await redis.zscore(key('z'), 'm')).toBe(1.5)
    expect(await redis.type(key('h'))).toBe('hash')
    expect(await redis.exists(key('h'), key('nope'))).toBe(1)
  })
})
