/**
 * @module
 * Test and benchmark switches: request statistics and injected faults (latency, errors, downtime,
 * hangs). They are reachable in-process and over HTTP under `/__control/`, so tests that run the
 * worker inside workerd, and the benchmark, can drive a server running in another process.
 */
import { HttpError } from './errors.ts'

/** A fault applied to every API request (never to `/__control/*`). */
export type Fault = {
  /** Delay before handling each request, in milliseconds. @default 0 */
  readonly latencyMs?: number
  /**
   * - `ok`: normal service.
   * - `error`: answer 500 `{"error":…}` without touching Redis.
   * - `down`: destroy the socket without answering (the client sees a connection reset).
   * - `hang`: never answer, until the fault changes or the server closes.
   * @default 'ok'
   */
  readonly mode?: 'ok' | 'error' | 'down' | 'hang'
}

/** Counters since start or the last reset. */
export type Stats = {
  /** API requests received (`/`, `/pipeline`, `/multi-exec` and the path form), including rejected ones. */
  readonly requests: number
  /** Commands in requests that were well-formed (a pipeline of 3 counts 3). */
  readonly commands: number
  /** Requests per endpoint: `/`, `/pipeline`, `/multi-exec`, or `/<command>` for the path form. */
  readonly byPath: Readonly<Record<string, number>>
  /** Global mode only: requests served by the `primary` and by the `replica`. */
  readonly byNode?: Readonly<Record<string, number>>
}

/** What the HTTP layer should do with an API request after the fault has been applied. */
export type FaultAction = 'handle' | 'error' | 'down'

const MODES = new Set(['ok', 'error', 'down', 'hang'])

/** Holds the current fault and the counters, and parks requests while the fault is `hang`. */
export class ControlState {
  #fault: Fault = {}
  #requests = 0
  #commands = 0
  #byPath = new Map<string, number>()
  /** Present in global mode only, so single-region stats keep their shape. */
  #byNode: Map<string, number> | undefined
  #closed = false
  /** Resolvers of requests parked by `hang`, released when the fault changes or the server closes. */
  readonly #parked = new Set<() => void>()
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor(options: { global?: boolean } = {}) {
    if (options.global === true) this.#byNode = new Map()
  }

  /** Current fault. */
  get fault(): Fault {
    return this.#fault
  }

  /** Replaces the fault (`{}` restores normal service) and releases requests parked by a hang. */
  setFault(fault: Fault): void {
    this.#fault = parseFault(fault)
    if (this.#fault.mode !== 'hang') this.#release()
  }

  /** Counts one API request against its endpoint key. */
  countRequest(key: string): void {
    this.#requests += 1
    this.#byPath.set(key, (this.#byPath.get(key) ?? 0) + 1)
  }

  /** Global mode: counts a request served by `node`. */
  countNode(node: string): void {
    this.#byNode?.set(node, (this.#byNode.get(node) ?? 0) + 1)
  }

  /** Counts the commands of a well-formed request. */
  countCommands(count: number): void {
    this.#commands += count
  }

  /** A snapshot of the counters. */
  stats(): Stats {
    const stats = { requests: this.#requests, commands: this.#commands, byPath: Object.fromEntries(this.#byPath) }
    return this.#byNode === undefined ? stats : { ...stats, byNode: Object.fromEntries(this.#byNode) }
  }

  /** Zeroes the counters. */
  resetStats(): void {
    this.#requests = 0
    this.#commands = 0
    this.#byPath = new Map()
    if (this.#byNode !== undefined) this.#byNode = new Map()
  }

  /**
   * Applies the current fault to one request: waits `latencyMs`, then, while the mode is `hang`, waits
   * for it to change; then reports what to do. A request parked by `hang` is handled normally once the
   * fault is cleared, and reports `down` if the server closes first.
   */
  async apply(): Promise<FaultAction> {
    const latency = this.#fault.latencyMs ?? 0
    if (latency > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#timers.delete(timer)
          resolve()
        }, latency)
        this.#timers.add(timer)
      })
    }
    while (this.#fault.mode === 'hang') {
      await new Promise<void>((resolve) => this.#parked.add(resolve))
      if (this.#closed) return 'down'
    }
    const mode = this.#fault.mode
    return mode === 'error' || mode === 'down' ? mode : 'handle'
  }

  /** Releases parked requests and pending delays; call when the server closes. */
  close(): void {
    this.#closed = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    this.#release()
  }

  #release(): void {
    for (const resolve of [...this.#parked]) resolve()
    this.#parked.clear()
  }
}

/** Validates a fault received over HTTP or from code; throws {@link HttpError} 400 with the reason. */
export function parseFault(value: unknown): Fault {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'ERR fault must be a JSON object like {"mode":"error","latencyMs":100}')
  }
  const { latencyMs, mode, ...unknown } = value as Record<string, unknown>
  const extra = Object.keys(unknown)
  if (extra.length > 0) throw new HttpError(400, `ERR unknown fault field(s): ${extra.join(', ')}`)
  if (latencyMs !== undefined && (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0)) {
    throw new HttpError(400, 'ERR fault.latencyMs must be a non-negative number')
  }
  if (mode !== undefined && (typeof mode !== 'string' || !MODES.has(mode))) {
    throw new HttpError(400, 'ERR fault.mode must be one of ok, error, down, hang')
  }
  return { ...(latencyMs === undefined ? {} : { latencyMs }), ...(mode === undefined ? {} : { mode: mode as Fault['mode'] }) }
}

/**
 * Answers `/__control/*`: `GET stats`, `POST reset`, `GET|POST fault` (POST body: a {@link Fault}).
 * @example curl -X POST localhost:8079/__control/fault -d '{"mode":"down"}'
 */
export function handleControl(state: ControlState, method: string, name: string, body: string): { status: number; json: string } {
  const ok = (value: unknown) => ({ status: 200, json: JSON.stringify(value) })
  if (name === 'stats' && method === 'GET') return ok(state.stats())
  if (name === 'reset' && method === 'POST') {
    state.resetStats()
    return ok({ ok: true })
  }
  if (name === 'fault' && method === 'GET') return ok(state.fault)
  if (name === 'fault' && method === 'POST') {
    let value: unknown
    try {
      value = JSON.parse(body === '' ? '{}' : body)
    } catch {
      throw new HttpError(400, 'ERR fault body is not JSON')
    }
    state.setFault(parseFault(value))
    return ok({ ok: true, fault: state.fault })
  }
  if (['stats', 'reset', 'fault'].includes(name)) throw new HttpError(405, `ERR method ${method} not allowed on /__control/${name}`)
  throw new HttpError(404, `ERR unknown control endpoint /__control/${name}; try stats, reset or fault`)
}
