/**
 * @module `npm run bench` options. The defaults are the published configuration (about nine minutes on a
 * 2-core machine); `--quick` is a smoke run for developing the benchmark itself, not for figures.
 */
import { parseArgs } from 'node:util'

export interface BenchOptions {
  /** Seconds per measured repetition. */
  durationS: number
  reps: number
  /** Repetitions of the pairs the two throughput targets compare (constant worker / memory hit, hono/cache / edge hit). */
  pairedReps: number
  /** Seconds of unmeasured load before a scenario's repetitions. */
  warmupS: number
  /** Connections for the hit, miss and baseline scenarios. */
  connections: number
  /** Connections for the Zipf mix and its no-cache comparison (slow misses need more in flight). */
  zipfConnections: number
  zipfKeys: number
  zipfS: number
  /** Requests of Zipf warm-up before the measured repetitions. */
  zipfWarmupRequests: number
  originLatencyMs: number
  /** Offered rate (req/s, open loop) of the Zipf latency comparison, cache and no cache alike. */
  zipfPacedRate: number
  /**
   * Seconds per repetition of that comparison. Each miss adds ~80 ms / requests to the mean, so the
   * number of misses in a repetition decides the figure: 3,000 requests rather than 1,000 keep its
   * sampling spread down.
   */
  zipfPacedDurationS: number
  upstashLatencyMs: number
  /** Distinct pre-warmed URLs the edge, Redis and hono/cache hit scenarios rotate over. */
  rotatingKeys: number
  stampedeConcurrency: number
  stampedeReps: number
  purgeTrials: number
  /** Fresh worker processes of each kind the start-up comparison starts. */
  coldStarts: number
  /** Coherence interval δ the purge and coherence targets are judged against (design.md §5 default). */
  deltaMs: number
  /** `REDIS_TIMEOUT_MS` for the tiercache workers. */
  redisTimeoutMs: number
  seed: number
  /** Pin the load generator and the workers to separate CPUs (scripts/bench/cpu-pinning.ts). */
  pin: boolean
  /** Scenario ids to run (all when empty). */
  only: string[]
  outDir: string
}

export const DEFAULTS: BenchOptions = {
  durationS: 5,
  reps: 3,
  pairedReps: 5,
  warmupS: 1,
  connections: 10,
  zipfConnections: 20,
  zipfKeys: 10_000,
  zipfS: 1.0,
  zipfWarmupRequests: 60_000,
  originLatencyMs: 80,
  zipfPacedRate: 200,
  zipfPacedDurationS: 15,
  upstashLatencyMs: 3,
  rotatingKeys: 256,
  stampedeConcurrency: 200,
  stampedeReps: 3,
  purgeTrials: 15,
  coldStarts: 5,
  deltaMs: 2000,
  redisTimeoutMs: 1000,
  seed: 20_251_123,
  pin: true,
  only: [],
  outDir: 'bench-results',
}

const QUICK: Partial<BenchOptions> = { zipfPacedDurationS: 2, durationS: 1, warmupS: 0.5, pairedReps: 3, zipfWarmupRequests: 5000, purgeTrials: 3, coldStarts: 3 }

export const SCENARIO_IDS = [
  'node-constant',
  'constant-worker',
  'constant-worker-entry',
  'hono-cache',
  'origin',
  'memory-hit',
  'memory-hit-entry',
  'memory-hit-user',
  'edge-hit',
  'redis-hit',
  'redis-hit-user',
  'miss',
  'hono-miss',
  'startup',
  'origin-80ms',
  'zipf',
  'zipf-no-edge',
  'stampede',
  'purge',
  'data-memory-hit',
  'data-map',
  'data-redis-hit',
  'data-upstash-get',
  'global',
] as const

export const USAGE = `usage: npm run bench [-- options]
  --duration S         seconds per repetition (default ${DEFAULTS.durationS})
  --reps N             repetitions per scenario, medians reported (default ${DEFAULTS.reps})
  --paired-reps N      repetitions of the constant/memory and hono/edge pairs (default ${DEFAULTS.pairedReps})
  --warmup S           warm-up seconds per scenario (default ${DEFAULTS.warmupS})
  --connections N      connections for hit/miss/baseline scenarios (default ${DEFAULTS.connections})
  --zipf-connections N connections for the Zipf mix (default ${DEFAULTS.zipfConnections})
  --zipf-warmup N      Zipf warm-up requests (default ${DEFAULTS.zipfWarmupRequests})
  --zipf-rate N        offered req/s of the Zipf latency comparison (default ${DEFAULTS.zipfPacedRate})
  --zipf-paced-duration S  seconds per repetition of that comparison (default ${DEFAULTS.zipfPacedDurationS})
  --purge-trials N     purge trials (default ${DEFAULTS.purgeTrials})
  --redis-timeout-ms N REDIS_TIMEOUT_MS of the workers (default ${DEFAULTS.redisTimeoutMs}; shipped default 150, see report)
  --seed N             base seed (default ${DEFAULTS.seed})
  --no-pin             leave processes to the scheduler (default: load generator on CPU 0, workers on CPU 1)
  --only a,b           run only these scenarios: ${SCENARIO_IDS.join(', ')} (zipf-no-edge runs with zipf)
  --out DIR            results folder (default ${DEFAULTS.outDir})
  --quick              smoke run (1 s repetitions, small warm-ups); not for figures`

const positive = (name: string, raw: string | undefined, fallback: number, integer = true): number => {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}`)
  return n
}

/** Parses argv (without `node script`); throws with a message on bad input. */
export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      reps: { type: 'string' },
      'paired-reps': { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'zipf-connections': { type: 'string' },
      'zipf-warmup': { type: 'string' },
      'zipf-rate': { type: 'string' },
      'zipf-paced-duration': { type: 'string' },
      'purge-trials': { type: 'string' },
      'redis-timeout-ms': { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean' },
      'no-pin': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return 'help'
  const base: BenchOptions = { ...DEFAULTS, ...(values.quick ? QUICK : {}) }
  const only = (values.only ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  const unknown = only.filter((id) => !(SCENARIO_IDS as readonly string[]).includes(id))
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIO_IDS.join(', ')}`)
  return {
    ...base,
    durationS: positive('duration', values.duration, base.durationS, false),
    reps: positive('reps', values.reps, base.reps),
    pairedReps: positive('paired-reps', values['paired-reps'], base.pairedReps),
    warmupS: values.warmup === '0' ? 0 : positive('warmup', values.warmup, base.warmupS, false),
    connections: positive('connections', values.connections, base.connections),
    zipfConnections: positive('zipf-connections', values['zipf-connections'], base.zipfConnections),
    zipfWarmupRequests: values['zipf-warmup'] === '0' ? 0 : positive('zipf-warmup', values['zipf-warmup'], base.zipfWarmupRequests),
    zipfPacedRate: positive('zipf-rate', values['zipf-rate'], base.zipfPacedRate),
    zipfPacedDurationS: positive('zipf-paced-duration', values['zipf-paced-duration'], base.zipfPacedDurationS, false),
    purgeTrials: positive('purge-trials', values['purge-trials'], base.purgeTrials),
    redisTimeoutMs: positive('redis-timeout-ms', values['redis-timeout-ms'], base.redisTimeoutMs),
    seed: values.seed === undefined ? base.seed : Math.trunc(Number(values.seed)),
    pin: !values['no-pin'],
    only,
    outDir: values.out ?? base.outDir,
  }
}
