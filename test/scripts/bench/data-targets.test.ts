import { describe, expect, it } from 'vitest'
import { evaluateTargets } from '../../../scripts/bench/targets.ts'
import { scenario } from './fixtures.ts'

describe('benchmark: the data API rows', () => {
  const verdict = (scenarios: Parameters<typeof evaluateTargets>[0]['scenarios'], prefix: string) =>
    evaluateTargets({ scenarios, deltaMs: 2000 }).find((t) => t.target.startsWith(prefix))!

  it('compares a getOrSet memory hit with a Map lookup, and a Redis hit with a bare GET, as ratios', () => {
    const memory = verdict([scenario('data-memory-hit', 'tiercache', 900), scenario('data-map', 'baseline', 1000)], 'data API: getOrSet memory hit')
    expect(memory.verdict).toBe('met')
    expect(memory.measured).toMatch(/^0\.90 × \(900 vs 1000 req\/s\)/)
    const redis = verdict([scenario('data-redis-hit', 'tiercache', 800), scenario('data-upstash-get', 'baseline', 1000)], 'data API: getOrSet Redis hit')
    expect(redis.verdict).toBe('not met')
    expect(redis.why).toMatch(/lookup script/)
  })

  it('says which scenario was not run', () => {
    expect(verdict([scenario('data-map', 'baseline', 1000)], 'data API: getOrSet memory hit')).toMatchObject({ verdict: 'not measured', why: 'data-memory-hit or data-map was not run' })
  })
})
