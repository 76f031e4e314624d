/**
 * @module A small circuit breaker. After `failures` consecutive failures a tier is skipped for
 * `cooldownMs`; then one trial call is let through (half-open) and its outcome closes or reopens it.
 * Skipping a dead Redis keeps its deadline off every request's latency (design.md §6).
 *
 * Calls run concurrently, so one scheduling stall can fail many in-flight calls at the same instant.
 * Such a burst is not evidence of an outage, so a streak opens the breaker only when its failures are
 * independent: each call started after the previous failure was recorded (a caller that retries after
 * a failure, like the purge-log reader), or the streak spans {@link MIN_STREAK_MS}, or it is ten times
 * longer than the threshold, which is an outage whatever its span.
 *
 * A trial that never reports back (its request was cancelled, or the caller made no call after
 * `allow()`) would keep the breaker half-open forever; a trial older than the cool-down is given up.
 */

/** Shortest span of a failure streak of concurrent calls that opens the breaker. */
export const MIN_STREAK_MS = 1000

/** Breaker states, as reported by the stats endpoint. */
export const BreakerState = { Closed: 'closed', Open: 'open', HalfOpen: 'half-open' } as const
export type BreakerState = (typeof BreakerState)[keyof typeof BreakerState]

export class CircuitBreaker {
  #consecutiveFailures = 0
  /** Failures in the streak whose call started after the previous failure was recorded. */
  #independentFailures = 0
  #streakStartedAt = 0
  #lastFailureAt = Number.NEGATIVE_INFINITY
  #openedAt = 0
  #state: BreakerState = BreakerState.Closed
  /** When the half-open trial was handed out, or undefined when none is in flight. */
  #trialAt: number | undefined
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
      this.#trialAt = undefined
    }
    return this.#state
  }

  /** Whether a call may be made now. In half-open state only one trial call is allowed at a time. */
  allow(now: number): boolean {
    const state = this.state(now)
    if (state === BreakerState.Closed) return true
    if (state === BreakerState.Open) return false
    if (this.#trialAt !== undefined && now - this.#trialAt < this.#cooldownMs) return false
    this.#trialAt = now
    return true
  }

  /** Runs `operation`, recording its success or failure (at `now()`), and passes its outcome on. */
  async record<T>(operation: () => Promise<T>, now: () => number): Promise<T> {
    const startedAt = now()
    let result: T
    try {
      result = await operation()
    } catch (error) {
      this.failure(now(), startedAt)
      throw error
    }
    this.success()
    return result
  }

  /** Records a successful call: closes the breaker. */
  success(): void {
    this.#consecutiveFailures = 0
    this.#independentFailures = 0
    this.#lastFailureAt = Number.NEGATIVE_INFINITY
    this.#state = BreakerState.Closed
    this.#trialAt = undefined
  }

  /**
   * Records a failed call; opens the breaker after enough independent consecutive failures (or a
   * failed trial). `startedAt` is when the failed call began; without it only the streak's span
   * and length count.
   */
  failure(now: number, startedAt?: number): void {
    if (this.#consecutiveFailures === 0) this.#streakStartedAt = now
    this.#consecutiveFailures++
    if (startedAt !== undefined && startedAt >= this.#lastFailureAt) this.#independentFailures++
    this.#lastFailureAt = now
    const streak = this.#consecutiveFailures
    const spread = this.#independentFailures >= this.#failures || now - this.#streakStartedAt >= MIN_STREAK_MS
    if (this.#state === BreakerState.HalfOpen || (streak >= this.#failures && spread) || streak >= this.#failures * 10) {
      this.#state = BreakerState.Open
      this.#openedAt = now
      this.#trialAt = undefined
    }
  }
}
