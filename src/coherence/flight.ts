/**
 * @module In-isolate single-flight: one origin fetch per key per isolate.
 *
 * Workers forbid sharing I/O objects across requests and warn when a promise created by one request
 * settles in another (reference/upstash-and-workers.md §4.2; landscape.md §3.5 "isolate poisoning").
 * So waiters never await the leader's promise: the leader publishes a plain value into a slot, and
 * each waiter polls the slot with its own timers until a deadline, then falls back to fetching itself.
 */

/** What a finished flight leaves for its waiters: plain data only. */
export type FlightResult<T> = { kind: 'value'; value: T } | { kind: 'unshareable'; reason: string }

interface Slot<T> {
  result: FlightResult<T> | undefined
  startedAt: number
}

/** Outcome of {@link SingleFlight.join}. */
export type Joined<T> =
  | { role: 'leader'; publish(result: FlightResult<T>): void }
  | { role: 'waiter'; wait(deadlineMs: number): Promise<FlightResult<T> | 'timeout'> }

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class SingleFlight<T> {
  readonly #slots = new Map<string, Slot<T>>()
  readonly #now: () => number

  constructor(now: () => number) {
    this.#now = now
  }

  /** Number of flights in progress (for stats and tests). */
  get size(): number {
    return this.#slots.size
  }

  /**
   * Joins the flight for `key`: the first caller becomes the leader and must call `publish` exactly
   * once (in a `finally`); later callers become waiters. A flight older than `staleAfterMs` is
   * considered abandoned and replaced.
   */
  join(key: string, staleAfterMs: number): Joined<T> {
    const existing = this.#slots.get(key)
    if (existing && existing.result === undefined && this.#now() - existing.startedAt < staleAfterMs) {
      return { role: 'waiter', wait: (deadlineMs) => this.#wait(existing, deadlineMs) }
    }
    const slot: Slot<T> = { result: undefined, startedAt: this.#now() }
    this.#slots.set(key, slot)
    return {
      role: 'leader',
      publish: (result) => {
        slot.result = result
        if (this.#slots.get(key) === slot) this.#slots.delete(key)
      },
    }
  }

  async #wait(slot: Slot<T>, deadlineMs: number): Promise<FlightResult<T> | 'timeout'> {
    const deadline = performance.now() + deadlineMs
    let step = 1
    while (slot.result === undefined) {
      if (performance.now() >= deadline) return 'timeout'
      await sleep(step)
      step = Math.min(step * 2, 20)
    }
    return slot.result
  }
}
