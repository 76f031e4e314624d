/**
 * @module The health of one Redis (Upstash) database as every caller sees it. The Redis tier and the
 * purge log share it, so:
 *
 * - one circuit breaker covers every call: a hanging or unreachable Redis costs its deadline to the
 *   first few calls (while the breaker decides) and to none after that, whether they were tier lookups
 *   or purge-log reads (design.md §6). Error answers (out of memory, read-only, ...) do not open it:
 *   they cost no more than a result, and Redis still serves reads;
 * - the errors calls met are kept per operation until that operation succeeds again, `/health` reports
 *   them (or {@link RECENT_ERROR_MS} passes), classified, so it can say "fills fail: out-of-memory" for a
 *   Redis that still answers reads, instead of only counting errors.
 */
import { TierError } from '../errors.ts'
import { CircuitBreaker, type BreakerState } from './breaker.ts'

/** What went wrong with a Redis call. */
export const RedisFailure = {
  /** No answer within the deadline (a frozen server, a silent network). */
  Timeout: 'timeout',
  /** No connection, or the REST server could not reach Redis. */
  Unreachable: 'unreachable',
  /** Redis refuses writes: `maxmemory` reached under `noeviction` (`OOM command not allowed`). */
  OutOfMemory: 'out-of-memory',
  /** Redis refuses writes: a read-only replica (`READONLY You can't write against a read only replica`). */
  ReadOnly: 'read-only',
  /** Any other error answer. */
  Error: 'error',
} as const
export type RedisFailure = (typeof RedisFailure)[keyof typeof RedisFailure]

/** How long an operation's last error is reported while nothing of that operation has succeeded since. */
export const RECENT_ERROR_MS = 60_000

/** One operation whose most recent call failed, as `/health` reports it. */
export interface RecentRedisError {
  /** The operation (`lookup`, `fill`, `purge log read`, `purge commit`, `health probe`, ...). */
  operation: string
  reason: RedisFailure
  /** The error text Redis or the network gave, without the command that failed. */
  message: string
  /** How long ago the last failure was, in ms. */
  ageMs: number
  /** Failures of this operation since it last succeeded. */
  count: number
}

/**
 * The error's own text: the Upstash client appends `, command was: [...]` with the command and its
 * arguments (script source, keys, values), which is neither needed nor safe to match or to show.
 */
export const errorText = (error: unknown): string =>
  String((error as Error)?.message ?? error).replace(/, command was: [\s\S]*$/, '').slice(0, 300)

/** Classifies a failed Upstash call by what the client threw. */
export function classifyRedisError(error: unknown): RedisFailure {
  const name = (error as Error)?.name ?? ''
  const message = errorText(error)
  if (name === 'TimeoutError' || name === 'AbortError' || /\b(aborted|timed? ?out)\b/i.test(message)) return RedisFailure.Timeout
  if (/\bOOM\b/.test(message)) return RedisFailure.OutOfMemory
  if (/\bREADONLY\b/.test(message)) return RedisFailure.ReadOnly
  if (name === 'TypeError' || /\b(unavailable|network|connection|ECONNREFUSED|ECONNRESET|fetch failed)\b/i.test(message)) {
    return RedisFailure.Unreachable
  }
  return RedisFailure.Error
}

/** Settings for {@link RedisHealth}. */
export interface RedisHealthConfig {
  /** Consecutive failures that open the breaker. */
  breakerFailures: number
  /** How long an open breaker skips Redis, in ms. */
  breakerCooldownMs: number
  now: () => number
}

interface ErrorRecord {
  reason: RedisFailure
  message: string
  at: number
  count: number
}

export class RedisHealth {
  readonly #breaker: CircuitBreaker
  readonly #now: () => number
  readonly #errors = new Map<string, ErrorRecord>()

  constructor(config: RedisHealthConfig) {
    this.#breaker = new CircuitBreaker({ failures: config.breakerFailures, cooldownMs: config.breakerCooldownMs })
    this.#now = config.now
  }

  /** Whether a call may be made now (the breaker is closed, or this is the half-open trial). */
  allow(): boolean {
    return this.#breaker.allow(this.#now())
  }

  /** The breaker's state: closed, open or half-open. */
  breakerState(): BreakerState {
    return this.#breaker.state(this.#now())
  }

  /**
   * Runs one Redis call: its outcome feeds the breaker and the operation's error record. Failures are
   * rethrown as a {@link TierError} naming the operation and the classified reason.
   */
  async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const startedAt = this.#now()
    try {
      const result = await run()
      this.#breaker.success()
      this.#errors.delete(operation)
      return result
    } catch (cause) {
      const reason = classifyRedisError(cause)
      // The breaker keeps deadlines off requests: an error answer came back as fast as a result would
      // have (and proves Redis answers), so only silence and lost connections count against it.
      if (reason === RedisFailure.Timeout || reason === RedisFailure.Unreachable) this.#breaker.failure(this.#now(), startedAt)
      else this.#breaker.success()
      const previous = this.#errors.get(operation)
      this.#errors.set(operation, { reason, message: errorText(cause), at: this.#now(), count: (previous?.count ?? 0) + 1 })
      throw new TierError('redis', `${operation} failed (${reason})`, { cause })
    }
  }

  /** Forgets recorded errors (after a health probe succeeded: they are reported once). */
  clearErrors(): void {
    this.#errors.clear()
  }

  /** Operations whose last call failed within {@link RECENT_ERROR_MS}, most recent first. */
  recentErrors(): RecentRedisError[] {
    const now = this.#now()
    const out: RecentRedisError[] = []
    for (const [operation, record] of this.#errors) {
      if (now - record.at > RECENT_ERROR_MS) {
        this.#errors.delete(operation)
        continue
      }
      out.push({ operation, reason: record.reason, message: record.message, ageMs: now - record.at, count: record.count })
    }
    return out.sort((a, b) => a.ageMs - b.ageMs)
  }
}
