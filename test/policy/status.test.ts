import { describe, expect, it } from 'vitest'
import { isErrorStatus, isStorableStatus } from '../../src/policy/status.ts'

describe('isStorableStatus (RFC 9110 §15, RFC 9111 §3)', () => {
  it.each([200, 204, 301, 404, 599])('accepts the final status %i', (status) => {
    expect(isStorableStatus(status)).toBe(true)
  })

  it.each([100, 199])('refuses the interim status %i ("the response status code is final")', (status) => {
    expect(isStorableStatus(status)).toBe(false)
  })

  it('refuses 206 and 304, which tiercache does not store', () => {
    expect(isStorableStatus(206)).toBe(false)
    expect(isStorableStatus(304)).toBe(false)
  })

  it.each([600, 999, 200.5, Number.NaN])(
    'refuses %s ("Values outside the range 100..599 are invalid", RFC 9110 §15)',
    (status) => {
      expect(isStorableStatus(status)).toBe(false)
    }
  )
})

describe('isErrorStatus (RFC 9110 §15.5, §15.6)', () => {
  it.each([400, 404, 499, 500, 599])('is true for the 4xx/5xx status %i', (status) => {
    expect(isErrorStatus(status)).toBe(true)
  })

  it.each([200, 304, 399, 600])('is false for %i', (status) => {
    expect(isErrorStatus(status)).toBe(false)
  })
})
