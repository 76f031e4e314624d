import { describe, expect, it } from 'vitest'
import { parseJsonObject } from '../src/json-body.ts'

describe('parseJsonObject', () => {
  const fields = new Set(['urls', 'tags'])
  it('returns the object when every field is known', () => {
    expect(parseJsonObject('{"urls":["/a"]}', fields)).toEqual({ ok: true, value: { urls: ['/a'] } })
  })
  it('names what is wrong: not JSON, not an object, an unknown field', () => {
    expect(parseJsonObject('{', fields)).toEqual({ ok: false, error: 'body must be valid JSON' })
    for (const text of ['[]', 'null', '"x"', '3']) expect(parseJsonObject(text, fields)).toEqual({ ok: false, error: 'body must be a JSON object' })
    expect(parseJsonObject('{"urls":[],"tag":["a"]}', fields)).toEqual({ ok: false, error: 'unknown field "tag"' })
  })
})
