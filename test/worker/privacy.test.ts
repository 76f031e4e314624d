import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { servedBy, startStack, type Stack } from '../support/stack.ts'
import { mulberry32 } from '../../scripts/lib/mulberry32.ts'

// design.md §4 rule 1: one user's private response is never served to another. A seeded random mix of
// identities (Authorization, cookies, both, none), endpoints (private, Set-Cookie, Vary on credentials,
// careless max-age without Vary, public, Vary on a custom header, an opt-in per-user route) and
// concurrency on cold keys; every answer is checked against the identity that asked.

const ROUTES = JSON.stringify([
  { pattern: '/me', perUser: { identity: 'authorization' } },
  { pattern: '/p/', perUser: { identity: 'authorization' } },
])
/** The demo origin's per-user pages (scripts/demo-origin/routes/identity.ts): private, plain, public, Vary: Cookie. */
const PER_USER_PATHS = ['/p/private', '/p/plain', '/p/public', '/p/vary-cookie']
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

/**
 * The first line of the body each demo endpoint sends to `probe` (scripts/demo-origin/routes): identity
 * routes greet the caller, `/vary/custom` names the tenant, the others are the same for everyone.
 */
const expectedFirstLine = (path: string, probe: Probe): string => {
  switch (path) {
    case '/me':
    case '/me/leaky':
    case '/me/implicit':
      return `hello ${probe.expectedUser}`
    case '/me/shared':
      return 'the same for every signed-in user'
    case '/set-cookie':
      return 'public body with a session cookie'
    case '/private-field':
      return 'shareable apart from Set-Cookie'
    case '/private':
      return 'private to one user'
    case '/vary/custom':
      return `tenant ${probe.tenant ?? 'none'}`
    case '/public/p':
      return 'public resource p'
    case '/p/private':
    case '/p/plain':
    case '/p/public':
      return `hello ${probe.expectedUser}, your ${path.slice(3)} page`
    case '/p/vary-cookie':
      return `hello ${probe.expectedUser}, your cookie page`
    default:
      throw new Error(`no expected body for ${path}`)
  }
}

describe('no private response is ever served to another identity', () => {
  let stack: Stack
  const violations: string[] = []
  /** Answers in the running test, per path and tier (`memory`, `edge`, `redis`, `origin`). */
  let servedFrom: Record<string, Record<string, number>> = {}
  let checked = 0
  beforeAll(async () => {
    stack = await startStack({ workers: 2, vars: { ROUTES } })
  })
  afterAll(() => stack.close())

  const check = async (probe: Probe, workerIndex: number) => {
    const res = await stack.workers[workerIndex]!.fetch(probe.path, { headers: probe.headers })
    const body = await res.text()
    checked++
    const path = probe.path.slice(0, probe.path.indexOf('?'))
    const by = servedBy(res)
    ;(servedFrom[path] ??= {})[by] = (servedFrom[path]![by] ?? 0) + 1
    // Every endpoint here answers 200 with a known body: an error, or any other body, is a failure too,
    // so a run where the worker or the origin fails cannot pass as "no leak seen".
    if (res.status !== 200) {
      violations.push(`${probe.path} as ${probe.expectedUser}: status ${res.status} from ${by}: "${body}"`)
      return
    }
    const firstLine = body.split('\n', 1)[0]
    const expected = expectedFirstLine(path, probe)
    if (firstLine !== expected) {
      violations.push(`${probe.path} as ${probe.expectedUser}${probe.tenant ? ` (tenant ${probe.tenant})` : ''} got "${firstLine}", expected "${expected}", from ${by}`)
    }
    if (res.headers.has('set-cookie') && by !== 'origin') {
      violations.push(`${probe.path} served a Set-Cookie from ${by}`)
    }
    if ((path === '/me' || path.startsWith('/p/')) && by !== 'origin' && !/^private\b/.test(res.headers.get('cache-control') ?? '')) {
      violations.push(`per-user ${probe.path} served without Cache-Control: private`)
    }
  }
  const hits = (path: string) => Object.entries(servedFrom[path] ?? {}).reduce((n, [by, count]) => (by === 'origin' ? n : n + count), 0)
  const answers = (path: string) => Object.values(servedFrom[path] ?? {}).reduce((a, b) => a + b, 0)
  beforeEach(() => {
    violations.length = 0
    servedFrom = {}
    checked = 0
  })

  /** The cache was in play: every path was probed and shareable ones were served from cache tiers. */
  const expectCacheInPlay = (shareable: string[]) => {
    console.log(`privacy: answers by path and tier ${JSON.stringify(servedFrom)}`)
    for (const path of PATHS) expect(answers(path), path).toBeGreaterThan(0)
    for (const path of shareable) expect(hits(path), path).toBeGreaterThan(0)
    // The opt-in per-user route caches too: a repeat of the same user and key is a hit.
    expect(hits('/me'), '/me').toBeGreaterThan(0)
  }

  it('over 500 sequential requests', async () => {
    const random = mulberry32(0xc0ffee)
    for (let i = 0; i < 500; i++) await check(makeProbe(random, `s${i % 7}`), i % 2)
    expect(violations).toEqual([])
    expect(checked).toBe(500)
    expectCacheInPlay(['/public/p', '/me/shared', '/vary/custom', '/private-field'])
  })

  it('per-user routes: 400 requests by 4 users over 3 keys cache per user (hits counted) and never cross users', async () => {
    const random = mulberry32(0x5eed)
    const pick = <T,>(xs: T[]) => xs[Math.floor(random() * xs.length)]!
    const users = USERS.slice(0, 4)
    let authenticated = 0
    for (let i = 0; i < 400; i++) {
      const path = pick(PER_USER_PATHS)
      const mode = pick(['auth', 'auth', 'auth', 'both', 'cookie'])
      const authUser = pick(users)
      const cookieUser = pick(users)
      const headers: Record<string, string> = {}
      if (mode !== 'cookie') headers.authorization = `Bearer ${authUser}`
      if (mode !== 'auth') headers.cookie = `user=${cookieUser}`
      if (mode !== 'cookie') authenticated++
      const expectedUser = mode === 'cookie' ? cookieUser : authUser
      await check({ path: `${path}?k=${i % 3}`, headers, expectedUser, tenant: undefined }, i % 2)
    }
    expect(violations).toEqual([])
    const perUserHits = PER_USER_PATHS.reduce((n, path) => n + hits(path), 0)
    console.log(`privacy: per-user answers ${JSON.stringify(servedFrom)}`)
    // 4 users × 4 pages × 3 keys = 48 cold combinations per process at most; the rest of the ~320
    // authenticated requests can be hits. Cookie-only requests carry no identity and never are.
    expect(perUserHits).toBeGreaterThanOrEqual(authenticated - 2 * 48)
    expect(perUserHits).toBeLessThanOrEqual(authenticated)
  })

  it('over 600 concurrent requests on cold keys', async () => {
    const random = mulberry32(0xbeef)
    for (let batch = 0; batch < 30; batch++) {
      const probes = Array.from({ length: 20 }, () => makeProbe(random, `c${batch}`))
      await Promise.all(probes.map((p, i) => check(p, i % 2)))
    }
    expect(violations).toEqual([])
    expect(checked).toBe(600)
    expectCacheInPlay(['/public/p', '/me/shared'])
  })
})
