import { describe, expect, it } from 'vitest'
import { zipfProbabilities } from '../../../scripts/model/popularity.ts'
import { characteristicTime, cheHit, tierModel, ttlHit } from '../../../scripts/model/hit-ratio.ts'
import { DEFAULT_PARAMS, runModel, type ModelParams } from '../../../scripts/model/model.ts'
import { parseModelArgs } from '../../../scripts/model/main.ts'
import { COMMANDS, redisValueBytes } from '../../../scripts/model/commands.ts'
import { formatReport } from '../../../scripts/model/report.ts'

const close = (a: number, b: number, rel = 1e-9) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)))

describe('Zipf popularity', () => {
  it('is normalised: the probabilities sum to 1', () => {
    for (const [n, s] of [[1, 1], [10, 0.8], [100_000, 1], [1000, 1.4]] as const) {
      close(zipfProbabilities(n, s).reduce((a, b) => a + b, 0), 1, 1e-12)
    }
  })

  it('matches a known small case: n = 3, s = 1 gives 6/11, 3/11, 2/11', () => {
    const p = zipfProbabilities(3, 1)
    close(p[0]!, 6 / 11)
    close(p[1]!, 3 / 11)
    close(p[2]!, 2 / 11)
  })

  it('s = 0 is uniform, and rank 1 is 2^s times as likely as rank 2', () => {
    expect([...zipfProbabilities(4, 0)]).toEqual([0.25, 0.25, 0.25, 0.25])
    const p = zipfProbabilities(50, 1.3)
    close(p[0]! / p[1]!, 2 ** 1.3)
  })

  it('refuses what is not a distribution, saying what is wrong', () => {
    expect(() => zipfProbabilities(0, 1)).toThrow('keys must be a positive integer, got 0')
    expect(() => zipfProbabilities(10, -1)).toThrow('zipf s must be a finite number ≥ 0, got -1')
  })
})

describe('hit probabilities', () => {
  it('a TTL cache hits λT / (1 + λT): one request per lifetime hits half the time', () => {
    expect(ttlHit(1, 1)).toBe(0.5)
    expect(ttlHit(9, 1)).toBe(0.9)
    expect(ttlHit(0, 100)).toBe(0)
  })

  it("Che's characteristic time for n equal keys is −ln(1 − C/n) / λ", () => {
    const rates = new Float64Array(100).fill(2)
    close(characteristicTime(rates, 25), -Math.log(1 - 25 / 100) / 2, 1e-6)
    // Room for every key: nothing is ever evicted.
    expect(characteristicTime(rates, 100)).toBe(Number.POSITIVE_INFINITY)
  })

  it('a capacity-bound tier holds its capacity, and hot keys hit more than cold ones', () => {
    const p = zipfProbabilities(10_000, 1)
    const rates = p.map((x) => x * 100)
    const tier = tierModel(rates, 1e6, 500)
    expect(tier.bound).toBe('capacity')
    close(tier.occupancy, 500, 1e-6)
    expect(tier.hits[0]!).toBeGreaterThan(tier.hits[100]!)
    close(tier.hits[7]!, cheHit(rates[7]!, tier.characteristicTimeS!))
    // The same tier with room for everything is bounded by the lifetime alone.
    const roomy = tierModel(rates, 10, 1_000_000)
    expect(roomy.bound).toBe('ttl')
    close(roomy.hits[0]!, ttlHit(rates[0]!, 10))
  })
})

describe('the fleet cost model', () => {
  const small: ModelParams = { ...DEFAULT_PARAMS, isolates: 4, dataCentres: 2, requestsPerSecond: 100, keys: 1, purgesPerSecond: 0, ttlSeconds: 10, deltaMs: 1000 }

  it('one key: memory hits λT/(1+λT) per isolate, the edge and Redis the same formula on the misses above', () => {
    const r = runModel(small)
    const tiercache = r.configs.find((c) => c.name === 'tiercache')!
    const mem = ttlHit(25, 10)
    close(tiercache.share.memory, mem)
    const edge = ttlHit(50 * (1 - mem), 10)
    close(tiercache.share.edge, (1 - mem) * edge)
    const redis = ttlHit(100 * (1 - mem) * (1 - edge), 10)
    close(tiercache.share.redis, (1 - mem) * (1 - edge) * redis)
    const hono = r.configs.find((c) => c.name === 'hono/cache alone')!
    close(hono.share.edge, ttlHit(50, 10))
  })

  it('every configuration accounts for every request, and its commands are the per-outcome counts times the rates', () => {
    const r = runModel({ ...DEFAULT_PARAMS, keys: 20_000 })
    for (const c of r.configs) {
      close(c.share.memory + c.share.edge + c.share.redis + c.share.origin, 1, 1e-9)
      if (c.name === 'hono/cache alone') {
        expect(c.commandsPerSecond.total).toBe(0)
        continue
      }
      close(c.commandsPerSecond.redisHits, r.params.requestsPerSecond * c.share.redis * COMMANDS.redisHit)
      close(c.commandsPerSecond.misses, r.params.requestsPerSecond * c.share.origin * COMMANDS.miss)
      close(c.commandsPerSecond.purges, r.params.purgesPerSecond * COMMANDS.purge)
    }
  })

  it('coherence: about one read per isolate per δ without sharing, one per data centre per δ with it', () => {
    const r = runModel({ ...DEFAULT_PARAMS, keys: 10_000 })
    const perIsolate = r.configs.find((c) => c.name === 'tiercache, coherence per isolate')!
    const perColo = r.configs.find((c) => c.name === 'tiercache')!
    // 2,000 isolates at 25 req/s each and 300 data centres at 167 req/s: all active in every 2 s window.
    close(perIsolate.coherenceReadsPerSecond, (2000 * -Math.expm1(-25 * 2)) / 2)
    close(perColo.coherenceReadsPerSecond, (300 * -Math.expm1(-(50_000 / 300) * 2)) / 2)
    expect(Math.round(perIsolate.commandsPerSecond.coherence)).toBe(1000)
    expect(Math.round(perColo.commandsPerSecond.coherence)).toBe(150)
    // An isolate seeing one request a minute reads the log only when a request comes.
    const quiet = runModel({ ...DEFAULT_PARAMS, keys: 10_000, requestsPerSecond: 2000 / 60 })
    close(quiet.configs.find((c) => c.name === 'tiercache, no edge tier')!.coherenceReadsPerSecond, (2000 * -Math.expm1(-(1 / 60) * 2)) / 2)
  })

  it('prices: Upstash commands at $0.2 per 100K, Workers requests at $0.30 per million', () => {
    const r = runModel({ ...DEFAULT_PARAMS, keys: 10_000 })
    for (const c of r.configs) {
      expect(c.usdPerMillion.workersRequests).toBe(0.3)
      close(c.usdPerMillion.upstashCommands, ((c.commandsPerSecond.total * 1e6) / r.params.requestsPerSecond) * (0.2 / 100_000))
    }
    expect(redisValueBytes(46, 344)).toBe(520)
    expect(formatReport(r)).toContain('read 2026-12-02')
  })

  it('bad parameters get an error naming the flag and what to write', () => {
    expect(() => runModel({ ...DEFAULT_PARAMS, isolates: 10, dataCentres: 300 })).toThrow('isolates (10) must be at least dataCentres (300)')
    expect(() => runModel({ ...DEFAULT_PARAMS, ttlSeconds: 0 })).toThrow('ttlSeconds must be a number > 0, got 0')
    expect(() => parseModelArgs(['--rps', 'lots'])).toThrow('--rps must be a number, got "lots"')
    expect(() => parseModelArgs(['--nope'])).toThrow(/nope/)
    expect(() => runModel(parseModelArgs(['--purge-keys', 'hot']).params)).toThrow('purgeKeys must be "popular" or "uniform", got hot')
    expect(parseModelArgs(['--isolates', '500', '--data-centres', '50', '--edge-objects', '1000']).params).toMatchObject({ isolates: 500, dataCentres: 50, edgeCapacityObjects: 1000 })
  })
})
