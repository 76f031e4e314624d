import { describe, expect, it } from 'vitest'
import { resolveEntryOptions } from '../../src/data/options.ts'

describe('data entry options', () => {
  it('applies defaults: seconds to ms, negativeTtl 5 s capped by ttl, early refresh off', () => {
    expect(resolveEntryOptions({ ttl: 60 }, undefined)).toEqual({
      lifetimeMs: 60_000,
      swrMs: 0,
      sieMs: 0,
      tags: [],
      timeoutMs: undefined,
      hardTimeoutMs: undefined,
      negativeMs: 5_000,
      beta: 0,
    })
    expect(resolveEntryOptions({ ttl: 2 }, undefined).negativeMs).toBe(2_000)
    expect(resolveEntryOptions({ earlyRefresh: true }, { ttl: 1.5, tags: ['a'] })).toMatchObject({ lifetimeMs: 1_500, beta: 1, tags: ['a'] })
    expect(resolveEntryOptions({ ttl: 1, earlyRefresh: { beta: 2 } }, undefined).beta).toBe(2)
  })

  it('says what to write instead for each misuse', () => {
    expect(() => resolveEntryOptions({ ttl: -1 }, undefined)).toThrow(new TypeError('tiercache ttl must be a positive number of seconds, got -1: write { ttl: 60 } for a minute'))
    expect(() => resolveEntryOptions({ ttl: 0 }, undefined)).toThrow('tiercache ttl must be a positive number of seconds, got 0')
    expect(() => resolveEntryOptions({}, undefined)).toThrow(new TypeError('tiercache needs a ttl: write { ttl: 60 } (seconds), per call or in dataCache(c, { defaults: { ttl } })'))
    expect(() => resolveEntryOptions({ ttl: '60' as never }, undefined)).toThrow('got "60"')
    expect(() => resolveEntryOptions({ ttl: 1, staleIfError: -5 }, undefined)).toThrow('tiercache staleIfError must be a non-negative number of seconds, got -5: write { staleIfError: 30 } (seconds), or leave it out')
    expect(() => resolveEntryOptions({ ttl: 1, hardTimeout: 0 }, undefined)).toThrow('tiercache hardTimeout must be a positive number of milliseconds, got 0: write { hardTimeout: 500 }, or leave it out to wait for the loader')
    expect(() => resolveEntryOptions({ ttl: 1, timeout: 900, hardTimeout: 500 }, undefined)).toThrow('tiercache timeout (900 ms) is the soft one and must not exceed hardTimeout (500 ms)')
    expect(() => resolveEntryOptions({ ttl: 1, tags: ['a,b'] }, undefined)).toThrow('give one tag per array item, e.g. ["a","b"]')
    expect(() => resolveEntryOptions({ ttl: 1, swr: 5 } as never, undefined)).toThrow(
      'tiercache has no option "swr": the options are ttl, staleWhileRevalidate, staleIfError, tags, timeout, hardTimeout, negativeTtl, earlyRefresh'
    )
    expect(() => resolveEntryOptions({ ttl: 1, earlyRefresh: { beta: 0 } }, undefined)).toThrow('earlyRefresh.beta must be a positive number, got 0: write { earlyRefresh: { beta: 1 } }')
  })
})
