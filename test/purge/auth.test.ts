import { describe, expect, it } from 'vitest'
import { parseSignatureHeader, verifySignature } from '../../src/purge/auth.ts'
import { computeSignature, signPurge } from '../../src/purge/signature.ts'

const SECRET = 'current-secret-0123456789'
const PREVIOUS = 'previous-secret-0123456789'
const BODY = '{"tags":["product-1"]}'
const NOW = 1_800_000_000

describe('purge webhook signatures', () => {
  it('computes HMAC-SHA-256 over "timestamp.body" as lower-case hex (known vector)', async () => {
    // printf '1.{}' | openssl dgst -sha256 -hmac key
    expect(await computeSignature('key', 1, '{}')).toBe('1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224')
  })

  it('accepts a fresh signature by the current or the previous secret (rotation)', async () => {
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW), BODY, [SECRET, PREVIOUS], NOW)).toBe(true)
    expect(await verifySignature(await signPurge(PREVIOUS, BODY, NOW), BODY, [SECRET, PREVIOUS], NOW)).toBe(true)
  })

  it('refuses a signature by an unknown secret, over another body, or with no secrets configured', async () => {
    expect(await verifySignature(await signPurge('someone-else-secret-000', BODY, NOW), BODY, [SECRET], NOW)).toBe(false)
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW), `${BODY} `, [SECRET], NOW)).toBe(false)
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW), BODY, [], NOW)).toBe(false)
  })

  it('refuses timestamps outside ±300 s and accepts the edges of the window', async () => {
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW - 301), BODY, [SECRET], NOW)).toBe(false)
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW + 301), BODY, [SECRET], NOW)).toBe(false)
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW - 300), BODY, [SECRET], NOW)).toBe(true)
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW + 300), BODY, [SECRET], NOW)).toBe(true)
  })

  it('accepts a header carrying several v1 signatures when one matches', async () => {
    const good = await computeSignature(SECRET, NOW, BODY)
    expect(await verifySignature(`t=${NOW},v1=${'0'.repeat(64)},v1=${good}`, BODY, [SECRET], NOW)).toBe(true)
  })

  it.each([null, '', 't=abc,v1=00', `v1=${'a'.repeat(64)}`, 't=1', `t=1,v1=${'z'.repeat(64)}`, `t=1,v2=${'a'.repeat(64)}`])(
    'treats a malformed header %j as unsigned',
    (header) => {
      expect(parseSignatureHeader(header)).toBeUndefined()
    }
  )
})
