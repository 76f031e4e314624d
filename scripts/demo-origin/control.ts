/**
 * @module Control endpoints under `/__origin/`: let a test or the benchmark drive the origin over HTTP when
 * it runs in another process (`npm run dev`). Not counted in stats, not subject to faults, never cacheable.
 * Unauthenticated: the demo origin is for local use only.
 */
import { jsonReply, problem, type Route } from './http.ts'
import { parseFaultPatch, type Fault, type FaultPatch } from './faults.ts'
import type { OriginStats, RequestRecord } from './stats.ts'

/** Path prefix of every control route. */
export const CONTROL_PREFIX = '/__origin/'

/** What the control routes act on; supplied by the server. */
export interface ControlTarget {
  stats(): OriginStats
  requestLog(): RequestRecord[]
  fault(): Fault
  setFault(patch: FaultPatch): Fault
  /** Stats, items and faults back to their start state. */
  reset(): void
  /** Responses a `drip` fault is holding. */
  dripping(): number
  /** Lets every held `drip` body finish; returns how many. */
  releaseDrip(): number
}

const NO_STORE = { 'Cache-Control': 'no-store' }

/** The control routes. */
export function controlRoutes(target: ControlTarget): Route[] {
  return [
    {
      methods: ['GET'],
      pattern: '/__origin/stats',
      handle: () => jsonReply(target.stats(), NO_STORE),
    },
    {
      methods: ['GET'],
      pattern: '/__origin/log',
      handle: () => jsonReply(target.requestLog(), NO_STORE),
    },
    {
      methods: ['POST'],
      pattern: '/__origin/reset',
      handle: () => {
        target.reset()
        return jsonReply({ ok: true, fault: target.fault() }, NO_STORE)
      },
    },
    {
      methods: ['GET'],
      pattern: '/__origin/fault',
      handle: () => jsonReply(target.fault(), NO_STORE),
    },
    {
      methods: ['POST'],
      pattern: '/__origin/fault',
      handle: (req) => {
        let input: unknown
        try {
          input = JSON.parse(new TextDecoder().decode(req.body))
        } catch {
          return problem(400, 'expected a JSON body like {"mode":"error","status":503,"latencyMs":0}')
        }
        const patch = parseFaultPatch(input)
        return typeof patch === 'string' ? problem(400, patch) : jsonReply(target.setFault(patch), NO_STORE)
      },
    },
    {
      methods: ['GET'],
      pattern: '/__origin/drip',
      handle: () => jsonReply({ held: target.dripping() }, NO_STORE),
    },
    {
      methods: ['POST'],
      pattern: '/__origin/drip/release',
      handle: () => jsonReply({ released: target.releaseDrip() }, NO_STORE),
    },
  ]
}
