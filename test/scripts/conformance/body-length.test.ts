import { describe, expect, it } from 'vitest'
import { chunkLength, lengthMismatch } from '../../../scripts/conformance/body-length.ts'

describe('chunkLength', () => {
  it('counts bytes, not characters', () => {
    expect(chunkLength('0123456789')).toBe(10)
    expect(chunkLength('é')).toBe(2)
    expect(chunkLength('00ff', 'hex')).toBe(2)
    expect(chunkLength(new Uint8Array(7))).toBe(7)
  })

  it('knows nothing about other arguments (a callback, no body)', () => {
    expect(chunkLength(undefined)).toBeUndefined()
    expect(chunkLength(() => {})).toBeUndefined()
  })
})

describe('lengthMismatch', () => {
  it('spots the headers-store-Content-Length response: Content-Length 10 on a 36-byte uuid body', () => {
    expect(lengthMismatch('10', chunkLength('6632009d-1507-45c5-b0e4-64c67c1880ab'))).toBe(true)
  })

  it('accepts an honest length, a numeric one and a single-element list', () => {
    expect(lengthMismatch('36', 36)).toBe(false)
    expect(lengthMismatch(36, 36)).toBe(false)
    expect(lengthMismatch(['36'], 36)).toBe(false)
  })

  it('says nothing without a declared length or a known body', () => {
    expect(lengthMismatch(undefined, 36)).toBe(false)
    expect(lengthMismatch('10', undefined)).toBe(false)
    expect(lengthMismatch('ten', 3)).toBe(false)
  })
})
