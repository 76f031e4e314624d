import { describe, expect, it } from 'vitest'
import { renderMarkdown, renderSvg } from '../../../scripts/bench/report.ts'
import { evaluateTargets } from '../../../scripts/bench/targets.ts'
import { results, scenario } from './fixtures.ts'

const scenarios = [
  scenario('node-constant', 'reference', 20_000),
  scenario('constant-worker', 'reference', 10_000),
  scenario('hono-cache', 'baseline', 2_000),
  scenario('origin', 'baseline', 5_000),
  scenario('memory-hit', 'tiercache', 9_500, {
    hitRatio: { memory: 1, collapsed: 0, edge: 0, redis: 0, stale: 0, origin: 0 },
    memory: [{ worker: 'tiercache-main', entries: 1, bytes: 700, peakBytes: 700, maxBytes: 16_777_216 }],
    sample: { path: '/public/x', status: 200, cacheStatus: 'tiercache-memory; hit; ttl=59', serverTiming: '' },
  }),
]

describe('renderMarkdown', () => {
  const res = results(scenarios)
  res.targets = evaluateTargets({ scenarios, deltaMs: 2000 })
  const md = renderMarkdown(res)

  it('is deterministic', () => {
    expect(renderMarkdown(res)).toBe(md)
  })

  it('records the command, versions, machine and commit', () => {
    expect(md).toContain('Command: `npm run bench`')
    expect(md).toContain('workerd 1.2026')
    expect(md).toContain('2 CPUs (test cpu)')
    expect(md).toContain('commit `0123456789ab`')
  })

  it('puts ratios to each baseline in the throughput table', () => {
    const row = md.split('\n').find((line) => line.startsWith('| memory-hit |'))!
    // 9,500 req/s against 20,000 / 10,000 / 2,000 / 5,000.
    expect(row).toContain('| 0.48 | 0.95 | 4.75 | 1.90 |')
  })

  it('states the targets with their verdicts, and what was not measured', () => {
    expect(md).toContain('memory hit ≥ 0.9 × constant-response worker throughput | 0.95 ×')
    expect(md).toContain('✅ met')
    expect(md).toContain('⚪ not measured')
    expect(md).toContain('stampede was not run')
  })

  it('estimates the host overhead and tiercache\'s own cost per memory hit', () => {
    expect(md).toContain('Load generator ceiling (plain Node server, same bytes): **20,000 req/s**')
    // 1e6 / 9,500 − 1e6 / 10,000 ≈ 5 µs.
    expect(md).toContain('about 5 µs on top of the constant worker')
  })

  it('says when the purge could not be measured', () => {
    const unavailable = results(scenarios)
    unavailable.purge = { available: false, reason: 'purge not available in this build (POST /__tiercache/purge answered 404)' }
    expect(renderMarkdown(unavailable)).toContain('**purge not available in this build (POST /__tiercache/purge answered 404).**')
  })
})

describe('renderSvg', () => {
  const svg = renderSvg(scenarios)

  it('draws one bar per scenario, the widest for the fastest', () => {
    const bars = [...svg.matchAll(/<rect x="250" y="\d+" width="(\d+)" height="22"/g)].map((m) => Number(m[1]))
    expect(bars).toHaveLength(scenarios.length)
    expect(Math.max(...bars)).toBe(bars[0])
    expect(bars[1]).toBe(Math.round(bars[0]! / 2))
  })

  it('is well-formed enough to be an SVG document and escapes text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trim().endsWith('</svg>')).toBe(true)
    expect(renderSvg([scenario('a<b>&"c', 'tiercache', 1)])).toContain('a&#60;b&#62;&#38;&#34;c')
  })
})
