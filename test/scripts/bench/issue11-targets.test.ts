import { describe, expect, it } from 'vitest'
import { entryBytesTargets, evaluateTargets, missTarget, startupTarget } from '../../../scripts/bench/targets.ts'
import { packageOf, parseWranglerSize, type StartupResult } from '../../../scripts/bench/startup.ts'
import { renderStartup } from '../../../scripts/bench/report.ts'
import { scenario } from './fixtures.ts'

const withCpu = (id: string, cpuUs: number) => {
  const s = scenario(id, id.startsWith('hono') ? 'baseline' : 'tiercache', 500)
  return { ...s, perRequest: { ...s.perRequest, cpuUs, upstashRequests: id === 'miss' ? 2 : 0 } }
}

describe('issue 11 targets', () => {
  it('judges the miss against 1.5 × the hono/cache miss CPU, at the boundary', () => {
    expect(missTarget(withCpu('miss', 1500), withCpu('hono-miss', 1000)).verdict).toBe('met')
    const over = missTarget(withCpu('miss', 1501), withCpu('hono-miss', 1000))
    expect(over.verdict).toBe('not met')
    expect(over.measured).toContain('1.50 ×')
    expect(over.why).toContain('501 µs more')
    expect(missTarget(withCpu('miss', 1500), undefined).verdict).toBe('not measured')
    const noCpu = scenario('hono-miss', 'baseline', 500)
    expect(missTarget(withCpu('miss', 1500), noCpu).verdict).toBe('not measured')
  })

  it('judges Redis bytes per fill against body + 128 and reports memory bytes per entry', () => {
    const miss = (redisBytesWritten: number) =>
      scenario('miss', 'tiercache', 500, {
        redisBytes: { redisBytesWritten, bodyBytesWritten: 50_000, ratio: redisBytesWritten / 50_000, fills: 1000 },
        memory: [{ worker: 'w', entries: 1000, bytes: 400_000, peakBytes: 400_000, maxBytes: 16 << 20 }],
      })
    const [at] = entryBytesTargets(miss(178_000))
    expect(at!.verdict).toBe('met')
    expect(at!.measured).toContain('178 bytes per fill for 50.0-byte bodies: body + 128')
    expect(at!.measured).toContain('memory tier 400 bytes per entry')
    expect(entryBytesTargets(miss(178_001))[0]!.verdict).toBe('not met')
    expect(entryBytesTargets(undefined)[0]!.verdict).toBe('not measured')
  })

  const startup = (tiercacheFirst: number): StartupResult => ({
    bundles: [
      { name: 'tiercache', entry: 'src/worker.ts', totalKiB: 246.02, gzipKiB: 75.91, packages: [{ name: '@upstash/redis', bytes: 78_274 }] },
      { name: 'hono-cache', entry: 'h.ts', totalKiB: 25.9, gzipKiB: 10.64, packages: [{ name: 'hono', bytes: 24_374 }] },
    ],
    tiercache: [1, 2, 3].map(() => ({ startupMs: 900, firstMs: tiercacheFirst, secondMs: 20, status: 200 })),
    hono: [1, 2, 3].map(() => ({ startupMs: 600, firstMs: 50, secondMs: 18, status: 200 })),
  })

  it('judges the first response of a fresh isolate against 1.3 × hono/cache\'s, naming both bundles', () => {
    const met = startupTarget(startup(65))
    expect(met.verdict).toBe('met')
    expect(met.measured).toContain('246.0 KiB / gzip 75.9 KiB vs 25.9 KiB / gzip 10.6 KiB')
    expect(startupTarget(startup(65.1)).verdict).toBe('not met')
    expect(startupTarget(undefined).verdict).toBe('not measured')
    expect(renderStartup(startup(65))).toContain('| tiercache | `src/worker.ts` | 246.02 | 75.91 | @upstash/redis 78,274 |')
  })

  it('lists every issue 11 target in evaluateTargets, measured or not', () => {
    const targets = evaluateTargets({ scenarios: [], deltaMs: 2000 }).map((t) => t.target)
    for (const name of ['edge hit ≥ 1.0 × hono/cache', 'memory hit ≥ 0.9 ×', 'miss (all tiers on) ≤ 1.5 ×', 'Redis bytes per entry ≤ body + 128', "fresh isolate's first response ≤ 1.3 ×"]) {
      expect(targets.some((t) => t.startsWith(name)), name).toBe(true)
    }
  })
})

describe('start-up helpers', () => {
  it('reads wrangler\'s size line and names the package of a bundled file', () => {
    expect(parseWranglerSize('Total Upload: 246.02 KiB / gzip: 75.91 KiB\nNo bindings')).toEqual({ totalKiB: 246.02, gzipKiB: 75.91 })
    expect(parseWranglerSize('nothing here')).toBeUndefined()
    expect(packageOf('node_modules/@upstash/redis/chunk-x.mjs')).toBe('@upstash/redis')
    expect(packageOf('node_modules/hono/dist/hono.js')).toBe('hono')
    expect(packageOf('src/stack/hit.ts')).toBe('src/stack')
    expect(packageOf('src/codec.ts')).toBe('src/codec.ts')
  })
})
