import { describe, expect, it } from 'vitest'
import { classifyRedisError, errorText, RECENT_ERROR_MS, RedisHealth } from '../../src/tiers/redis-health.ts'
import { TierError } from '../../src/errors.ts'

const named = (name: string, message: string) => Object.assign(new Error(message), { name })

describe('classifyRedisError', () => {
  it.each([
    [named('TimeoutError', 'The operation was aborted due to timeout'), 'timeout'],
    [named('AbortError', 'This operation was aborted'), 'timeout'],
    [new TypeError('fetch failed'), 'unreachable'],
    [new Error('Network connection lost.'), 'unreachable'],
    [new Error('ERR upstash-local: Redis unavailable: connect ECONNREFUSED 127.0.0.1:1, command was: ["get","k"]'), 'unreachable'],
    [new Error("Command failed: OOM command not allowed when used memory > 'maxmemory'."), 'out-of-memory'],
    [new Error("OOM command not allowed when used memory > 'maxmemory'. script: abc, on @user_script:7., command was: [\"evalsha\"]"), 'out-of-memory'],
    [new Error("Command failed: READONLY You can't write against a read only replica."), 'read-only'],
    [new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), 'error'],
    // The command's arguments (URLs, values) never decide: only the error's own text does.
    [new Error('ERR something, command was: ["set","https://example.com/timeout/network/OOM","v"]'), 'error'],
  ])('%s → %s', (error, reason) => {
    expect(classifyRedisError(error)).toBe(reason)
  })

  it('reports the error without the command that failed', () => {
    expect(errorText(new Error('ERR boom, command was: ["set","secret-key","v"]'))).toBe('ERR boom')
  })
})

describe('RedisHealth', () => {
  const setup = () => {
    let clock = 0
    const health = new RedisHealth({ breakerFailures: 3, breakerCooldownMs: 5000, now: () => clock })
    const fail = (operation: string, error: Error) =>
      health.call(operation, async () => {
        clock += 10
        throw error
      }).catch((e: unknown) => e)
    return { health, fail, tick: (ms: number) => void (clock += ms) }
  }

  it('keeps the last error of each operation, classified, until that operation succeeds', async () => {
    const { health, fail } = setup()
    const thrown = await fail('fill', new Error('Command failed: OOM command not allowed'))
    expect(thrown).toBeInstanceOf(TierError)
    expect((thrown as Error).message).toBe('[redis] fill failed (out-of-memory)')
    await fail('fill', new Error('Command failed: OOM command not allowed'))
    await fail('lookup', new Error("READONLY You can't write against a read only replica"))
    expect(health.recentErrors()).toEqual([
      expect.objectContaining({ operation: 'lookup', reason: 'read-only', count: 1 }),
      expect.objectContaining({ operation: 'fill', reason: 'out-of-memory', count: 2, message: 'Command failed: OOM command not allowed' }),
    ])
    await health.call('fill', async () => 'ok')
    expect(health.recentErrors().map((e) => e.operation)).toEqual(['lookup'])
    health.clearErrors()
    expect(health.recentErrors()).toEqual([])
  })

  it(`forgets errors after ${RECENT_ERROR_MS} ms`, async () => {
    const { health, fail, tick } = setup()
    await fail('fill', new Error('OOM'))
    tick(RECENT_ERROR_MS + 1)
    expect(health.recentErrors()).toEqual([])
  })

  it('timeouts and lost connections open the breaker; error answers do not (they cost no deadline)', async () => {
    const answering = setup()
    for (let i = 0; i < 10; i++) await answering.fail('fill', new Error('OOM command not allowed'))
    expect(answering.health.breakerState()).toBe('closed')
    const silent = setup()
    for (let i = 0; i < 3; i++) await silent.fail('lookup', named('TimeoutError', 'timed out'))
    expect(silent.health.breakerState()).toBe('open')
    expect(silent.health.allow()).toBe(false)
  })
})
