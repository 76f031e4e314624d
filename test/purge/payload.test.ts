import { describe, expect, it } from 'vitest'
import { MAX_ITEMS, parsePurgeBody } from '../../src/purge/payload.ts'
import { purgeScope } from '../../src/purge/route.ts'

const error = (text: string) => {
  const result = parsePurgeBody(text)
  return result.ok ? undefined : result.error
}

describe('purge body schema', () => {
  it('accepts every scope and fills the defaults', () => {
    const user = 'hiKt-pZa_0123456789abc'
    expect(parsePurgeBody(`{"urls":["/a","https://x.example/b?q=1"],"tags":["t-1"],"prefixes":["/blog/"],"users":["${user}"],"soft":true,"id":"abc:1"}`)).toEqual({
      ok: true,
      value: { urls: ['/a', 'https://x.example/b?q=1'], tags: ['t-1'], prefixes: ['/blog/'], users: [user], everything: false, soft: true, id: 'abc:1' },
    })
    expect(parsePurgeBody(`{"users":["${user}"]}`)).toMatchObject({ ok: true, value: { users: [user], urls: [] } })
    expect(parsePurgeBody('{"everything":true}')).toMatchObject({ ok: true, value: { everything: true, urls: [], soft: false } })
  })

  it.each([
    ['not json', 'body must be valid JSON'],
    ['[]', 'body must be a JSON object'],
    ['null', 'body must be a JSON object'],
    ['{}', 'nothing to purge: give "urls", "tags", "prefixes", "users" or "everything": true'],
    ['{"users":["Bearer alice"]}', '"users[0]" must be an identity hash: 22 base64url characters'],
    ['{"users":["hiKt-pZa_0123456789ab"]}', '"users[0]" must be an identity hash: 22 base64url characters'],
    ['{"url":["/a"]}', 'unknown field "url"'],
    ['{"urls":"/a"}', '"urls" must be an array of strings'],
    ['{"urls":[1]}', '"urls[0]" must be a string'],
    ['{"urls":["a/b"]}', '"urls[0]" must be a path starting with "/" or an absolute http(s) URL'],
    ['{"urls":["ftp://x/a"]}', '"urls[0]" must use http or https'],
    ['{"urls":["//evil/a"]}', '"urls[0]" must not start with "//"'],
    ['{"tags":["has space"]}', '"tags[0]" must be 1–1024 printable ASCII characters without commas or spaces'],
    ['{"tags":["a,b"]}', '"tags[0]" must be 1–1024 printable ASCII characters without commas or spaces'],
    ['{"tags":["t"],"soft":"yes"}', '"soft" must be a boolean'],
    ['{"everything":1}', '"everything" must be a boolean'],
    ['{"tags":["t"],"id":"has space"}', '"id" must be 1–128 characters of A-Z a-z 0-9 . _ : -'],
  ])('rejects %s with a precise message', (body, message) => {
    expect(error(body)).toBe(message)
  })

  it(`rejects more than ${MAX_ITEMS} items in a list`, () => {
    expect(error(JSON.stringify({ tags: Array.from({ length: MAX_ITEMS + 1 }, (_, i) => `t${i}`) }))).toBe(
      `"tags" has ${MAX_ITEMS + 1} items; at most ${MAX_ITEMS} are allowed`
    )
  })

  it('turns URLs and prefixes into cache keys against the webhook origin', () => {
    const parsed = parsePurgeBody('{"urls":["/items/1?b=2&a=1","/items/1?a=1&b=2"],"prefixes":["/blog/"],"tags":["x","x"]}')
    if (!parsed.ok) throw new Error(parsed.error)
    expect(purgeScope(parsed.value, new URL('https://Edge.Example/__tiercache/purge'), [])).toEqual({
      urls: ['https://edge.example/items/1?a=1&b=2'],
      tags: ['x'],
      prefixes: ['https://edge.example/blog/'],
      all: false,
      soft: false,
    })
  })
})
