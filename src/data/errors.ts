/**
 * @module The data API's own error: a loader that passed its hard timeout. Misuse is a `TypeError` (a bad
 * argument) or a `ConfigError` (a bad option), as everywhere in tiercache.
 */

/** The loader did not settle within `hardTimeout` and no stale value could be served instead. */
export class LoaderTimeoutError extends Error {
  static readonly code = 'E_LOADER_TIMEOUT'
  readonly code = LoaderTimeoutError.code
  override readonly name = 'LoaderTimeoutError'
  /** The data key (as given, without its namespace). */
  readonly key: string
  readonly timeoutMs: number
  constructor(key: string, timeoutMs: number) {
    super(`[tiercache] the loader for "${key}" did not finish within hardTimeout (${timeoutMs} ms); it keeps running and fills the cache if it succeeds`)
    this.key = key
    this.timeoutMs = timeoutMs
  }
}
