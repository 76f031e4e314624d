import { describe, expect, it } from 'vitest'
import { parseWarmBody } from '../../src/warm/request.ts'

describe('parseWarmBody', () => {
  const base = new URL('https://www.example.com/__tiercache/warm')
  it('resolves paths on the host the call was made to and drops duplicates and fragments', () => {
    expect(parseWarmBody('{"urls":["/a","https://www.example.com/a#top","/b?x=1"],"budget":5}', base)).toEqual({
      ok: true,
      value: { source: { kind: 'list', urls: ['https://www.example.com/a', 'https://www.example.com/b?x=1'] }, budget: 5, concurrency: undefined },
    })
    expect(parseWarmBody('{"hot":true}', base)).toMatchObject({ ok: true, value: { source: { kind: 'hot', limit: 50 } } })
    expect(parseWarmBody('{"hot":7}', base)).toMatchObject({ ok: true, value: { source: { kind: 'hot', limit: 7 } } })
  })

  it('refuses other hosts, protocol-relative paths and too many URLs', () => {
    expect(parseWarmBody('{"urls":["//evil.test/a"]}', base)).toEqual({ ok: false, error: '"urls[0]" must not start with "//"' })
    expect(parseWarmBody('{"urls":["https://evil.test/a"]}', base)).toEqual({
      ok: false,
      error: '"urls[0]" names host "evil.test"; only "www.example.com" (the host this call was made to) can be warmed',
    })
    expect(parseWarmBody(JSON.stringify({ urls: Array.from({ length: 1001 }, (_, i) => `/${i}`) }), base)).toEqual({
      ok: false,
      error: '"urls" has 1001 items; at most 1000 are allowed',
    })
  })
})
