/**
 * @module The fault switch: makes the whole origin slow, failing, silent or rude on demand, so tests and the
 * benchmark can exercise stale-if-error, deadlines, network errors and broken answers (design §6) without
 * special URLs. Control routes (`/__origin/*`) are never affected.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { WIRE_FAULT_MODES } from './wire-faults.ts'

/**
 * `ok` answers normally; `error` answers `status`; `timeout` holds the request until the fault changes;
 * `headers-never` holds it until the client or server goes away (a fault change does not release it);
 * `reset` drops the connection before any answer. The wire faults (`wire-faults.ts`) let the route answer
 * and then send that answer broken.
 */
export const FAULT_MODES = ['ok', 'error', 'timeout', 'headers-never', 'reset', ...WIRE_FAULT_MODES] as const
export type FaultMode = (typeof FAULT_MODES)[number]

/** The complete fault state. */
export interface Fault {
  mode: FaultMode
  /** Status sent in `error` mode. @default 503 */
  status: number
  /** Delay before any non-control request is handled. @default 0 (or the `latencyMs` start option) */
  latencyMs: number
}

/** A change to the fault state; fields left out keep their current value. */
export type FaultPatch = Partial<Fault>

/** Default status for `error` mode. */
export const DEFAULT_FAULT_STATUS = 503

const MAX_LATENCY_MS = 600_000

/**
 * Validates an untrusted fault patch (from JSON or a test); returns it typed, or an error message.
 *
 * @example
 * parseFaultPatch({ mode: 'error', status: 500 }) // { mode: 'error', status: 500 }
 * parseFaultPatch({ mode: 'drip' })             // { mode: 'drip' }
 * parseFaultPatch({ mode: 'down' })              // 'mode must be one of ok, error, timeout, headers-never, reset, status-999, …'
 */
export function parseFaultPatch(input: unknown): FaultPatch | string {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return 'fault must be a JSON object'
  const { mode, status, latencyMs, ...rest } = input as Record<string, unknown>
  const unknown = Object.keys(rest)
  if (unknown.length > 0) return `unknown fault field(s): ${unknown.join(', ')}`
  const patch: FaultPatch = {}
  if (mode !== undefined) {
    if (!(FAULT_MODES as readonly unknown[]).includes(mode)) return `mode must be one of ${FAULT_MODES.join(', ')}`
    patch.mode = mode as FaultMode
  }
  if (status !== undefined) {
    if (!Number.isInteger(status) || (status as number) < 400 || (status as number) > 599) return 'status must be an integer 400..599'
    patch.status = status as number
  }
  if (latencyMs !== undefined) {
    if (!Number.isInteger(latencyMs) || (latencyMs as number) < 0 || (latencyMs as number) > MAX_LATENCY_MS) {
      return `latencyMs must be an integer 0..${MAX_LATENCY_MS}`
    }
    patch.latencyMs = latencyMs as number
  }
  return patch
}

/** Holds the current fault and the requests a `timeout` fault is holding. */
export class FaultSwitch {
  readonly #initial: Fault
  #current: Fault
  /** Wakers for requests held by `timeout` or `headers-never`; called whenever the fault changes. */
  readonly #held = new Set<() => void>()

  constructor(initial: Fault) {
    this.#initial = { ...initial }
    this.#current = { ...initial }
  }

  get current(): Fault {
    return { ...this.#current }
  }

  /** Number of requests currently held by a `timeout` or `headers-never` fault. */
  get held(): number {
    return this.#held.size
  }

  /** Applies a validated patch and wakes held requests so they re-check the new state. */
  set(patch: FaultPatch): Fault {
    this.#current = { ...this.#current, ...patch }
    for (const wake of [...this.#held]) wake()
    return this.current
  }

  /** Back to the state the server started with. */
  reset(): Fault {
    return this.set(this.#initial)
  }

  /**
   * Waits out the latency and any `timeout` or `headers-never` fault, then says what to do: the mode to act on, or `aborted`
   * when the client left or the server is closing.
   */
  async gate(signal: AbortSignal): Promise<FaultMode | 'aborted'> {
    const { latencyMs } = this.#current
    if (latencyMs > 0) {
      try {
        await sleep(latencyMs, undefined, { signal })
      } catch {
        return 'aborted'
      }
    }
    while (this.#current.mode === 'timeout' && !signal.aborted) await this.#hold(signal)
    // Headers never come: only the client leaving (or the server closing) ends the wait.
    if (this.#current.mode === 'headers-never') while (!signal.aborted) await this.#hold(signal)
    return signal.aborted ? 'aborted' : this.#current.mode
  }

  /** Waits for the next fault change or for `signal` to abort. */
  #hold(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#held.delete(wake)
        signal.removeEventListener('abort', wake)
        resolve()
      }
      this.#held.add(wake)
      signal.addEventListener('abort', wake, { once: true })
    })
  }
}
