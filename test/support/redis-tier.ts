/**
 * A RedisTier of a test's own, on a fresh key prefix, through an upstash-local server: for tests of what
 * the tier's scripts do to the real redis-server.
 */
import { randomUUID } from 'node:crypto'
import { createRedisClient } from '../../src/tiers/redis-client.ts'
import { RedisTier } from '../../src/tiers/redis.ts'

export function openRedisTier(upstashUrl: string, token: string): { prefix: string; tier: RedisTier } {
  const prefix = `t:${randomUUID().slice(0, 8)}:`
  const tier = new RedisTier(createRedisClient({ url: upstashUrl, token, timeoutMs: 5000 }), {
    prefix,
    maxEntryBytes: 1 << 20,
    breakerFailures: 3,
    breakerCooldownMs: 5000,
    now: Date.now,
  })
  return { prefix, tier }
}
