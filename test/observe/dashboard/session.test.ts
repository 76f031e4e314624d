import { describe, expect, it } from 'vitest'
import {
  isLoopbackHttp,
  issueSession,
  readCookie,
  SESSION_COOKIE,
  SESSION_SECONDS,
  sessionCookie,
  verifySession,
} from '../../../src/observe/dashboard/session.ts'

const NOW = 1_800_000_000_000

describe('dashboard session cookie', () => {
  it('is an expiry and an HMAC, never the token, and verifies for that token only', async () => {
    const value = await issueSession('s3cret-token', NOW)
    expect(value).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/)
    expect(value).not.toContain('s3cret')
    expect(Number(value.split('.')[0])).toBe(NOW / 1000 + SESSION_SECONDS)
    expect(await verifySession(value, 's3cret-token', NOW)).toBe(true)
    expect(await verifySession(value, 'another-token', NOW)).toBe(false)
  })

  it('expires after SESSION_SECONDS', async () => {
    const value = await issueSession('t', NOW)
    expect(await verifySession(value, 't', NOW + SESSION_SECONDS * 1000 - 1000)).toBe(true)
    expect(await verifySession(value, 't', NOW + SESSION_SECONDS * 1000)).toBe(false)
  })

  it('refuses a value whose expiry was moved (the MAC covers it), a forged MAC, and junk', async () => {
    const value = await issueSession('t', NOW)
    const [expiry, mac] = value.split('.') as [string, string]
    expect(await verifySession(`${Number(expiry) - 10}.${mac}`, 't', NOW)).toBe(false)
    expect(await verifySession(`${expiry}.${'A'.repeat(43)}`, 't', NOW)).toBe(false)
    // Far in the future is refused even with a valid MAC shape: no session outlives SESSION_SECONDS.
    expect(await verifySession(`${Number(expiry) + 3600}.${mac}`, 't', NOW)).toBe(false)
    for (const junk of [undefined, '', 't', `${expiry}`, `${expiry}.`, `-1.${mac}`, `${expiry}.${mac}x`]) {
      expect(await verifySession(junk, 't', NOW)).toBe(false)
    }
    expect(await verifySession(value, '', NOW)).toBe(false)
  })

  it('reads one cookie out of a Cookie header', () => {
    expect(readCookie(`a=1; ${SESSION_COOKIE}=v.x; b=2`, SESSION_COOKIE)).toBe('v.x')
    expect(readCookie(`x${SESSION_COOKIE}=v`, SESSION_COOKIE)).toBeUndefined()
    expect(readCookie(null, SESSION_COOKIE)).toBeUndefined()
  })

  it('is HttpOnly, SameSite=Strict, scoped to the prefix, and Secure except on loopback http', () => {
    expect(sessionCookie('v', '/__tiercache', new URL('https://shop.example/__tiercache/dashboard'))).toBe(
      `${SESSION_COOKIE}=v; Path=/__tiercache; Max-Age=${SESSION_SECONDS}; HttpOnly; SameSite=Strict; Secure`
    )
    expect(sessionCookie('v', '/ops', new URL('http://127.0.0.1:8787/ops/dashboard'))).toBe(
      `${SESSION_COOKIE}=v; Path=/ops; Max-Age=${SESSION_SECONDS}; HttpOnly; SameSite=Strict`
    )
    expect(sessionCookie(undefined, '/ops', new URL('https://x.example/'))).toBe(`${SESSION_COOKIE}=; Path=/ops; Max-Age=0; HttpOnly; SameSite=Strict; Secure`)
    // Plain http anywhere but loopback still gets Secure: the browser then drops it rather than send it in clear.
    expect(sessionCookie('v', '/p', new URL('http://shop.example/p/dashboard'))).toContain('; Secure')
    for (const url of ['http://localhost:8787/', 'http://app.localhost/', 'http://127.0.0.1/', 'http://[::1]:8787/']) expect(isLoopbackHttp(new URL(url))).toBe(true)
    for (const url of ['https://localhost/', 'http://10.0.0.1/', 'http://localhost.example/']) expect(isLoopbackHttp(new URL(url))).toBe(false)
  })
})
