/**
 * Read-only looks at a redis-server from a test (the shared one included: reads of the test's own
 * prefix only): the purge log, and how many keys match a pattern with what expiries.
 */
import { redisCliRaw } from './redis-trouble.ts'

// Read-only Lua: counts the keys matching a pattern and the range of their TTLs.
const KEYS_AND_TTLS = `#!lua flags=no-writes
local cursor, count, maxTtl, minTtl = '0', 0, -2, 1e12
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    count = count + 1
    local t = redis.call('TTL', k)
    if t > maxTtl then maxTtl = t end
    if t < minTtl then minTtl = t end
  end
until cursor == '0'
return {count, minTtl, maxTtl}`

/** Escapes a key for use as a literal in a SCAN MATCH pattern. */
export const globLiteral = (key: string): string => key.replace(/[*?[\]\\]/g, '\\$&')

/** How many keys match `pattern`, and the smallest and largest TTL among them (seconds; −1: none). */
export async function keysAndTtls(port: number, pattern: string): Promise<{ count: number; minTtl: number; maxTtl: number }> {
  const [count, minTtl, maxTtl] = (await redisCliRaw(port, 'EVAL', KEYS_AND_TTLS, '0', pattern)).split('\n').map(Number)
  return { count: count!, minTtl: minTtl!, maxTtl: maxTtl! }
}

/** The purge log under `prefix`: records, their bytes (and the log's own count of them), size, expiry. */
export async function purgeLogState(port: number, prefix: string) {
  const members = (await redisCliRaw(port, 'ZRANGE', `${prefix}plog`, '0', '-1')).split('\n').filter(Boolean)
  return {
    records: members.length,
    bytes: members.reduce((sum, m) => sum + Buffer.byteLength(m), 0),
    counted: Number((await redisCliRaw(port, 'GET', `${prefix}plog:bytes`)) || 0),
    memoryUsage: Number((await redisCliRaw(port, 'MEMORY', 'USAGE', `${prefix}plog`)) || 0),
    pttl: Number(await redisCliRaw(port, 'PTTL', `${prefix}plog`)),
    oldestSeq: Number(/"seq":(\d+)/.exec(members[0] ?? '')?.[1]),
    newestSeq: Number(/"seq":(\d+)/.exec(members.at(-1) ?? '')?.[1]),
  }
}
