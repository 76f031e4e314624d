/**
 * `npm run model`: the fleet cost model (scripts/model/model.ts) for one set of parameters, printed as
 * Markdown tables (or JSON with `--json`). Defaults: the stated example of issue 11. `--help` lists flags.
 */
import { parseArgs } from 'node:util'
import { DEFAULT_PARAMS, runModel, type ModelParams } from './model.ts'
import { formatReport } from './report.ts'

export const USAGE = `npm run model -- [flags]
  --isolates N            active isolates worldwide            (default ${DEFAULT_PARAMS.isolates})
  --data-centres N        data centres they run in             (default ${DEFAULT_PARAMS.dataCentres})
  --rps N                 requests per second worldwide        (default ${DEFAULT_PARAMS.requestsPerSecond})
  --keys N                distinct keys (URLs)                 (default ${DEFAULT_PARAMS.keys})
  --zipf S                Zipf exponent of key popularity      (default ${DEFAULT_PARAMS.zipfS})
  --object-bytes N        body bytes per object                (default ${DEFAULT_PARAMS.objectBytes})
  --ttl S                 object lifetime in seconds           (default ${DEFAULT_PARAMS.ttlSeconds})
  --purges N              URL purges per second                (default ${DEFAULT_PARAMS.purgesPerSecond})
  --purge-keys K          popular | uniform                    (default ${DEFAULT_PARAMS.purgeKeys})
  --delta-ms N            coherence bound δ in ms              (default ${DEFAULT_PARAMS.deltaMs})
  --memory-bytes N        memory tier budget per isolate       (default ${DEFAULT_PARAMS.memoryBudgetBytes})
  --edge-objects N        edge capacity per data centre        (default unbounded)
  --json                  print the result as JSON`

/** Parses the command line into model parameters; throws a TypeError naming the flag on bad input. */
export function parseModelArgs(argv: string[]): { params: ModelParams; json: boolean; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      isolates: { type: 'string' },
      'data-centres': { type: 'string' },
      rps: { type: 'string' },
      keys: { type: 'string' },
      zipf: { type: 'string' },
      'object-bytes': { type: 'string' },
      ttl: { type: 'string' },
      purges: { type: 'string' },
      'purge-keys': { type: 'string' },
      'delta-ms': { type: 'string' },
      'memory-bytes': { type: 'string' },
      'edge-objects': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  })
  const num = (flag: string, fallback: number): number => {
    const raw = values[flag as keyof typeof values]
    if (raw === undefined) return fallback
    const v = Number(raw)
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v)) throw new TypeError(`--${flag} must be a number, got "${String(raw)}"`)
    return v
  }
  const d = DEFAULT_PARAMS
  const edge = values['edge-objects'] === undefined ? undefined : num('edge-objects', 0)
  const params: ModelParams = {
    ...d,
    isolates: num('isolates', d.isolates),
    dataCentres: num('data-centres', d.dataCentres),
    requestsPerSecond: num('rps', d.requestsPerSecond),
    keys: num('keys', d.keys),
    zipfS: num('zipf', d.zipfS),
    objectBytes: num('object-bytes', d.objectBytes),
    ttlSeconds: num('ttl', d.ttlSeconds),
    purgesPerSecond: num('purges', d.purgesPerSecond),
    purgeKeys: (values['purge-keys'] ?? d.purgeKeys) as ModelParams['purgeKeys'],
    deltaMs: num('delta-ms', d.deltaMs),
    memoryBudgetBytes: num('memory-bytes', d.memoryBudgetBytes),
    ...(edge !== undefined ? { edgeCapacityObjects: edge } : {}),
  }
  return { params, json: values.json === true, help: values.help === true }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { params, json, help } = parseModelArgs(process.argv.slice(2))
    if (help) {
      console.log(USAGE)
    } else {
      const result = runModel(params)
      console.log(json ? JSON.stringify(result, null, 2) : formatReport(result))
    }
  } catch (error) {
    console.error(`npm run model: ${(error as Error).message}\n\n${USAGE}`)
    process.exitCode = 2
  }
}
