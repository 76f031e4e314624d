/**
 * @module A small circuit breaker. After `failures` consecutive failures a tier is skipped for
 * `cooldownMs`; then one trial call is let through (half-open) and its outcome closes or reopens it.
 * Skipping a dead Redis keeps its deadline off every request's latency (design.md §6).
 *
 * Calls run concurrently, so one scheduling stall can fail many in-flight calls at the same instant.
 * The streak must therefore also span {@link MIN_STREAK_MS} — unless it is ten times longer than the
 * threshold, which is an outage whatever its span.
 */

/** Shortest span of a failure streak that opens the breaker. */
export const MIN_STREAK_MS = 1000

/** Breaker states, as reported by the stats endpoint. */
export const BreakerState = { Closed: 'closed', Open: 'open', HalfOpen: 'half-open' } as const
export type BreakerState = (typeof BreakerState)[keyof typeof BreakerState]

export class CircuitBreaker {
  #consecutiveFailures = 0
  #streakStartedAt = 0
  #openedAt = 0
  #state: BreakerState = BreakerState.Closed
  #trialInFlight = false
  readonly #failures: number
  readonly #cooldownMs: number

  constructor(options: { failures: number; cooldownMs: number }) {
    this.#failures = options.failures
    this.#cooldownMs = options.cooldownMs
  }

  /** Current state at `now` (an open breaker turns half-open once its cool-down has passed). */
  state(now: number): BreakerState {
    if (this.#state === BreakerState.Open && now - this.#openedAt >= this.#cooldownMs) {
      this.#state = BreakerState.HalfOpen
      this.#trialInFlight = false
    }
    return this.#state
  }

  /** Whether a call may be made now. In half-open state only one trial call is allowed at a time. */
  allow(now: number): boolean {
    const state = this.state(now)
    if (state === BreakerState.Closed) return true
    if (state === BreakerState.HalfOpen && !this.#trialInFlight) {
      this.#trialInFlight = true
      return true
    }
    return false
  }

  /** Runs `operation`, recording its success or failure (at `now()`), and passes its outcome on. */
  async record<T>(operation: () => Promise<T>, now: () => number): Promise<T> {
    let result: T
    try {
      result = await operation()
    } catch (error) {
      this.failure(now())
      throw error
    }
    this.success()
    return result
  }

  /** Records a successful call: closes the breaker. */
  success(): void {
    this.#consecutiveFailures = 0
    this.#state = BreakerState.Closed
    this.#trialInFlight = false
  }

  /** Records a failed call; opens the breaker after enough consecutive failures (or a failed trial). */
  failure(now: number): void {
    if (this.#consecutiveFailures === 0) this.#streakStartedAt = now
    this.#consecutiveFailures++
    const streak = this.#consecutiveFailures
    const sustained = streak >= this.#failures && now - this.#streakStartedAt >= MIN_STREAK_MS
    if (this.#state === BreakerState.HalfOpen || sustained || streak >= this.#failures * 10) {
      this.#state = BreakerState.Open
      this.#openedAt = now
      this.#trialInFlight = false
    }
  }
}
