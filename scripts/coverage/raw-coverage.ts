/**
 * @module The raw coverage a worker process leaves behind: V8 precise coverage of the one bundle it ran,
 * plus which bundle that was. One JSON file per workerd process, written on dispose into the directory
 * named by `TIERCACHE_COVERAGE_DIR`, read back by `npm run coverage` to map onto `src/`.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Profiler } from 'node:inspector'

/** The environment variable that turns coverage on for every worker process the tests start. */
export const COVERAGE_DIR_ENV = 'TIERCACHE_COVERAGE_DIR'

const FORMAT = 'tiercache-workerd-coverage/1'

export interface RawWorkerdCoverage {
  format: typeof FORMAT
  /** Absolute path of the bundle the worker ran; its source map is `${scriptPath}.map`. */
  scriptPath: string
  /** SHA-256 of the bundle when the worker started: the merge refuses a bundle rebuilt since. */
  scriptSha256: string
  /** `Profiler.takePreciseCoverage` (callCount, detailed) for that script only. */
  functions: Profiler.FunctionCoverage[]
}

/** SHA-256 (hex) of a file's bytes. */
export const sha256File = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex')

/** Writes one worker process's coverage into `dir` (created if missing) under a unique name. */
export function writeRawCoverage(dir: string, coverage: Omit<RawWorkerdCoverage, 'format'>): string {
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `workerd-${process.pid}-${randomUUID().slice(0, 8)}.json`)
  writeFileSync(file, JSON.stringify({ format: FORMAT, ...coverage }))
  return file
}

/** Every raw coverage file in `dir` (none when it does not exist). */
export function readRawCoverage(dir: string): RawWorkerdCoverage[] {
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.startsWith('workerd-') && n.endsWith('.json'))
  } catch {
    return []
  }
  return names.sort().map((name) => {
    const raw = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as RawWorkerdCoverage
    if (raw.format !== FORMAT) throw new Error(`${name}: unknown coverage format ${String(raw.format)}`)
    return raw
  })
}
