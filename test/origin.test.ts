import { describe, expect, it } from 'vitest'
import { buildOriginRequest, withoutHopByHop } from '../src/origin.ts'

describe('origin request building', () => {
  it('drops hop-by-hop fields and every field named in Connection (RFC 9110 §7.6.1)', () => {
    const headers = withoutHopByHop(
      new Headers({ connection: 'close, X-Session-Hop', 'x-session-hop': '1', 'keep-alive': 'timeout=5', te: 'trailers', upgrade: 'h2c', 'x-kept': 'yes' })
    )
    expect([...headers.keys()].sort()).toEqual(['x-kept'])
  })

  it('targets the origin base URL with the same path and query, keeping a base path', () => {
    const request = buildOriginRequest(new Request('https://edge.example/a/b?x=1&y=2'), 'https://origin.example/base/')
    expect(request.url).toBe('https://origin.example/base/a/b?x=1&y=2')
    expect(request.redirect).toBe('manual')
  })

  it('applies the header transform (cache-poisoning defence) and never forwards Host', () => {
    const request = buildOriginRequest(
      new Request('https://edge.example/', { headers: { host: 'edge.example', 'x-forwarded-host': 'evil' } }),
      'https://origin.example',
      (h) => {
        h.delete('x-forwarded-host')
        return h
      }
    )
    expect(request.headers.get('x-forwarded-host')).toBeNull()
    expect(request.headers.get('host')).toBeNull()
  })
})
