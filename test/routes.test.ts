import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../src/options.ts'
import { identityHash, keyParts, matchRoute } from '../src/routes.ts'

// Expected hashes are computed here with Node's own crypto, independently of src/routes.ts.
const sha128 = (text: string) => createHash('sha256').update(text).digest().subarray(0, 16).toString('base64url')

describe('route key parts', () => {
  const routes = resolveOptions({
    routes: [
      { pattern: '/me', perUser: { identity: 'cookie:session' } },
      { pattern: '/p/', perUser: { identity: 'authorization' } },
      { pattern: '/c/', cohort: { headers: ['cf-ipcountry'], cookies: ['ab'], query: ['v'] } },
      { pattern: '/h/', cohort: { headers: ['cf-ipcountry'] } },
    ],
  }).routes
  const parts = (url: string, headers: Record<string, string> = {}) => {
    const request = new Request(url, { headers })
    return keyParts(request, matchRoute(routes, new URL(url).pathname))
  }

  it('hashes the whole Authorization value, or the named cookie, into a 22-character identity', async () => {
    expect(await identityHash('Bearer alice')).toBe(sha128('Bearer alice'))
    expect(await parts('https://a.test/p/x', { authorization: 'Bearer alice' })).toEqual({ identity: sha128('Bearer alice') })
    expect(await parts('https://a.test/me', { cookie: 'theme=dark; session=s3cr3t' })).toEqual({ identity: sha128('s3cr3t') })
  })

  it('gives no identity when the request has none (the stack then bypasses)', async () => {
    expect(await parts('https://a.test/p/x')).toEqual({})
    expect(await parts('https://a.test/me', { cookie: 'session=' })).toEqual({})
  })

  it('keys a cohort on its values, telling cookie/query cohorts (in the key) from header ones (Vary)', async () => {
    const de = await parts('https://a.test/c/x?v=2', { 'cf-ipcountry': 'DE', cookie: 'ab=B' })
    expect(de).toEqual({ cohort: sha128('h:cf-ipcountry=DE\nc:ab=B\nq:v=2'), cohortInKey: true, cohortCookie: true })
    const other = await parts('https://a.test/c/x?v=2', { 'cf-ipcountry': 'DE', cookie: 'ab=A' })
    expect(other?.cohort).not.toBe(de?.cohort)
    expect(await parts('https://a.test/h/x', { 'cf-ipcountry': 'US' })).toEqual({
      cohort: sha128('h:cf-ipcountry=US'),
      cohortInKey: false,
      cohortCookie: false,
    })
  })

  it('adds nothing on routes without per-user or cohort rules', async () => {
    expect(await parts('https://a.test/other')).toBeUndefined()
  })
})
