import { describe, expect, it } from 'vitest'
import { parseSignatureHeader, replayId, verifySignature } from '../../src/purge/auth.ts'
import { computeSignature, signPurge } from '../../src/purge/signature.ts'

const SECRET = 'current-secret-0123456789'
const PREVIOUS = 'previous-secret-0123456789'
const BODY = '{"tags":["product-1"]}'
const NOW = 1_800_000_000
const junk = (i: number) => i.toString(16).padStart(64, '0')

describe('purge webhook signatures', () => {
  it('computes HMAC-SHA-256 over "timestamp.body" as lower-case hex (known vector)', async () => {
    // printf '1.{}' | openssl dgst -sha256 -hmac key
    expect(await computeSignature('key', 1, '{}')).toBe('1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224')
  })

  it('accepts a fresh signature by the current or the previous secret (rotation), naming the value that matched', async () => {
    const current = await computeSignature(SECRET, NOW, BODY)
    const previous = await computeSignature(PREVIOUS, NOW, BODY)
    expect(await verifySignature(`t=${NOW},v1=${current}`, BODY, [SECRET, PREVIOUS], NOW)).toEqual({ timestamp: NOW, signature: current })
    expect(await verifySignature(`t=${NOW},v1=${previous}`, BODY, [SECRET, PREVIOUS], NOW)).toEqual({ timestamp: NOW, signature: previous })
  })

  it('refuses a signature by an unknown secret, over another body, or with no secrets configured', async () => {
    expect(await verifySignature(await signPurge('someone-else-secret-000', BODY, NOW), BODY, [SECRET], NOW)).toBeUndefined()
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW), `${BODY} `, [SECRET], NOW)).toBeUndefined()
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW), BODY, [], NOW)).toBeUndefined()
  })

  it('refuses timestamps outside ±300 s and accepts the edges of the window', async () => {
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW - 301), BODY, [SECRET], NOW)).toBeUndefined()
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW + 301), BODY, [SECRET], NOW)).toBeUndefined()
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW - 300), BODY, [SECRET], NOW)).toMatchObject({ timestamp: NOW - 300 })
    expect(await verifySignature(await signPurge(SECRET, BODY, NOW + 300), BODY, [SECRET], NOW)).toMatchObject({ timestamp: NOW + 300 })
  })

  it('accepts a header carrying several v1 signatures when one matches, and names the one that did', async () => {
    const good = await computeSignature(SECRET, NOW, BODY)
    expect(await verifySignature(`t=${NOW},v1=${'0'.repeat(64)},v1=${good}`, BODY, [SECRET], NOW)).toEqual({ timestamp: NOW, signature: good })
  })

  it('accepts up to 4 v1 values (rotation needs 2) and refuses a header with more, even when one matches', async () => {
    const good = await computeSignature(SECRET, NOW, BODY)
    const header = (n: number) => [`t=${NOW}`, ...Array.from({ length: n - 1 }, (_, i) => `v1=${junk(i)}`), `v1=${good}`].join(',')
    expect(await verifySignature(header(4), BODY, [SECRET], NOW)).toMatchObject({ signature: good })
    expect(await verifySignature(header(5), BODY, [SECRET], NOW)).toBeUndefined()
    expect(parseSignatureHeader(header(5))).toBeUndefined()
    // Malformed v1 values count: the limit is on what was offered.
    expect(parseSignatureHeader(`t=${NOW},v1=x,v1=y,v1=z,v1=w,v1=${good}`)).toBeUndefined()
  })

  it('refuses a header longer than 4 KiB and accepts one of exactly 4096 characters', async () => {
    const good = await computeSignature(SECRET, NOW, BODY)
    const base = `t=${NOW},v1=${good}`
    // Padding with an unknown parameter (ignored by the parser) to an exact length.
    const padded = (length: number) => `${base},x=${'p'.repeat(length - base.length - 3)}`
    expect(padded(4096)).toHaveLength(4096)
    expect(await verifySignature(padded(4096), BODY, [SECRET], NOW)).toMatchObject({ signature: good })
    expect(await verifySignature(padded(4097), BODY, [SECRET], NOW)).toBeUndefined()
  })

  it.each([null, '', 't=abc,v1=00', `v1=${'a'.repeat(64)}`, 't=1', `t=1,v1=${'z'.repeat(64)}`, `t=1,v2=${'a'.repeat(64)}`])(
    'treats a malformed header %j as unsigned',
    (header) => {
      expect(parseSignatureHeader(header)).toBeUndefined()
    }
  )
})

describe('replay id of a purge without an id', () => {
  it('is "sig-" + SHA-256 of "timestamp.body" (known vector)', async () => {
    // printf '1.{}' | sha256sum
    expect(await replayId({ timestamp: 1, signature: 'ignored' }, '{}')).toBe(
      'sig-a26b28cbf50311f74b2b88ce4d829da70369a53ce920e134d6e31848a662e9c4'
    )
  })

  it('depends only on what was signed, not on which v1 matched', async () => {
    const byCurrent = await verifySignature(`t=${NOW},v1=${await computeSignature(SECRET, NOW, BODY)}`, BODY, [SECRET, PREVIOUS], NOW)
    const byPrevious = await verifySignature(`t=${NOW},v1=${await computeSignature(PREVIOUS, NOW, BODY)}`, BODY, [SECRET, PREVIOUS], NOW)
    expect(byCurrent!.signature).not.toBe(byPrevious!.signature)
    expect(await replayId(byCurrent!, BODY)).toBe(await replayId(byPrevious!, BODY))
    expect(await replayId(byCurrent!, BODY)).not.toBe(await replayId({ timestamp: NOW + 1, signature: '' }, BODY))
    expect(await replayId(byCurrent!, BODY)).not.toBe(await replayId(byCurrent!, `${BODY} `))
  })
})
