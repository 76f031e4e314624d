import { describe, expect, it } from 'vitest'
import { request, useOrigin } from './helpers.ts'

const origin = useOrigin()
const me = (path: string, headers: Record<string, string> = {}) => request(`${origin().url}${path}`, { headers })

describe('identity endpoints', () => {
  it('greets the bearer user on /me, privately', async () => {
    const res = await me('/me', { authorization: 'Bearer alice' })
    expect(res.text).toMatch(/^hello alice\n/)
    expect(res.headers['cache-control']).toBe('private, max-age=60')
  })

  it('falls back to the user cookie, then to anonymous', async () => {
    expect((await me('/me', { cookie: 'theme=dark; user=bob' })).text).toMatch(/^hello bob\n/)
    expect((await me('/me')).text).toMatch(/^hello anonymous\n/)
  })

  it('prefers Authorization over the cookie', async () => {
    expect((await me('/me', { authorization: 'Bearer alice', cookie: 'user=bob' })).text).toMatch(/^hello alice\n/)
  })

  it('answers /me/shared publicly with a body that is the same for every user', async () => {
    const alice = await me('/me/shared', { authorization: 'Bearer alice' })
    const bob = await me('/me/shared', { authorization: 'Bearer bob' })
    expect(alice.headers['cache-control']).toBe('public, max-age=60')
    expect(alice.text.split('\n')[0]).toBe(bob.text.split('\n')[0])
    expect(alice.text).not.toContain('alice')
  })

  it('puts the user in /me/leaky with Vary: Authorization, Cookie', async () => {
    const res = await me('/me/leaky', { authorization: 'Bearer carol' })
    expect(res.text).toMatch(/^hello carol\n/)
    expect(res.headers['cache-control']).toBe('max-age=60')
    expect(res.headers.vary).toBe('Authorization, Cookie')
  })

  it('puts the user in /me/implicit with no Vary', async () => {
    const res = await me('/me/implicit', { authorization: 'Bearer dave' })
    expect(res.text).toMatch(/^hello dave\n/)
    expect(res.headers['cache-control']).toBe('max-age=60')
    expect(res.headers.vary).toBeUndefined()
  })
})
