import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { servedBy, startStack, type Stack } from '../support/stack.ts'
import { mulberry32 } from '../../scripts/lib/mulberry32.ts'

// design.md §4 rule 1: one user's private response is never served to another. A seeded random mix of
// identities (Authorization, cookies, both, none), endpoints (private, Set-Cookie, Vary on credentials,
// careless max-age without Vary, public, Vary on a custom header, an opt-in per-user route) and
// concurrency on cold keys; every answer is checked against the identity that asked.

const ROUTES = JSON.stringify([{ pattern: '/me', perUser: { identity: 'authorization' } }])
const PATHS = ['/me', '/me/shared', '/me/leaky', '/me/implicit', '/set-cookie', '/private-field', '/private', '/vary/custom', '/public/p']
const USERS = Array.from({ length: 12 }, (_, i) => `user${i}`)

interface Probe {
  path: string
  headers: Record<string, string>
  expectedUser: string
  tenant: string | undefined
}

const makeProbe = (random: () => number, keySuffix: string): Probe => {
  const pick = <T,>(xs: T[]) => xs[Math.floor(random() * xs.length)]!
  const path = pick(PATHS)
  const headers: Record<string, string> = {}
  const mode = pick(['auth', 'cookie', 'both', 'none'])
  const authUser = pick(USERS)
  const cookieUser = pick(USERS)
  if (mode === 'auth' || mode === 'both') headers.authorization = `Bearer ${authUser}`
  if (mode === 'cookie' || mode === 'both') headers.cookie = `user=${cookieUser}; theme=dark`
  let tenant: string | undefined
  if (path === '/vary/custom' && random() < 0.8) headers['x-tenant'] = tenant = pick(['acme', 'globex', 'initech'])
  const expectedUser = mode === 'auth' || mode === 'both' ? authUser : mode === 'cookie' ? cookieUser : 'anonymous'
  return { path: `${path}?k=${keySuffix}`, headers, expectedUser, tenant }
}

describe('no private response is ever served to another identity', () => {
  let stack: Stack
  const violations: string[] = []
  let checked = 0
  beforeAll(async () => {
    stack = await startStack({ workers: 2, vars: { ROUTES } })
  })
  afterAll(() => stack.close())

  const check = async (probe: Probe, workerIndex: number) => {
    const res = await stack.workers[workerIndex]!.fetch(probe.path, { headers: probe.headers })
    const body = await res.text()
    checked++
    const user = /hello (\S+?)(?:\s|$|\(|,)/.exec(body)?.[1]
    if (user !== undefined && user !== probe.expectedUser) {
      violations.push(`${probe.path} as ${probe.expectedUser} got "${body}" from ${servedBy(res)}`)
    }
    const tenant = /tenant (\S+?)(?:\s|$|\(|,)/.exec(body)?.[1]
    if (tenant !== undefined && tenant !== (probe.tenant ?? 'none')) {
      violations.push(`${probe.path} tenant ${probe.tenant} got "${body}"`)
    }
    if (res.headers.has('set-cookie') && servedBy(res) !== 'origin') {
      violations.push(`${probe.path} served a Set-Cookie from ${servedBy(res)}`)
    }
    if (probe.path.startsWith('/me?') && servedBy(res) !== 'origin' && !/private/.test(res.headers.get('cache-control') ?? '')) {
      violations.push(`per-user ${probe.path} served without Cache-Control: private`)
    }
  }

  it('over 500 sequential requests', async () => {
    const random = mulberry32(0xc0ffee)
    for (let i = 0; i < 500; i++) await check(makeProbe(random, `s${i % 7}`), i % 2)
    expect(violations).toEqual([])
  })

  it('over 600 concurrent requests on cold keys', async () => {
    const random = mulberry32(0xbeef)
    for (let batch = 0; batch < 30; batch++) {
      const probes = Array.from({ length: 20 }, () => makeProbe(random, `c${batch}`))
      await Promise.all(probes.map((p, i) => check(p, i % 2)))
    }
    expect(violations).toEqual([])
    expect(checked).toBeGreaterThanOrEqual(1100)
  })
})
