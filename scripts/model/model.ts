/**
 * @module The fleet cost model: request outcomes per tier, Upstash commands and bandwidth, origin
 * requests and dollars per million requests, for tiercache and what it is compared with.
 *
 * Traffic: `requestsPerSecond` spread evenly over `dataCentres` and, inside each, over its isolates; key
 * popularity Zipf(s) over `keys`; every object `objectBytes` with lifetime `ttlSeconds`. Each isolate's
 * memory tier is one LRU+TTL cache (src/tiers/memory.ts; its byte budget over the bytes per entry), each
 * data centre's edge tier one TTL cache (the Cache API's capacity is not published: unbounded unless
 * given), Redis one TTL cache for the world. A tier sees the misses of the tiers above it
 * (scripts/model/hit-ratio.ts states the approximations). Purges: `purgesPerSecond` URL purges, each of
 * one key drawn by popularity (or uniformly); a purged key is fetched again from the origin once and
 * looked up in Redis once by every data centre (isolate, without an edge tier) that held it.
 */
import { zipfProbabilities } from './popularity.ts'
import { tierModel, type TierModel } from './hit-ratio.ts'
import { COMMANDS, WIRE_BYTES, redisValueBytes } from './commands.ts'
import { PRICES } from './prices.ts'

export interface ModelParams {
  isolates: number
  dataCentres: number
  requestsPerSecond: number
  keys: number
  zipfS: number
  objectBytes: number
  ttlSeconds: number
  purgesPerSecond: number
  /** Which keys purges hit: drawn by popularity (hot keys purged most) or uniformly. */
  purgeKeys: 'popular' | 'uniform'
  deltaMs: number
  /** Memory tier byte budget per isolate (tiercache's default 16 MiB). */
  memoryBudgetBytes: number
  /** Memory tier bytes per entry beyond the body. */
  memoryEntryOverheadBytes: number
  /** Edge capacity per data centre in objects; undefined: unbounded (TTL only). */
  edgeCapacityObjects?: number
  /** Envelope metadata bytes in a Redis value. */
  redisMetaBytes: number
  /** Workers CPU per outcome, µs (measured locally in workerd by `npm run bench`). */
  cpuUs: { memoryHit: number; edgeHit: number; redisHit: number; miss: number; honoHit: number; honoMiss: number }
}

/** The stated example (issue 11) with the defaults the README lists. */
export const DEFAULT_PARAMS: ModelParams = {
  isolates: 2000,
  dataCentres: 300,
  requestsPerSecond: 50_000,
  keys: 1_000_000,
  zipfS: 1.0,
  objectBytes: 10_000,
  ttlSeconds: 300,
  purgesPerSecond: 5,
  purgeKeys: 'popular',
  deltaMs: 2000,
  memoryBudgetBytes: 16 * 1024 * 1024,
  memoryEntryOverheadBytes: 640,
  redisMetaBytes: 344,
  // bench-results/latest, 2026-12-02T06:28Z: workerd CPU µs per request. hono/cache's miss was not
  // measured there; its hit's figure stands in (a lower bound: a miss also fetches and stores).
  cpuUs: { memoryHit: 66.1, edgeHit: 406.0, redisHit: 394.0, miss: 1945.7, honoHit: 373.1, honoMiss: 373.1 },
}

export type Tier = 'memory' | 'edge' | 'redis' | 'origin'

/** One configuration's figures. */
export interface ConfigResult {
  name: string
  /** Share of requests answered by each tier (origin: misses). */
  share: Record<Tier, number>
  /** Upstash commands per second, by cause. */
  commandsPerSecond: { redisHits: number; misses: number; coherence: number; purges: number; purgeRefills: number; total: number }
  /** Coherence reads per second (each one command). */
  coherenceReadsPerSecond: number
  /** Upstash bytes per second, both directions. */
  upstashBytesPerSecond: number
  /** Origin requests per second (misses plus refetches after purges). */
  originPerSecond: number
  /** Workers CPU per request, µs (average). */
  cpuUsPerRequest: number
  /** USD per million requests, by line. */
  usdPerMillion: { workersRequests: number; workersCpu: number; upstashCommands: number; upstashBandwidth: number; total: number }
  /** Per tier: the Upstash commands and dollars per million requests its outcomes cause. */
  perTier: Record<Tier, { commandsPerRequest: number; usdPerMillion: number }>
}

export interface ModelResult {
  params: ModelParams
  configs: ConfigResult[]
  tiers: { memory: TierSummary; edge: TierSummary; redis: TierSummary; honoEdge: TierSummary; redisNoEdge: TierSummary }
}

export interface TierSummary {
  bound: TierModel['bound']
  /** Objects one instance holds on average. */
  occupancy: number
  /** Che's characteristic time, s (capacity-bound tiers only). */
  characteristicTimeS?: number
}

const summary = (t: TierModel): TierSummary => ({ bound: t.bound, occupancy: t.occupancy, ...(t.characteristicTimeS !== undefined ? { characteristicTimeS: t.characteristicTimeS } : {}) })

/** Validates parameters with messages that say what to write instead. */
export function checkParams(p: ModelParams): void {
  const positive: Array<keyof ModelParams> = ['isolates', 'dataCentres', 'requestsPerSecond', 'keys', 'objectBytes', 'ttlSeconds', 'deltaMs', 'memoryBudgetBytes']
  for (const name of positive) {
    const v = p[name] as number
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a number > 0, got ${v}`)
  }
  if (!Number.isInteger(p.keys)) throw new RangeError(`keys must be an integer, got ${p.keys}`)
  if (p.isolates < p.dataCentres) throw new RangeError(`isolates (${p.isolates}) must be at least dataCentres (${p.dataCentres}): every data centre runs at least one`)
  if (!(p.purgesPerSecond >= 0)) throw new RangeError(`purgesPerSecond must be ≥ 0, got ${p.purgesPerSecond}`)
  if (!(p.zipfS >= 0)) throw new RangeError(`zipfS must be ≥ 0, got ${p.zipfS}`)
  if (p.purgeKeys !== 'popular' && p.purgeKeys !== 'uniform') throw new RangeError(`purgeKeys must be "popular" or "uniform", got ${String(p.purgeKeys)}`)
}

/** Probability that an instance receiving `rate` requests per s gets at least one in `deltaS`: it then reads the log once. */
const activeInDelta = (rate: number, deltaS: number): number => -Math.expm1(-rate * deltaS)

export function runModel(params: ModelParams): ModelResult {
  checkParams(params)
  const p = params
  const n = p.keys
  const popularity = zipfProbabilities(n, p.zipfS)
  const purgeWeight = p.purgeKeys === 'popular' ? popularity : new Float64Array(n).fill(1 / n)
  const perIsolate = p.requestsPerSecond / p.isolates
  const perDc = p.requestsPerSecond / p.dataCentres
  const deltaS = p.deltaMs / 1000
  const valueBytes = redisValueBytes(p.objectBytes, p.redisMetaBytes)
  const memoryCapacity = Math.floor(p.memoryBudgetBytes / (p.objectBytes + p.memoryEntryOverheadBytes))

  const rates = (scale: number, pass?: Float64Array[]) => {
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      let r = popularity[i]! * scale
      if (pass) for (const m of pass) r *= 1 - m[i]!
      out[i] = r
    }
    return out
  }
  const memory = tierModel(rates(perIsolate), p.ttlSeconds, memoryCapacity)
  const edge = tierModel(rates(perDc, [memory.hits]), p.ttlSeconds, p.edgeCapacityObjects)
  const redis = tierModel(rates(p.requestsPerSecond, [memory.hits, edge.hits]), p.ttlSeconds)
  const honoEdge = tierModel(rates(perDc), p.ttlSeconds, p.edgeCapacityObjects)
  const redisNoEdge = tierModel(rates(p.requestsPerSecond, [memory.hits]), p.ttlSeconds)

  /** Σ popularity × Π(miss above) × hit here. */
  const share = (here: TierModel | undefined, above: TierModel[]): number => {
    let sum = 0
    for (let i = 0; i < n; i++) {
      let v = popularity[i]!
      for (const t of above) v *= 1 - t.hits[i]!
      sum += here ? v * here.hits[i]! : v
    }
    return sum
  }
  /** Expected Σ over purged keys of `f(i)`. */
  const perPurge = (f: (i: number) => number): number => {
    let sum = 0
    for (let i = 0; i < n; i++) sum += purgeWeight[i]! * f(i)
    return sum
  }

  const configs: ConfigResult[] = []
  const build = (
    name: string,
    shares: Record<Tier, number>,
    options: { coherenceReadsPerSecond: number; refillLookups: number; refillOrigin: number; usesRedis: boolean; cpu: Record<Tier, number> }
  ): ConfigResult => {
    const rps = p.requestsPerSecond
    const redisHits = rps * shares.redis * COMMANDS.redisHit
    const misses = options.usesRedis ? rps * shares.origin * COMMANDS.miss : 0
    const coherence = options.coherenceReadsPerSecond * COMMANDS.coherenceRead
    const purges = options.usesRedis ? p.purgesPerSecond * COMMANDS.purge : 0
    // A purged key's lookups from the data centres (isolates) that held it: Redis hits, except the first,
    // which misses (the purge deleted the Redis copy) and fills again.
    const purgeRefills = options.usesRedis ? p.purgesPerSecond * (options.refillLookups * COMMANDS.redisHit + options.refillOrigin * (COMMANDS.miss - COMMANDS.redisHit)) : 0
    const total = redisHits + misses + coherence + purges + purgeRefills
    const bytes =
      (redisHits + p.purgesPerSecond * options.refillLookups) * (WIRE_BYTES.request + WIRE_BYTES.response) +
      rps * shares.redis * valueBytes +
      (options.usesRedis ? (rps * shares.origin + p.purgesPerSecond * options.refillOrigin) * (COMMANDS.miss * (WIRE_BYTES.request + WIRE_BYTES.response) + valueBytes) : 0) +
      options.coherenceReadsPerSecond * (WIRE_BYTES.request + WIRE_BYTES.response + WIRE_BYTES.logReadAnswer) +
      // Every read returns the records of the last δ: per reader, purges per second × δ records.
      options.coherenceReadsPerSecond * p.purgesPerSecond * deltaS * WIRE_BYTES.purgeRecord +
      purges * (WIRE_BYTES.request + WIRE_BYTES.response + WIRE_BYTES.purgeRecord)
    const cpuUsPerRequest = (Object.keys(shares) as Tier[]).reduce((sum, t) => sum + shares[t] * options.cpu[t], 0)
    const perMillion = 1e6 / rps
    const upstashCommandsUsd = (total * perMillion * PRICES.upstashCommands.usd) / 100_000
    const upstashBandwidthUsd = (bytes * perMillion * PRICES.upstashBandwidth.usd) / 1e9
    const workersCpu = (cpuUsPerRequest / 1000) * PRICES.workersCpu.usd
    const usd = { workersRequests: PRICES.workersRequests.usd, workersCpu, upstashCommands: upstashCommandsUsd, upstashBandwidth: upstashBandwidthUsd, total: 0 }
    usd.total = usd.workersRequests + usd.workersCpu + usd.upstashCommands + usd.upstashBandwidth
    const commandUsd = (commandsPerSecond: number) => (commandsPerSecond * perMillion * PRICES.upstashCommands.usd) / 100_000
    const tierUsd = (t: Tier, commandsPerSecond: number) =>
      shares[t] * (PRICES.workersRequests.usd + (options.cpu[t] / 1000) * PRICES.workersCpu.usd) + commandUsd(commandsPerSecond)
    const perTier = {
      memory: { commandsPerRequest: 0, usdPerMillion: tierUsd('memory', 0) },
      edge: { commandsPerRequest: 0, usdPerMillion: tierUsd('edge', 0) },
      redis: { commandsPerRequest: redisHits / rps, usdPerMillion: tierUsd('redis', redisHits) },
      origin: { commandsPerRequest: misses / rps, usdPerMillion: tierUsd('origin', misses) },
    }
    return {
      name,
      share: shares,
      commandsPerSecond: { redisHits, misses, coherence, purges, purgeRefills, total },
      coherenceReadsPerSecond: options.coherenceReadsPerSecond,
      upstashBytesPerSecond: bytes,
      originPerSecond: rps * shares.origin + p.purgesPerSecond * options.refillOrigin,
      cpuUsPerRequest,
      usdPerMillion: usd,
      perTier,
    }
  }

  const cpu = { memory: p.cpuUs.memoryHit, edge: p.cpuUs.edgeHit, redis: p.cpuUs.redisHit, origin: p.cpuUs.miss }
  configs.push(
    build(
      'hono/cache alone',
      { memory: 0, edge: share(honoEdge, []), redis: 0, origin: share(undefined, [honoEdge]) },
      {
        coherenceReadsPerSecond: 0,
        refillLookups: 0,
        // Each data centre that held the purged key fetches it from the origin again.
        refillOrigin: perPurge((i) => p.dataCentres * honoEdge.hits[i]!),
        usesRedis: false,
        cpu: { memory: 0, edge: p.cpuUs.honoHit, redis: 0, origin: p.cpuUs.honoMiss },
      }
    )
  )
  configs.push(
    build(
      'tiercache, no edge tier',
      { memory: share(memory, []), edge: 0, redis: share(redisNoEdge, [memory]), origin: share(undefined, [memory, redisNoEdge]) },
      {
        coherenceReadsPerSecond: (p.isolates * activeInDelta(perIsolate, deltaS)) / deltaS,
        refillLookups: perPurge((i) => p.isolates * memory.hits[i]!),
        refillOrigin: perPurge((i) => redisNoEdge.hits[i]!),
        usesRedis: true,
        cpu,
      }
    )
  )
  const fullShares = { memory: share(memory, []), edge: share(edge, [memory]), redis: share(redis, [memory, edge]), origin: share(undefined, [memory, edge, redis]) }
  const fullRefill = { refillLookups: perPurge((i) => p.dataCentres * edge.hits[i]!), refillOrigin: perPurge((i) => redis.hits[i]!) }
  configs.push(
    build('tiercache, coherence per isolate', fullShares, {
      coherenceReadsPerSecond: (p.isolates * activeInDelta(perIsolate, deltaS)) / deltaS,
      ...fullRefill,
      usesRedis: true,
      cpu,
    })
  )
  configs.push(
    build('tiercache', fullShares, {
      coherenceReadsPerSecond: (p.dataCentres * activeInDelta(perDc, deltaS)) / deltaS,
      ...fullRefill,
      usesRedis: true,
      cpu,
    })
  )
  return { params, configs, tiers: { memory: summary(memory), edge: summary(edge), redis: summary(redis), honoEdge: summary(honoEdge), redisNoEdge: summary(redisNoEdge) } }
}
