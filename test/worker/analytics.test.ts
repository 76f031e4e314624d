/**
 * Workers Analytics Engine output. Miniflare's own Analytics Engine binding discards what is written, so the
 * worker gets a wrapped binding whose `writeDataPoint` forwards each point to this test (a Node-side
 * service binding), which records it: the exact data points are checked, and a binding that never
 * finishes shows that writing never holds up a response.
 */
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { workerBundlePath } from '../../scripts/build-worker.ts'
import { startDemoOrigin, type DemoOrigin } from '../../scripts/demo-origin/server.ts'
import { eventually } from '../support/stack.ts'

const RECORDER = `
export default function (env) {
  return {
    writeDataPoint(point) {
      return env.SINK.fetch('http://sink/', { method: 'POST', body: JSON.stringify(point) })
    },
  }
}
`

interface Point {
  indexes: string[]
  blobs: string[]
  doubles: number[]
}

describe('Analytics Engine data points', () => {
  let origin: DemoOrigin
  let mf: Miniflare
  const points: Point[] = []
  let hold: Promise<void> | undefined
  let release = () => {}

  const start = (vars: Record<string, string>) =>
    new Miniflare({
      host: '127.0.0.1',
      port: 0,
      workers: [
        {
          name: 'tiercache',
          modules: true,
          scriptPath: workerBundlePath,
          compatibilityDate: '2026-07-01',
          bindings: { ORIGIN_URL: origin.url, INTERNAL_TOKEN: 'test-internal-token', ...vars },
          wrappedBindings: { ANALYTICS: { scriptName: 'analytics-recorder' } },
        },
        {
          name: 'analytics-recorder',
          modules: true,
          script: RECORDER,
          serviceBindings: {
            SINK: async (request: { json(): Promise<unknown> }) => {
              const point = (await request.json()) as Point
              if (hold) await hold
              points.push(point)
              return new Response('recorded')
            },
          },
        },
      ],
    })

  beforeAll(async () => {
    origin = await startDemoOrigin({ port: 0 })
    mf = start({ ANALYTICS_SAMPLE_RATE: '1' })
    await mf.ready
  })
  afterAll(async () => {
    release()
    await mf.dispose()
    await origin.close()
  })

  const get = async (path: string) => {
    const res = await mf.dispatchFetch(`http://tiercache.test${path}`, { cf: { colo: 'LHR' } } as never)
    const body = await res.arrayBuffer()
    return { res, bytes: body.byteLength }
  }

  it('writes one point per request with tier, outcome, status, bytes, duration and colo', async () => {
    const miss = await get('/public/ae-1')
    await eventually(() => points.length === 1, 10_000)
    const hit = await get('/public/ae-1')
    await eventually(() => points.length === 2, 10_000)
    const missing = await get('/fail?status=503')
    await eventually(() => points.length === 3, 10_000)
    expect(missing.res.status).toBe(503)
    expect(points.map((p) => ({ ...p, doubles: [p.doubles[0], p.doubles[1], p.doubles[3]] }))).toEqual([
      { indexes: ['origin'], blobs: ['origin', 'miss', 'LHR', 'GET'], doubles: [200, miss.bytes, 1] },
      { indexes: ['memory'], blobs: ['memory', 'hit', 'LHR', 'GET'], doubles: [200, hit.bytes, 1] },
      { indexes: ['origin'], blobs: ['origin', 'miss', 'LHR', 'GET'], doubles: [503, missing.bytes, 1] },
    ])
    expect(miss.bytes).toBeGreaterThan(0)
    for (const point of points) expect(point.doubles[2]).toBeGreaterThanOrEqual(0)
    // Nothing about the URL or the user is written.
    expect(JSON.stringify(points)).not.toContain('ae-1')
  })

  it('never holds up a response: a binding that does not finish costs the client nothing', async () => {
    hold = new Promise<void>((resolve) => {
      release = resolve
    })
    const before = points.length
    const { res } = await get('/public/ae-2')
    expect(res.status).toBe(200)
    const again = await get('/public/ae-2')
    expect(again.res.status).toBe(200)
    expect(points.length).toBe(before)
    release()
    hold = undefined
    await eventually(() => points.length === before + 2, 10_000)
  })

  it('refuses a sample rate outside (0, 1] with a message that says what to write', async () => {
    const bad = start({ ANALYTICS_SAMPLE_RATE: '5' })
    try {
      const res = await bad.dispatchFetch('http://tiercache.test/public/1')
      expect(res.status).toBe(500)
      expect(await res.json()).toMatchObject({ detail: '[tiercache] invalid configuration: ANALYTICS_SAMPLE_RATE must be a number in (0, 1], got "5"' })
    } finally {
      await bad.dispose()
    }
  })
})
