import { describe, expect, it } from 'vitest'
import { parseResults } from '../../../scripts/conformance/suite-client.ts'
import { installKey } from '../../../scripts/conformance/suite-copy.ts'

describe('parseResults', () => {
  it('reads the client\'s JSON: true, or [error name, message]', () => {
    expect(parseResults('{"a": true, "b": ["Assertion", "Response 2 comes from cache"]}')).toEqual({
      a: true,
      b: ['Assertion', 'Response 2 comes from cache'],
    })
  })

  it('fails clearly when the client printed something else', () => {
    expect(() => parseResults('Running undefined\n')).toThrow(/printed no JSON results/)
    expect(() => parseResults('[]')).toThrow(/not an object/)
    expect(() => parseResults('{"a": 1}')).toThrow(/unexpected outcome for a/)
  })
})

describe('installKey', () => {
  const pkg = '{"dependencies":{"undici":"^7.4.0"}}'

  it('is stable for the same package.json and Node major version', () => {
    expect(installKey(pkg, 'v22.23.3')).toBe(installKey(pkg, 'v22.1.0'))
  })

  it('changes with the dependencies or the Node major version', () => {
    expect(installKey(pkg, 'v22.23.3')).not.toBe(installKey('{"dependencies":{"undici":"^8.0.0"}}', 'v22.23.3'))
    expect(installKey(pkg, 'v22.23.3')).not.toBe(installKey(pkg, 'v24.0.0'))
  })
})
