import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { seededBytes } from '../../scripts/demo-origin/routes/payloads.ts'
import { eventually, readAtLeast, servedBy, startStack, type Stack } from '../support/stack.ts'
import { IDENTITY } from '../support/straight-to-origin.ts'

// A response tiercache will not store is streamed, not buffered: the client gets the first bytes while the
// origin still holds the rest. The demo origin's `drip` fault sends the header section and the first half of
// the body, and holds the rest until the test releases it (scripts/demo-origin/wire-faults.ts). Requests ask
// for identity: workerd's gzip for clients that accept it holds back small chunks.

const MiB = 1024 * 1024

describe('streaming what is not stored', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ vars: { COHERENCE_DELTA_MS: '3600000' } })
  })
  afterAll(() => stack.close())
  afterEach(() => {
    stack.origin.releaseDrip()
    stack.origin.setFault({ mode: 'ok' })
  })

  /**
   * Fetches `path` under `drip`: asserts the first half arrives while the origin holds the rest, then
   * releases it and returns the whole body.
   */
  async function dripThrough(path: string, headers: Record<string, string> = {}): Promise<{ res: Response; body: Uint8Array }> {
    stack.origin.setFault({ mode: 'drip' })
    const res = await stack.workers[0]!.fetch(path, { headers: { ...IDENTITY, ...headers } })
    expect(res.status).toBe(200)
    const declared = Number(res.headers.get('content-length') ?? NaN)
    const reader = res.body!.getReader()
    const half = Number.isNaN(declared) ? 1 : Math.ceil(declared / 2)
    // Buffered instead of streamed, the first half would never come before the release: fail clearly
    // after a generous deadline rather than at the test timeout.
    let timer: NodeJS.Timeout | undefined
    const first = await Promise.race([
      readAtLeast(reader, half),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the first half did not arrive while the origin held the rest')), 10_000)
      }),
    ]).finally(() => clearTimeout(timer))
    expect(first.byteLength, 'bytes received before the release').toBeGreaterThan(0)
    // The origin still holds the rest of this very response.
    expect(stack.origin.dripping(), 'responses the origin holds').toBe(1)
    expect(stack.origin.releaseDrip()).toBe(1)
    const rest = await readAtLeast(reader, Number.POSITIVE_INFINITY)
    const body = new Uint8Array(first.byteLength + rest.byteLength)
    body.set(first)
    body.set(rest, first.byteLength)
    return { res, body }
  }

  it.each<{ label: string; path: string; headers: Record<string, string> }>([
    { label: 'no-store', path: '/no-store?s=1', headers: {} },
    { label: 'private', path: '/private?s=1', headers: {} },
    { label: 'a request with credentials (RFC 9111 §3.5)', path: '/me/implicit?s=1', headers: { authorization: 'Bearer dana' } },
  ])('$label: the first half reaches the client while the origin holds the rest', async ({ path, headers }) => {
    const { res, body } = await dripThrough(path, headers)
    const text = new TextDecoder().decode(body)
    expect(text).toMatch(new RegExp(`\\nserial ${res.headers.get('x-origin-serial')}\\n$`))
    expect(servedBy(res)).toBe('origin')
  })

  it('a body over every tier limit (57 MiB) streams too, and arrives whole', async () => {
    const bytes = 57 * MiB
    const { res, body } = await dripThrough(`/bytes/${bytes}?seed=5`)
    expect(servedBy(res)).toBe('origin')
    expect(res.headers.get('cache-status'), 'no tier claims it').not.toMatch(/stored/)
    expect(body.byteLength).toBe(bytes)
    expect(Buffer.from(body).equals(Buffer.from(seededBytes(bytes, 5)))).toBe(true)
  })

  it('a cacheable response under drip is stored once complete, whole', async () => {
    stack.origin.setFault({ mode: 'drip' })
    const pending = stack.workers[0]!.fetch('/public/drip-stored', { headers: IDENTITY })
    await eventually(() => stack.origin.dripping() === 1)
    stack.origin.releaseDrip()
    const res = await pending
    const body = await res.text()
    expect(body).toBe(`public resource drip-stored\nserial ${res.headers.get('x-origin-serial')}\n`)
    stack.origin.setFault({ mode: 'ok' })
    const again = await stack.workers[0]!.fetch('/public/drip-stored', { headers: IDENTITY })
    expect(servedBy(again)).not.toBe('origin')
    expect(await again.text()).toBe(body)
  })
})
