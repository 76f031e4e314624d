/**
 * @module The few named errors tiercache throws. Each has a stable `code`; `cause` is preserved.
 * Tier failures never reach a client: they are recorded in the lookup status and the lookup falls through.
 */

/** A configuration value is missing or invalid. Thrown once, when options are resolved. */
export class ConfigError extends Error {
  static readonly code = 'E_CONFIG'
  readonly code = ConfigError.code
  override readonly name = 'ConfigError'
  constructor(message: string) {
    super(`[tiercache] invalid configuration: ${message}`)
  }
}

/**
 * What went wrong with the origin: `timeout` (no answer, or a body that stalled, within the deadline),
 * `network` (unreachable, connection refused or reset before an answer), `invalid` (an answer no HTTP
 * message can carry, such as status 999 or an interim 1xx handed back as final), `body` (the body broke
 * off part-way).
 */
export type OriginFailure = 'timeout' | 'network' | 'invalid' | 'body'

/** The origin did not answer in time, could not be reached, or answered with something unusable. */
export class OriginError extends Error {
  static readonly code = 'E_ORIGIN'
  readonly code = OriginError.code
  override readonly name = 'OriginError'
  readonly kind: OriginFailure
  constructor(message: string, kind: OriginFailure, options?: { cause?: unknown }) {
    super(message, options)
    this.kind = kind
  }
}

/** A Redis (Upstash) call failed, timed out or was skipped by the circuit breaker. */
export class TierError extends Error {
  static readonly code = 'E_TIER'
  readonly code = TierError.code
  override readonly name = 'TierError'
  readonly tier: string
  constructor(tier: string, message: string, options?: { cause?: unknown }) {
    super(`[${tier}] ${message}`, options)
    this.tier = tier
  }
}

/**
 * A stored envelope could not be decoded: unknown format version, truncated or corrupt bytes, or meta
 * that is not a valid record. Callers treat it as a miss (and may delete the key), never as a failure.
 */
export class CodecError extends Error {
  static readonly code = 'E_CODEC'
  readonly code = CodecError.code
  override readonly name = 'CodecError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(`[codec] ${message}`, options)
  }
}

/** Every error class by code, for `instanceof`-free checks across bundles. */
export const errors = {
  [ConfigError.code]: ConfigError,
  [OriginError.code]: OriginError,
  [TierError.code]: TierError,
  [CodecError.code]: CodecError,
} as const
