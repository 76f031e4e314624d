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
