import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../src/options.ts'
import { ConfigError } from '../src/errors.ts'

describe('resolveOptions: route rules for per-user and per-cohort caching', () => {
  const route = (rule: object) => resolveOptions({ routes: [{ pattern: '/p/', ...rule }] }).routes[0]

  it('fills cohort defaults and lower-cases header names', () => {
    expect(route({ cohort: { headers: ['CF-IPCountry'] } })?.cohort).toEqual({ headers: ['cf-ipcountry'], cookies: [], query: [], maxCohorts: 32 })
    expect(route({ cohort: { cookies: ['ab'], query: ['v'], maxCohorts: 4 } })?.cohort).toEqual({ headers: [], cookies: ['ab'], query: ['v'], maxCohorts: 4 })
  })

  it.each([
    [{ cohort: {} }, 'routes[0].cohort needs at least one of headers, cookies or query'],
    [{ cohort: { headers: ['bad header'] } }, 'routes[0].cohort.headers must be a list of header names'],
    [{ cohort: { cookies: 'ab' } }, 'routes[0].cohort.cookies must be a list of cookie names'],
    [{ cohort: { query: [''] } }, 'routes[0].cohort.query must be a list of parameter names'],
    [{ cohort: { cookies: ['ab'], maxCohorts: 0 } }, 'routes[0].cohort.maxCohorts must be a positive integer, got 0'],
    [{ perUser: {} }, 'routes[0].perUser needs an identity: "authorization" or "cookie:<name>"'],
    [{ perUser: { identity: 'cookie:' } }, 'routes[0].perUser.identity must be "authorization" or "cookie:<name>", got "cookie:"'],
  ])('rejects %j with a ConfigError naming the option', (rule, message) => {
    expect(() => route(rule)).toThrow(ConfigError)
    expect(() => route(rule)).toThrow(message)
  })
})

describe('resolveOptions: redis.global', () => {
  it('defaults to false and refuses anything but a boolean with a ConfigError naming it', () => {
    const redis = { url: 'https://db.upstash.test', token: 't' }
    expect(resolveOptions({ redis }).redis).toMatchObject({ global: false })
    expect(resolveOptions({ redis: { ...redis, global: true } }).redis).toMatchObject({ global: true })
    expect(() => resolveOptions({ redis: { ...redis, global: 'yes' as unknown as boolean } })).toThrow(new ConfigError('redis.global must be true or false, got "yes"'))
  })
})
