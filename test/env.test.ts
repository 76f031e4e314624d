import { describe, expect, it } from 'vitest'
import { readWorkerConfig } from '../src/env.ts'
import { ConfigError } from '../src/errors.ts'

// The worker's vars become engine options once per isolate (src/env.ts); a bad value is a ConfigError that
// names the variable, never a silently ignored setting.
describe('readWorkerConfig: coalescing and the fill lease', () => {
  const base = { ORIGIN_URL: 'https://origin.test' }

  it('defaults COALESCE_WAIT_MS and LEASE_MS to 5 s', () => {
    const { options } = readWorkerConfig(base)
    expect(options.coalesceWaitMs).toBe(5000)
    expect(options.leaseMs).toBe(5000)
  })

  it('reads COALESCE_WAIT_MS and LEASE_MS as whole milliseconds', () => {
    const { options } = readWorkerConfig({ ...base, COALESCE_WAIT_MS: '750', LEASE_MS: '30000' })
    expect(options.coalesceWaitMs).toBe(750)
    expect(options.leaseMs).toBe(30000)
  })

  it.each([
    ['COALESCE_WAIT_MS', '0'],
    ['COALESCE_WAIT_MS', '1.5'],
    ['LEASE_MS', '-1'],
    ['LEASE_MS', 'soon'],
  ])('rejects %s=%s with a ConfigError naming it', (name, value) => {
    expect(() => readWorkerConfig({ ...base, [name]: value })).toThrow(ConfigError)
    expect(() => readWorkerConfig({ ...base, [name]: value })).toThrow(`${name} must be a positive integer, got "${value}"`)
  })
})

describe('readWorkerConfig: UPSTASH_GLOBAL', () => {
  const base = { ORIGIN_URL: 'https://origin.test', UPSTASH_REDIS_REST_URL: 'https://db.upstash.test', UPSTASH_REDIS_REST_TOKEN: 't' }
  const redisOf = (env: Record<string, string>) => {
    const { redis } = readWorkerConfig({ ...base, ...env }).options
    if (!redis) throw new Error('redis tier off')
    return redis
  }

  it('is off by default (every lookup on the primary) and on with true, in any case', () => {
    expect(redisOf({}).global).toBe(false)
    expect(redisOf({ UPSTASH_GLOBAL: 'TRUE' }).global).toBe(true)
    expect(redisOf({ UPSTASH_GLOBAL: 'false' }).global).toBe(false)
  })

  it.each(['yes', '1', 'on'])('rejects UPSTASH_GLOBAL=%s with a ConfigError that says what to write', (value) => {
    expect(() => readWorkerConfig({ ...base, UPSTASH_GLOBAL: value })).toThrow(new ConfigError(`UPSTASH_GLOBAL must be true or false, got "${value}"`))
  })
})
