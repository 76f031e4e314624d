import { describe, expect, it } from 'vitest'
import { bodySerial, request, useOrigin } from './helpers.ts'

const origin = useOrigin()

/** Endpoint → the headers it must send (exact values) and the ones it must not send. */
const POLICIES: Array<{ path: string; headers: Record<string, string>; absent?: string[] }> = [
  { path: '/public/7', headers: { 'cache-control': 'public, max-age=60', etag: '"public-7"' } },
  { path: '/max-age/42', headers: { 'cache-control': 'max-age=42' } },
  { path: '/s-maxage', headers: { 'cache-control': 'max-age=10, s-maxage=120' } },
  { path: '/cdn', headers: { 'cdn-cache-control': 'max-age=300', 'cache-control': 'max-age=5' } },
  {
    path: '/cf-cdn',
    headers: { 'cloudflare-cdn-cache-control': 'max-age=600', 'cdn-cache-control': 'max-age=300', 'cache-control': 'no-store' },
  },
  { path: '/swr', headers: { 'cache-control': 'max-age=2, stale-while-revalidate=30' } },
  { path: '/sie', headers: { 'cache-control': 'max-age=1, stale-if-error=60' } },
  { path: '/no-store', headers: { 'cache-control': 'no-store' } },
  { path: '/no-cache', headers: { 'cache-control': 'no-cache', etag: '"no-cache-v1"' } },
  { path: '/must-revalidate', headers: { 'cache-control': 'max-age=1, must-revalidate, stale-if-error=60', etag: '"must-revalidate-v1"' } },
  { path: '/private', headers: { 'cache-control': 'private, max-age=60' } },
  { path: '/private-field', headers: { 'cache-control': 'private="Set-Cookie", max-age=60' } },
  { path: '/set-cookie', headers: { 'cache-control': 'public, max-age=60' } },
  {
    path: '/tagged/9',
    headers: { 'cache-control': 'max-age=300', 'cache-tag': 'product-9,products', 'surrogate-key': 'product-9 products' },
  },
  { path: '/etag/a', headers: { 'cache-control': 'max-age=60', etag: '"etag-a"' }, absent: ['last-modified'] },
  { path: '/last-modified/a', headers: { 'cache-control': 'max-age=60' }, absent: ['etag'] },
  { path: '/heuristic', headers: {}, absent: ['cache-control', 'expires', 'etag'] },
  { path: '/expires', headers: {}, absent: ['cache-control'] },
]

describe('cache-policy endpoints', () => {
  it.each(POLICIES)('$path sends its policy headers', async ({ path, headers, absent = [] }) => {
    const res = await request(`${origin().url}${path}`)
    expect(res.status).toBe(200)
    for (const [name, value] of Object.entries(headers)) expect(res.headers[name], name).toBe(value)
    for (const name of absent) expect(res.headers[name], name).toBeUndefined()
  })

  it('gives every endpoint a distinct body', async () => {
    const bodies = await Promise.all(POLICIES.map(async ({ path }) => (await request(`${origin().url}${path}`)).text.split('\n')[0]))
    expect(new Set(bodies).size).toBe(POLICIES.length)
  })

  it('numbers every response with X-Origin-Serial and repeats the serial in the body', async () => {
    const first = await request(`${origin().url}/public/1`)
    const second = await request(`${origin().url}/public/1`)
    const a = Number(first.headers['x-origin-serial'])
    expect(Number(second.headers['x-origin-serial'])).toBe(a + 1)
    expect(bodySerial(first.text)).toBe(a)
    expect(bodySerial(second.text)).toBe(a + 1)
  })

  it('answers HEAD with the GET header section and no body', async () => {
    const get = await request(`${origin().url}/tagged/3`)
    const head = await request(`${origin().url}/tagged/3`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    expect(head.headers['content-length']).toBe(get.headers['content-length'])
    expect(head.headers['cache-tag']).toBe(get.headers['cache-tag'])
    expect(head.headers['x-origin-serial']).toBeDefined()
  })

  it('sets a per-response session cookie on /set-cookie', async () => {
    const res = await request(`${origin().url}/set-cookie`)
    expect(res.headers['set-cookie']).toEqual([`session=${res.headers['x-origin-serial']}; Path=/; HttpOnly`])
  })

  it('sends a Set-Cookie with private="Set-Cookie"', async () => {
    const res = await request(`${origin().url}/private-field`)
    expect(res.headers['set-cookie']?.[0]).toMatch(/^pref=\d+; Path=\/$/)
  })

  it('dates /heuristic Last-Modified a day before start, giving a heuristic lifetime', async () => {
    const res = await request(`${origin().url}/heuristic`)
    const ageMs = Date.parse(res.headers.date ?? '') - Date.parse(res.headers['last-modified'] ?? '')
    expect(ageMs).toBeGreaterThanOrEqual(86_400_000)
    expect(ageMs).toBeLessThan(86_400_000 + 60_000)
  })

  it('sets Expires exactly 60 s after Date on /expires', async () => {
    const res = await request(`${origin().url}/expires`)
    expect(Date.parse(res.headers.expires ?? '') - Date.parse(res.headers.date ?? '')).toBe(60_000)
  })

  it('lets ?max-age= shorten /etag and /last-modified lifetimes', async () => {
    expect((await request(`${origin().url}/etag/x?max-age=1`)).headers['cache-control']).toBe('max-age=1')
    expect((await request(`${origin().url}/last-modified/x?max-age=0`)).headers['cache-control']).toBe('max-age=0')
  })

  it('rejects malformed parameters with an uncacheable 400', async () => {
    for (const path of ['/max-age/abc', '/max-age/-1', '/etag/x?max-age=soon', '/public/a%22b']) {
      const res = await request(`${origin().url}${path}`)
      expect(res.status, path).toBe(400)
      expect(res.headers['cache-control'], path).toBe('no-store')
    }
  })

  it('answers unknown paths 404 and wrong methods 405 with Allow', async () => {
    expect((await request(`${origin().url}/nope`)).status).toBe(404)
    const res = await request(`${origin().url}/public/1`, { method: 'POST' })
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('GET, HEAD')
  })
})
