import { describe, expect, it } from 'vitest'
import { checkKey, checkNamespace, checkTags, dataKey, DATA_KEY_SCHEME, namespaceTag } from '../../src/data/key.ts'
import { cacheKey } from '../../src/policy/key.ts'
import { originOfKey } from '../../src/tiers/edge.ts'
import { urlOfKey } from '../../src/coherence/purge-record.ts'

describe('the data key space', () => {
  it('lays keys out as data:<namespace path>:<key>', () => {
    expect(dataKey([], 'user:42')).toBe('data::user:42')
    expect(dataKey(['users', 'admins'], 'a')).toBe('data:users/admins:a')
  })

  it('is one-to-one: different (namespace, key) pairs never give one key', () => {
    const pairs: Array<[string[], string]> = [
      [[], 'a'],
      [['a'], ''],
      [[], 'users:a'],
      [['users'], 'a'],
      [['users', 'a'], 'b'],
      [['users'], 'a/b'],
      [[], 'x|y'],
      [[], 'x%7Cy'],
      [[], 'x%y'],
      [[], 'x%25y'],
    ]
    const keys = pairs.map(([path, key]) => dataKey(path, key))
    expect(new Set(keys).size).toBe(pairs.length)
  })

  it('never collides with an HTTP key: every HTTP key starts with http(s)://, every data key with data:', () => {
    const urls = [
      'http://example.com/',
      'https://example.com/data:x',
      'http://data:80/',
      'https://user:pw@data/x?data:=1',
      'HTTPS://EXAMPLE.COM/%7C?b=2&a=1',
      'http://[::1]:8080/a b',
    ]
    for (let i = 0; i < 200; i++) urls.push(`http${i % 2 ? 's' : ''}://h${i}.test/${encodeURIComponent(String.fromCharCode(32 + (i % 90)))}?q=${i}`)
    for (const url of urls) {
      const key = cacheKey(new URL(url))
      expect(key.startsWith('http://') || key.startsWith('https://')).toBe(true)
      expect(key.startsWith(DATA_KEY_SCHEME)).toBe(false)
    }
    expect(dataKey(['ns'], 'http://example.com/').startsWith(DATA_KEY_SCHEME)).toBe(true)
  })

  it('keeps the whole key as the purge machinery’s URL part (| is encoded) and files edge copies under a fixed host', () => {
    const key = dataKey([], 'a|v=x')
    expect(urlOfKey(key)).toBe(key)
    expect(originOfKey(key)).toBe('https://tiercache.invalid')
  })

  it('refuses keys, namespaces and tags that cannot work, saying what to write', () => {
    expect(() => checkKey('')).toThrow(new TypeError('tiercache data key is empty: pass a non-empty string such as "user:42"'))
    expect(() => checkKey(42)).toThrow('tiercache data key must be a string, got number: build one, e.g. `user:${id}`')
    expect(() => checkKey('x'.repeat(1025))).toThrow('at most 1024')
    expect(() => checkNamespace('a:b')).toThrow(`tiercache namespace must be 1–64 characters of A–Z, a–z, 0–9, "_", "." or "-", got "a:b": e.g. cache.namespace('users')`)
    expect(() => checkTags(['users,admins'])).toThrow(
      new TypeError('tiercache tag "users,admins" is not a tag: 1–1024 printable ASCII characters without commas or spaces: give one tag per array item, e.g. ["users","admins"]')
    )
    expect(() => checkTags('users')).toThrow("tiercache tags must be an array of strings, e.g. { tags: ['users'] }")
    expect(() => checkTags(['a b'])).toThrow('without commas or spaces')
    expect(namespaceTag(['users', 'admins'])).toBe('tiercache-ns:users/admins')
  })
})
